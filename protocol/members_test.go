package protocol_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

func TestPeer_Members(t *testing.T) {
	h := member(t, 3, 5, 5, 1, 2, 3, 4, 5)
	h.now += 300 * time.Millisecond
	h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 2, Ballot: b01, ViewID: 5, Incarnation: 7})
	h.now += 200 * time.Millisecond
	h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 4, Ballot: b01, ViewID: 5})
	got := h.p.Members()
	want := []protocol.MemberStatus{
		{ID: 1, Silent: 500 * time.Millisecond, Watched: true, Leader: true},
		{ID: 2, Incarnation: 7, Silent: 200 * time.Millisecond, Watched: true},
		{ID: 3, Incarnation: h.p.Incarnation()},
		{ID: 4, Watched: true},
		{ID: 5, Silent: 500 * time.Millisecond, Watched: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Members() (-want +got):\n%s", diff)
	}
}
