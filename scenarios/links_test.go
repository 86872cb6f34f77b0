package scenarios_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

func TestAction_CutLinks(t *testing.T) {
	l := func(from, to protocol.PeerID) scenarios.Link { return scenarios.Link{From: from, To: to} }
	cases := []struct {
		name string
		a    scenarios.Action
		want []scenarios.Link
	}{
		{"isolate", scenarios.Action{Kind: scenarios.ActIsolate, Peer: 2}, []scenarios.Link{l(2, 1), l(1, 2), l(2, 3), l(3, 2)}},
		{"split", scenarios.Action{Kind: scenarios.ActSplit, Groups: [][]protocol.PeerID{{1}, {2, 3}}},
			[]scenarios.Link{l(1, 2), l(1, 3), l(2, 1), l(3, 1)}},
		{"cut", scenarios.Action{Kind: scenarios.ActCut, From: 3, To: 1}, []scenarios.Link{l(3, 1)}},
		{"not a partition", scenarios.Action{Kind: scenarios.ActKill, Peers: []protocol.PeerID{1}}, nil},
	}
	for _, c := range cases {
		if diff := cmp.Diff(c.want, c.a.CutLinks(3)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
}
