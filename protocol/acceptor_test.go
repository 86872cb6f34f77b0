package protocol_test

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

var (
	b01 = protocol.InitialBallot
	b12 = protocol.Ballot{Round: 1, Leader: 2}
	b23 = protocol.Ballot{Round: 2, Leader: 3}
)

func del(p protocol.PeerID) protocol.Op { return protocol.Op{Kind: protocol.OpDel, Peer: p} }
func add(p protocol.PeerID, inc uint64) protocol.Op {
	return protocol.Op{Kind: protocol.OpAdd, Peer: p, Incarnation: inc}
}

func TestReq_AcceptedThenDuplicateAnsweredAgain(t *testing.T) {
	h := member(t, 3, 5, 5, 1, 2, 3, 4, 5)
	req := protocol.Message{Type: protocol.MsgReq, From: 1, Ballot: b01, ViewID: 5, Op: del(5)}
	h.expect([]string{"OK 3->1 b=(0,1) v=5"}, h.recv(req))
	h.expect([]string{"OK 3->1 b=(0,1) v=5"}, h.recv(req))
	// The accepted operation is what a candidate learns.
	h.expect([]string{"PENDING 3->2 b=(1,2) v=5 [1,2,3,4,5] DEL 5@(0,1)"},
		h.recv(protocol.Message{Type: protocol.MsgNewLeader, From: 2, Ballot: b12, ViewID: 5}))
}

func TestReq_LowerBallotNacked(t *testing.T) {
	h := member(t, 3, 5, 5, 1, 2, 3, 4, 5)
	h.recv(protocol.Message{Type: protocol.MsgNewLeader, From: 2, Ballot: b12, ViewID: 5})
	h.expect([]string{"NACK 3->1 b=(1,2) v=5"},
		h.recv(protocol.Message{Type: protocol.MsgReq, From: 1, Ballot: b01, ViewID: 5, Op: del(5)}))
}

func TestReq_OtherViewNacked(t *testing.T) {
	h := member(t, 3, 5, 5, 1, 2, 3, 4, 5)
	for _, v := range []protocol.ViewID{4, 6} {
		h.expect([]string{"NACK 3->1 b=(0,1) v=5"},
			h.recv(protocol.Message{Type: protocol.MsgReq, From: 1, Ballot: b01, ViewID: v, Op: del(5)}))
	}
}

func TestReq_FromOutsiderOfOlderViewToldNotMember(t *testing.T) {
	h := member(t, 3, 6, 5, 1, 2, 3, 4, 5)
	h.expect([]string{"NOTMEMBER 3->6 v=5 leader=1"},
		h.recv(protocol.Message{Type: protocol.MsgReq, From: 6, Ballot: b01, ViewID: 4, Op: del(5)}))
	// An outsider in a newer view: this peer is the one behind, and says so.
	h.expect([]string{"NACK 3->6 b=(0,1) v=5"},
		h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 6, Ballot: b01, ViewID: 9}))
}

func TestNewView_OutOfOrderAndDuplicate(t *testing.T) {
	h := member(t, 3, 5, 5, 1, 2, 3, 4, 5)
	// View 7 arrives before view 6: the peer catches up, skipping 6, and
	// answers the leader it promised with that promise at view 7.
	promise7 := "PENDING 3->1 b=(0,1) v=7 [1,2,3] NOTHING@(0,0)"
	h.expect([]string{promise7},
		h.recv(protocol.Message{Type: protocol.MsgNewView, From: 1, Ballot: b01, ViewID: 7, Members: ids(1, 2, 3), Op: del(4)}))
	h.expectNotes("peer 3 view-installed view=7 leader=1 [1,2,3]")
	// The late view 6 and a duplicate of 7 change nothing but are
	// acknowledged: the old one by showing view 7, the duplicate again.
	for v, want := range map[protocol.ViewID]string{6: "HEARTBEAT 3->1 b=(0,1) v=7", 7: promise7} {
		h.expect([]string{want},
			h.recv(protocol.Message{Type: protocol.MsgNewView, From: 1, Ballot: b01, ViewID: v, Members: ids(1, 2, 3), Op: del(4)}))
		h.expectNotes()
	}
	if got := h.p.View().String(); got != "7[1,2,3]" {
		t.Errorf("view = %s, want 7[1,2,3]", got)
	}
}

func TestNewView_InstallClearsOlderPending(t *testing.T) {
	h := member(t, 3, 5, 5, 1, 2, 3, 4, 5)
	h.recv(protocol.Message{Type: protocol.MsgReq, From: 1, Ballot: b01, ViewID: 5, Op: del(5)})
	h.recv(protocol.Message{Type: protocol.MsgNewView, From: 1, Ballot: b01, ViewID: 6, Members: ids(1, 2, 3, 4), Op: del(5)})
	h.expect([]string{"PENDING 3->2 b=(1,2) v=6 [1,2,3,4] NOTHING@(0,0)"},
		h.recv(protocol.Message{Type: protocol.MsgNewLeader, From: 2, Ballot: b12, ViewID: 6}))
}

func TestNewView_WithoutSelfRemovesAndRejoins(t *testing.T) {
	h := member(t, 5, 5, 5, 1, 2, 3, 4, 5)
	h.expect([]string{"JOIN 5->2 ADD 5#1 knew v=6"},
		h.recv(protocol.Message{Type: protocol.MsgNewView, From: 2, Ballot: b12, ViewID: 6, Members: ids(1, 2, 3, 4), Op: del(5)}))
	h.expectNotes("peer 5 removed view=6 leader=2")
	if line, _ := protocol.FormatNote(h.last.Notes[0]); line != `{peer_id:5, view_id: 6, leader: 2, message:"removed from view"}` {
		t.Errorf("removal line = %s", line)
	}
	// It is out: heartbeats stop.
	h.expect(nil, h.fire(protocol.TimerHeartbeat, 0))
}

func TestNewView_WithoutSelfAndRejoinOff(t *testing.T) {
	cfg := protocol.DefaultConfig()
	cfg.Rejoin = false
	h := newHarness(t, 5, 5, cfg)
	h.step(protocol.Event{Type: protocol.EventStart, Incarnation: 1})
	h.recv(protocol.Message{Type: protocol.MsgNewView, From: 1, Ballot: b01, ViewID: 5, Members: ids(1, 2, 3, 4, 5), Op: add(5, 1)})
	h.expect(nil, h.recv(protocol.Message{Type: protocol.MsgNotMember, From: 2, ViewID: 6, Leader: 2}))
	h.expectNotes("peer 5 removed view=6 leader=2")
}

func TestNewView_FreshProcessEntersOnlyThroughItsOwnAdd(t *testing.T) {
	h := newHarness(t, 3, 5, protocol.DefaultConfig())
	h.step(protocol.Event{Type: protocol.EventStart, Incarnation: 2})
	// A view holding peer 3 that was not made by adding this process: the
	// id stands for the earlier process. Refused.
	h.expect(nil, h.recv(protocol.Message{Type: protocol.MsgNewView, From: 1, Ballot: b01, ViewID: 6, Members: ids(1, 2, 3), Op: del(4)}))
	h.expect(nil, h.recv(protocol.Message{Type: protocol.MsgNewView, From: 1, Ballot: b01, ViewID: 6, Members: ids(1, 2, 3), Op: add(3, 1)}))
	if h.p.View().ID != 0 {
		t.Fatalf("fresh process installed %s", h.p.View())
	}
	h.expect([]string{"PENDING 3->1 b=(0,1) v=8 [1,2,3] NOTHING@(0,0)"},
		h.recv(protocol.Message{Type: protocol.MsgNewView, From: 1, Ballot: b01, ViewID: 8, Members: ids(1, 2, 3), Op: add(3, 2)}))
	h.expectNotes("peer 3 view-installed view=8 leader=1 [1,2,3]")
}

func TestNewLeader_PromiseDuplicateAndLowerBallot(t *testing.T) {
	h := member(t, 4, 5, 5, 1, 2, 3, 4, 5)
	nl := protocol.Message{Type: protocol.MsgNewLeader, From: 3, Ballot: b23, ViewID: 5}
	h.expect([]string{"PENDING 4->3 b=(2,3) v=5 [1,2,3,4,5] NOTHING@(0,0)"}, h.recv(nl))
	if h.p.Leader() != 3 {
		t.Errorf("leader = %d after promising (2,3), want 3", h.p.Leader())
	}
	h.expect([]string{"PENDING 4->3 b=(2,3) v=5 [1,2,3,4,5] NOTHING@(0,0)"}, h.recv(nl))
	h.expect([]string{"NACK 4->2 b=(2,3) v=5"},
		h.recv(protocol.Message{Type: protocol.MsgNewLeader, From: 2, Ballot: b12, ViewID: 5}))
}

func TestNewLeader_BehindCandidateGetsViewFirst(t *testing.T) {
	h := member(t, 4, 5, 6, 1, 2, 3, 4)
	h.expect([]string{
		"NEWVIEW 4->2 b=(0,1) v=6 [1,2,3,4] by ADD 4#1",
		"PENDING 4->2 b=(1,2) v=6 [1,2,3,4] NOTHING@(0,0)",
	}, h.recv(protocol.Message{Type: protocol.MsgNewLeader, From: 2, Ballot: b12, ViewID: 5}))
}

func TestNotMember_StaleIgnored(t *testing.T) {
	h := member(t, 3, 5, 5, 1, 2, 3, 4, 5)
	h.expect(nil, h.recv(protocol.Message{Type: protocol.MsgNotMember, From: 4, ViewID: 4, Leader: 1}))
	h.expectNotes()
	if h.p.View().ID != 5 {
		t.Errorf("a NOTMEMBER naming an older view removed the peer")
	}
}

func TestNewView_SameProcessEntersThroughNamedIncarnation(t *testing.T) {
	// Peer 3 was added as incarnation 4 but lost that NEWVIEW; a later view
	// naming its incarnation is installable, one naming another is not.
	h := newHarness(t, 3, 5, protocol.DefaultConfig())
	h.step(protocol.Event{Type: protocol.EventStart, Incarnation: 4})
	nv := protocol.Message{Type: protocol.MsgNewView, From: 1, Ballot: b01, ViewID: 6, Members: ids(1, 2, 3), Op: del(4), ToIncarnation: 3}
	h.expect(nil, h.recv(nv))
	nv.ToIncarnation = 4
	h.expect([]string{"PENDING 3->1 b=(0,1) v=6 [1,2,3] NOTHING@(0,0)"}, h.recv(nv))
	h.expectNotes("peer 3 view-installed view=6 leader=1 [1,2,3]")
}

// View MaxUint64-1 is the last a peer accepts (MaxUint64 leaves no next
// view), and it is installed like any other.
func TestNewView_LastViewIDInstalled(t *testing.T) {
	h := member(t, 3, 5, 5, 1, 2, 3, 4, 5)
	h.expect([]string{"PENDING 3->1 b=(0,1) v=18446744073709551614 [1,2,3,4] NOTHING@(0,0)"},
		h.recv(protocol.Message{Type: protocol.MsgNewView, From: 1, Ballot: b01, ViewID: math.MaxUint64 - 1, Members: ids(1, 2, 3, 4), Op: del(5)}))
	h.expectNotes("peer 3 view-installed view=18446744073709551614 leader=1 [1,2,3,4]")
	want := protocol.View{ID: math.MaxUint64 - 1, Members: ids(1, 2, 3, 4)}
	if diff := cmp.Diff(want, h.p.View()); diff != "" {
		t.Errorf("view (-want +got):\n%s", diff)
	}
}
