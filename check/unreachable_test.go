package check_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/check"
	"github.com/memberly/memberly/protocol"
)

func TestUnreachable(t *testing.T) {
	view := protocol.Line{Peer: 1, ViewID: 1, Leader: 1, Members: []protocol.PeerID{1}}
	if _, _, ok := check.Unreachable(view); ok {
		t.Errorf("Unreachable(%v) ok, want not ok for a view line", view)
	}

	type unreachable struct {
		P      protocol.PeerID
		Leader bool
		OK     bool
	}
	for _, tc := range []struct {
		message string
		want    unreachable
	}{
		{"peer 5 unreachable", unreachable{5, false, true}},
		{"peer 1 (leader) unreachable", unreachable{1, true, true}},
		{"peer 1024 unreachable", unreachable{1024, false, true}},
		{"peer 1025 unreachable", unreachable{}},
		{"peer 0 unreachable", unreachable{}},
		{"peer 05 unreachable", unreachable{}},
		{"peer  5 unreachable", unreachable{}},
		{"peer 5 (leader)  unreachable", unreachable{}},
		{"peer unreachable", unreachable{}},
		{"peer x unreachable", unreachable{}},
		{"peer 5", unreachable{}},
		{protocol.MessageCrashing, unreachable{}},
		{protocol.MessageRemoved, unreachable{}},
	} {
		l := protocol.Line{Peer: 2, ViewID: 3, Leader: 1, Message: tc.message}
		var got unreachable
		got.P, got.Leader, got.OK = check.Unreachable(l)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Unreachable(Line{Message: %q}) (-want +got):\n%s", tc.message, diff)
		}
		if got.OK {
			if m := protocol.UnreachableMessage(got.P, got.Leader); m != tc.message {
				t.Errorf("UnreachableMessage(%d, %v) = %q, want %q", got.P, got.Leader, m, tc.message)
			}
		}
	}
}
