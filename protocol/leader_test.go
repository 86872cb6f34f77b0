package protocol_test

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

func TestLeader_JoinRunsOneChangeAtATime(t *testing.T) {
	h := leader(t, 3, 5)
	// Every JOIN is answered at once with who leads, then served in turn.
	h.expect([]string{"REDIRECT 1->4 leader=1", "REQ 1->2 b=(0,1) v=3 ADD 4#1", "REQ 1->3 b=(0,1) v=3 ADD 4#1"},
		h.recv(protocol.Message{Type: protocol.MsgJoin, From: 4, Op: add(4, 1)}))
	// A second JOIN waits; a duplicate of the first is dropped.
	h.expect([]string{"REDIRECT 1->5 leader=1"}, h.recv(protocol.Message{Type: protocol.MsgJoin, From: 5, Op: add(5, 1)}))
	h.expect([]string{"REDIRECT 1->4 leader=1"}, h.recv(protocol.Message{Type: protocol.MsgJoin, From: 4, Op: add(4, 1)}))
	// In view [1,2,3] the leader and one OK are a quorum.
	h.expect([]string{
		"NEWVIEW 1->2 b=(0,1) v=4 [1,2,3,4] by ADD 4#1 for #1",
		"NEWVIEW 1->3 b=(0,1) v=4 [1,2,3,4] by ADD 4#1 for #1",
		"NEWVIEW 1->4 b=(0,1) v=4 [1,2,3,4] by ADD 4#1 for #1",
		"REQ 1->2 b=(0,1) v=4 ADD 5#1",
		"REQ 1->3 b=(0,1) v=4 ADD 5#1",
		"REQ 1->4 b=(0,1) v=4 ADD 5#1",
	}, h.recv(protocol.Message{Type: protocol.MsgOK, From: 3, Ballot: b01, ViewID: 3}))
	// The late OK of the finished round is stale.
	h.expect(nil, h.recv(protocol.Message{Type: protocol.MsgOK, From: 2, Ballot: b01, ViewID: 3}))
	if h.p.View().ID != 4 {
		t.Errorf("view = %s, want 4", h.p.View())
	}
}

func TestLeader_RetryTimer(t *testing.T) {
	h := leader(t, 5, 5)
	h.recv(protocol.Message{Type: protocol.MsgLeave, From: 5})
	h.recv(protocol.Message{Type: protocol.MsgOK, From: 2, Ballot: b01, ViewID: 5})
	// 3, 4 and 5 are silent: 5, the peer being removed, is asked too.
	h.expect([]string{"REQ 1->3 b=(0,1) v=5 DEL 5", "REQ 1->4 b=(0,1) v=5 DEL 5", "REQ 1->5 b=(0,1) v=5 DEL 5"},
		h.fire(protocol.TimerRetry, 500*time.Millisecond))
}

func TestLeader_NackWithHigherBallotStepsDown(t *testing.T) {
	h := leader(t, 3, 5)
	h.recv(protocol.Message{Type: protocol.MsgJoin, From: 4, Op: add(4, 1)})
	h.expect(nil, h.recv(protocol.Message{Type: protocol.MsgNack, From: 2, Ballot: b12, ViewID: 3}))
	h.expectNotes("peer 1 stepped-down view=3 leader=2 ballot=(1,2)")
	if h.p.IsLeader() || h.p.Leader() != 2 {
		t.Errorf("after the NACK: leading=%v, follows %d; want following 2", h.p.IsLeader(), h.p.Leader())
	}
	// It no longer retransmits, and redirects joiners to 2.
	h.expect([]string{"REDIRECT 1->5 leader=2"}, h.recv(protocol.Message{Type: protocol.MsgJoin, From: 5, Op: add(5, 1)}))
}

func TestLeader_NackFromLaggingMemberCatchesItUp(t *testing.T) {
	h := leader(t, 3, 5)
	h.recv(protocol.Message{Type: protocol.MsgJoin, From: 4, Op: add(4, 1)})
	h.expect([]string{"NEWVIEW 1->3 b=(0,1) v=3 [1,2,3] by ADD 3#1 for #1", "REQ 1->3 b=(0,1) v=3 ADD 4#1"},
		h.recv(protocol.Message{Type: protocol.MsgNack, From: 3, Ballot: b01, ViewID: 2}))
}

func TestLeader_AntiEntropyOnOldHeartbeat(t *testing.T) {
	h := leader(t, 3, 5)
	h.expect([]string{"NEWVIEW 1->2 b=(0,1) v=3 [1,2,3] by ADD 3#1 for #1"},
		h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 2, Ballot: b01, ViewID: 2}))
	h.expect(nil, h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 2, Ballot: b01, ViewID: 3}))
}

func TestLeader_JoinOfMemberResendsLostView(t *testing.T) {
	h := leader(t, 3, 5)
	// Peer 3 was added last with incarnation 1: its NEWVIEW was lost.
	h.expect([]string{"NEWVIEW 1->3 b=(0,1) v=3 [1,2,3] by ADD 3#1 for #1"},
		h.recv(protocol.Message{Type: protocol.MsgJoin, From: 3, Op: add(3, 1)}))
}

func TestLeader_RestartedMemberIsRemovedThenAdded(t *testing.T) {
	h := leader(t, 3, 5)
	// Peer 2 joins again with a new incarnation: its old process is gone.
	// It is suspected at once, and the others told first; its removal is
	// for the restart, no suspicion, so it waits for no agreement.
	// (The fresh process ignores the REQ: it holds no view.)
	h.expect([]string{
		"HEARTBEAT 1->2 b=(0,1) v=3 suspects=[2]",
		"HEARTBEAT 1->3 b=(0,1) v=3 suspects=[2]",
		"REDIRECT 1->2 leader=1",
		"REQ 1->2 b=(0,1) v=3 DEL 2",
		"REQ 1->3 b=(0,1) v=3 DEL 2",
	}, h.recv(protocol.Message{Type: protocol.MsgJoin, From: 2, Op: add(2, 2)}))
	h.expectNotes(
		"peer 1 suspected view=3 leader=1 subject=2",
		"peer 1 proposed view=3 leader=1 DEL 2 ballot=(0,1)",
	)
	h.expect([]string{
		"NEWVIEW 1->3 b=(0,1) v=4 [1,3] by DEL 2 for #1",
		"NEWVIEW 1->2 b=(0,1) v=4 [1,3] by DEL 2",
		// In view [1,3] the leader alone is a quorum (half, with the
		// lowest id): ADD 2 completes at once.
		"REQ 1->3 b=(0,1) v=4 ADD 2#2",
		"NEWVIEW 1->2 b=(0,1) v=5 [1,2,3] by ADD 2#2 for #2",
		"NEWVIEW 1->3 b=(0,1) v=5 [1,2,3] by ADD 2#2 for #1",
	}, h.recv(protocol.Message{Type: protocol.MsgOK, From: 3, Ballot: b01, ViewID: 3}))
}

func TestLeader_SuspicionClearedBeforeItsTurnIsDropped(t *testing.T) {
	// Behind a leave, where this test once queued DEL 4 behind ADD 5: a
	// member just added has reported nothing yet, so it would veto any
	// agreement in the new view, and DEL 4 would be dropped whether or not
	// 4 is heard again. Behind DEL 5, only the leader hearing 4 drops it.
	h := leader(t, 5, 5)
	h.expect([]string{
		"REQ 1->2 b=(0,1) v=5 DEL 5",
		"REQ 1->3 b=(0,1) v=5 DEL 5",
		"REQ 1->4 b=(0,1) v=5 DEL 5",
		"REQ 1->5 b=(0,1) v=5 DEL 5",
	}, h.recv(protocol.Message{Type: protocol.MsgLeave, From: 5})) // in flight
	h.now += 2 * time.Second
	for _, q := range []protocol.PeerID{2, 3, 5} {
		h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: q, Ballot: b01, ViewID: 5, Members: ids(4)})
	}
	h.now += time.Second
	// 4 is agreed failed.
	h.expect([]string{
		"HEARTBEAT 1->2 b=(0,1) v=5 suspects=[4]",
		"HEARTBEAT 1->3 b=(0,1) v=5 suspects=[4]",
		"HEARTBEAT 1->4 b=(0,1) v=5 suspects=[4]",
		"HEARTBEAT 1->5 b=(0,1) v=5 suspects=[4]",
	}, h.fire(protocol.TimerSuspect, 0))
	h.expectNotes("peer 1 suspected view=5 leader=1 subject=4")
	// Confirmed: DEL 4 is queued behind DEL 5.
	h.expect(nil, h.fire(protocol.TimerSuspect, confirmWait))
	h.expectNotes()
	// Were 4 not heard again, DEL 4 would follow DEL 5.
	w := h.clone()
	w.recv(protocol.Message{Type: protocol.MsgOK, From: 2, Ballot: b01, ViewID: 5})
	w.expect([]string{
		"NEWVIEW 1->2 b=(0,1) v=6 [1,2,3,4] by DEL 5 for #1",
		"NEWVIEW 1->3 b=(0,1) v=6 [1,2,3,4] by DEL 5 for #1",
		"NEWVIEW 1->4 b=(0,1) v=6 [1,2,3,4] by DEL 5 for #1",
		"NEWVIEW 1->5 b=(0,1) v=6 [1,2,3,4] by DEL 5",
		"REQ 1->2 b=(0,1) v=6 DEL 4",
		"REQ 1->3 b=(0,1) v=6 DEL 4",
		"REQ 1->4 b=(0,1) v=6 DEL 4",
	}, w.recv(protocol.Message{Type: protocol.MsgOK, From: 3, Ballot: b01, ViewID: 5}))
	// 4 is heard again before DEL 5 completes: the leader no longer
	// suspects it, and says so; DEL 4 is dropped.
	h.expect([]string{
		"HEARTBEAT 1->2 b=(0,1) v=5",
		"HEARTBEAT 1->3 b=(0,1) v=5",
		"HEARTBEAT 1->4 b=(0,1) v=5",
		"HEARTBEAT 1->5 b=(0,1) v=5",
	}, h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 4, Ballot: b01, ViewID: 5}))
	h.expectNotes("peer 1 suspicion-cleared view=5 leader=1 subject=4")
	h.expect(nil, h.recv(protocol.Message{Type: protocol.MsgOK, From: 2, Ballot: b01, ViewID: 5}))
	h.expect([]string{
		"NEWVIEW 1->2 b=(0,1) v=6 [1,2,3,4] by DEL 5 for #1",
		"NEWVIEW 1->3 b=(0,1) v=6 [1,2,3,4] by DEL 5 for #1",
		"NEWVIEW 1->4 b=(0,1) v=6 [1,2,3,4] by DEL 5 for #1",
		"NEWVIEW 1->5 b=(0,1) v=6 [1,2,3,4] by DEL 5",
	}, h.recv(protocol.Message{Type: protocol.MsgOK, From: 3, Ballot: b01, ViewID: 5}))
	// Once the members show view 6, nothing is left to do.
	for _, q := range []protocol.PeerID{2, 3, 4} {
		h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: q, Ballot: b01, ViewID: 6})
	}
	if !h.p.Idle() {
		t.Errorf("leader not idle after DEL 5: DEL 4 was not dropped")
	}
}

func TestLeader_Evict(t *testing.T) {
	h := leader(t, 3, 5)
	h.expect([]string{"REQ 1->2 b=(0,1) v=3 DEL 3", "REQ 1->3 b=(0,1) v=3 DEL 3"}, h.step(protocol.Event{Type: protocol.EventEvict, Peer: 3}))
	for _, q := range []protocol.PeerID{1, 4} {
		if _, err := h.p.Step(protocol.Event{Type: protocol.EventEvict, Peer: q, Now: h.now}); err == nil {
			t.Errorf("evicting %d (self or not a member) succeeded", q)
		}
	}
	m := member(t, 2, 5, 3, 1, 2, 3)
	if _, err := m.p.Step(protocol.Event{Type: protocol.EventEvict, Peer: 3}); err != protocol.ErrNotLeader {
		t.Errorf("evict at a follower = %v, want ErrNotLeader", err)
	}
}

func TestLeader_LeavesThroughItsOwnQueue(t *testing.T) {
	h := leader(t, 3, 5)
	h.expect([]string{"REQ 1->2 b=(0,1) v=3 DEL 1", "REQ 1->3 b=(0,1) v=3 DEL 1"}, h.step(protocol.Event{Type: protocol.EventLeave}))
	// It never installs a view without itself: it hands it over and stops.
	h.expect([]string{"NEWVIEW 1->2 b=(0,1) v=4 [2,3] by DEL 1 for #1", "NEWVIEW 1->3 b=(0,1) v=4 [2,3] by DEL 1 for #1"},
		h.recv(protocol.Message{Type: protocol.MsgOK, From: 2, Ballot: b01, ViewID: 3}))
	h.expectNotes("peer 1 left view=4 leader=2")
	if !h.last.Stopped {
		t.Errorf("leader did not stop after leaving")
	}
}

func TestLeader_AloneLeaves(t *testing.T) {
	h := leader(t, 1, 3)
	h.expect(nil, h.step(protocol.Event{Type: protocol.EventLeave}))
	h.expectNotes("peer 1 proposed view=1 leader=1 DEL 1 ballot=(0,1)", "peer 1 left view=2 leader=0")
}

func TestLeader_RemovalAsksThePeerRemoved(t *testing.T) {
	// Peer 2 leads [1,2] (peer 1 promised it): {2} alone is no quorum of
	// [1,2], so DEL 1 needs peer 1's own OK, and gets it if 1 is alive.
	h := member(t, 2, 3, 2, 1, 2)
	h.now = 3 * time.Second
	h.fire(protocol.TimerSuspect, 0)
	h.expectNotes("peer 2 suspected view=2 leader=1 subject=1")
	h.fire(protocol.TimerSuspect, confirmWait)
	h.expectNotes("peer 2 candidate view=2 leader=1 ballot=(1,2)")
	h.recv(pending(1, b12, 2, ids(1, 2), protocol.Op{}, protocol.Ballot{}))
	h.expectNotes("peer 2 suspicion-cleared view=2 leader=1 subject=1", "peer 2 leader view=2 leader=2 ballot=(1,2)")
	h.now += 3 * time.Second
	// In a view of two, 2 is 1's only observer: its suspicion alone is
	// agreement, acted on once confirmed.
	h.expect([]string{"HEARTBEAT 2->1 b=(1,2) v=2 suspects=[1]"}, h.fire(protocol.TimerSuspect, 0))
	h.expectNotes("peer 2 suspected view=2 leader=2 subject=1")
	h.expect([]string{"REQ 2->1 b=(1,2) v=2 DEL 1"}, h.fire(protocol.TimerSuspect, confirmWait))
	h.expectNotes("peer 2 proposed view=2 leader=2 DEL 1 ballot=(1,2)")
	h.expect([]string{"REDIRECT 2->3 leader=2"}, h.recv(protocol.Message{Type: protocol.MsgJoin, From: 3, Op: add(3, 1)}))
	// 1's OK clears the suspicion (shared at once), and decides DEL 1.
	h.expect([]string{
		"HEARTBEAT 2->1 b=(1,2) v=2",
		"NEWVIEW 2->1 b=(1,2) v=3 [2] by DEL 1",
		"NEWVIEW 2->3 b=(1,2) v=4 [2,3] by ADD 3#1 for #1",
	}, h.recv(protocol.Message{Type: protocol.MsgOK, From: 1, Ballot: b12, ViewID: 2}))
}

func TestCandidate_RecoveredSelfRemovalIsProposedAgain(t *testing.T) {
	// Peer 2, the old leader, decided DEL 1 in [1,2,3] and crashed; 3 had
	// accepted it. Peer 1, next in line, must re-propose its own removal,
	// not anything else.
	h := newHarness(t, 1, 3, protocol.DefaultConfig())
	h.step(protocol.Event{Type: protocol.EventStart, Incarnation: 1})
	h.recv(protocol.Message{Type: protocol.MsgNewView, From: 3, Ballot: b01, ViewID: 3, Members: ids(1, 2, 3), Op: add(1, 1)})
	h.recv(protocol.Message{Type: protocol.MsgNewLeader, From: 2, Ballot: b12, ViewID: 3})
	h.now = 2 * time.Second
	// 3 reports 2 suspected: with 1's own detector, both observers agree.
	h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 3, Ballot: b12, ViewID: 3, Members: ids(2)})
	h.now = 3 * time.Second
	h.fire(protocol.TimerSuspect, 0)
	h.expectNotes("peer 1 suspected view=3 leader=2 subject=2")
	// Confirmed, the agreement makes 1 campaign.
	h.fire(protocol.TimerSuspect, confirmWait)
	h.expectNotes("peer 1 candidate view=3 leader=2 ballot=(2,1)")
	h.expect([]string{"REQ 1->2 b=(2,1) v=3 DEL 1", "REQ 1->3 b=(2,1) v=3 DEL 1"}, h.recv(pending(3, protocol.Ballot{Round: 2, Leader: 1}, 3, ids(1, 2, 3), del(1), b12)))
	h.expect([]string{
		"NEWVIEW 1->2 b=(2,1) v=4 [2,3] by DEL 1",
		"NEWVIEW 1->3 b=(2,1) v=4 [2,3] by DEL 1",
		"JOIN 1->2 ADD 1#1 knew v=4",
	}, h.recv(protocol.Message{Type: protocol.MsgOK, From: 3, Ballot: protocol.Ballot{Round: 2, Leader: 1}, ViewID: 3}))
}

func TestMember_ViewWithoutItsLeaderNamesTheNextInLine(t *testing.T) {
	// Leader 1 left: the view it handed over does not hold it. Until 2 wins
	// its election, peer 3's line names 2, never a leader outside the view.
	h := member(t, 3, 5, 4, 1, 2, 3, 4)
	h.recv(protocol.Message{Type: protocol.MsgNewView, From: 1, Ballot: b01, ViewID: 5, Members: ids(2, 3, 4),
		Op: protocol.Op{Kind: protocol.OpDel, Peer: 1}})
	h.expectNotes("peer 3 view-installed view=5 leader=2 [2,3,4]")
	line, _ := protocol.FormatNote(h.last.Notes[0])
	if want := "{peer_id:3, view_id: 5, leader: 2, memb_list: [2,3,4]}"; line != want {
		t.Errorf("line = %s, want %s", line, want)
	}
}

// A leader may decide view MaxUint64-1, the last: the one after would be
// MaxUint64, which every member refuses, and the one after that 0. Holding
// it, the leader proposes no further change.
func TestLeader_NoChangePastLastViewID(t *testing.T) {
	const v = math.MaxUint64 - 2
	h := candidateAt(t, v)
	all := ids(1, 2, 3, 4, 5)
	h.recv(pending(3, b12, v, all, protocol.Op{}, protocol.Ballot{}))
	h.expect([]string{
		"REQ 2->1 b=(1,2) v=18446744073709551613 DEL 1",
		"REQ 2->3 b=(1,2) v=18446744073709551613 DEL 1",
		"REQ 2->4 b=(1,2) v=18446744073709551613 DEL 1",
		"REQ 2->5 b=(1,2) v=18446744073709551613 DEL 1",
	}, h.recv(pending(4, b12, v, all, protocol.Op{}, protocol.Ballot{})))
	h.recv(protocol.Message{Type: protocol.MsgOK, From: 3, Ballot: b12, ViewID: v})
	h.expect([]string{
		"NEWVIEW 2->3 b=(1,2) v=18446744073709551614 [2,3,4,5] by DEL 1",
		"NEWVIEW 2->4 b=(1,2) v=18446744073709551614 [2,3,4,5] by DEL 1",
		"NEWVIEW 2->5 b=(1,2) v=18446744073709551614 [2,3,4,5] by DEL 1",
		"NEWVIEW 2->1 b=(1,2) v=18446744073709551614 [2,3,4,5] by DEL 1",
	}, h.recv(protocol.Message{Type: protocol.MsgOK, From: 4, Ballot: b12, ViewID: v}))
	h.expectNotes("peer 2 view-installed view=18446744073709551614 leader=2 [2,3,4,5]")

	// Peer 1 asks to join again, and an operator evicts 5: both wait.
	h.expect([]string{"REDIRECT 2->1 leader=2"}, h.recv(protocol.Message{Type: protocol.MsgJoin, From: 1, Op: add(1, 2)}))
	if _, err := h.p.Step(protocol.Event{Type: protocol.EventEvict, Now: h.now, Peer: 5}); err != nil {
		t.Fatalf("evict: %v", err)
	}
	// The members acknowledge the view: the retry timer finds nothing to
	// send, no REQ on the last view.
	for _, q := range []protocol.PeerID{3, 4, 5} {
		h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: q, Ballot: b12, ViewID: math.MaxUint64 - 1})
	}
	h.expect(nil, h.fire(protocol.TimerRetry, 500*time.Millisecond))
	want := protocol.View{ID: math.MaxUint64 - 1, Members: ids(2, 3, 4, 5)}
	if diff := cmp.Diff(want, h.p.View()); diff != "" {
		t.Errorf("view (-want +got):\n%s", diff)
	}
	if !h.p.IsLeader() || h.p.Idle() {
		t.Errorf("leading=%v idle=%v, want leading with changes waiting", h.p.IsLeader(), h.p.Idle())
	}
}

// A promise at a view the leader has since replaced is answered with the
// current view only: the member promised this ballot, so it answers the
// view with its promise there. Asking again with NEWLEADER as well would
// bring two answers, both stale again while views follow each other
// fast, and the answers would double with every view (scenario
// mass-join).
func TestLeader_StalePromiseGetsTheViewOnly(t *testing.T) {
	h := leader(t, 3, 5)
	h.expect([]string{"NEWVIEW 1->2 b=(0,1) v=3 [1,2,3] by ADD 3#1 for #1"},
		h.recv(protocol.Message{Type: protocol.MsgPending, From: 2, Ballot: b01, ViewID: 2, Members: ids(1, 2)}))
}
