package protocol_test

import (
	"testing"
	"time"

	"github.com/memberly/memberly/protocol"
)

// crossViewCandidate returns peer 2 of view 3 = [1,2,3], campaigning under
// ballot (1,2) after leader 1 fell silent: 3's heartbeat reports 1
// suspected, and 2's own detector makes both observers of 1 agree; 2
// campaigns once the agreement has held for confirmWait.
func crossViewCandidate(t *testing.T) *harness {
	t.Helper()
	h := member(t, 2, 4, 3, 1, 2, 3)
	h.now = 2 * time.Second
	h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 3, Ballot: b01, ViewID: 3, Members: ids(1)})
	h.expect([]string{
		"HEARTBEAT 2->1 b=(0,1) v=3 suspects=[1]",
		"HEARTBEAT 2->3 b=(0,1) v=3 suspects=[1]",
	}, h.fire(protocol.TimerSuspect, 200*time.Millisecond))
	h.expectNotes("peer 2 suspected view=3 leader=1 subject=1")
	h.expect([]string{
		"NEWLEADER 2->1 b=(1,2) v=3",
		"NEWLEADER 2->3 b=(1,2) v=3",
	}, h.fire(protocol.TimerSuspect, confirmWait))
	h.expectNotes("peer 2 candidate view=3 leader=1 ballot=(1,2)")
	return h
}

// crossViewLeader returns crossViewCandidate's peer 2 once it leads: it
// recovered ADD 4 from 3's promise and decided view 4 = [1,2,3,4] with
// 3's OK, and holds promises of view 4 from 2 and 3 only, no quorum.
func crossViewLeader(t *testing.T) *harness {
	t.Helper()
	h := crossViewCandidate(t)
	b12 := protocol.Ballot{Round: 1, Leader: 2}
	h.recv(pending(3, b12, 3, ids(1, 2, 3), add(4, 1), b01))
	h.recv(protocol.Message{Type: protocol.MsgOK, From: 3, Ballot: b12, ViewID: 3})
	if got := h.p.View().String(); got != "4[1,2,3,4]" {
		t.Fatalf("view %s, want 4[1,2,3,4]", got)
	}
	return h
}

// Cross-view, adding: promises of view 3 do not let a leader propose in
// view 4. Peer 2 leads view 3 on the promises of {2,3}, recovers ADD 4 and
// decides view 4 = [1,2,3,4]; {2,3} is not a quorum of it. Only once 4
// promised, telling of the DEL 2 it accepted in view 4 under the old
// leader's ballot, may 2 propose, and it must propose that DEL 2 first.
func TestLeader_PromisesOfOneViewDoNotCarryToTheNext(t *testing.T) {
	h := crossViewCandidate(t)
	b12 := protocol.Ballot{Round: 1, Leader: 2}
	h.expect([]string{"REQ 2->1 b=(1,2) v=3 ADD 4#1", "REQ 2->3 b=(1,2) v=3 ADD 4#1"},
		h.recv(pending(3, b12, 3, ids(1, 2, 3), add(4, 1), b01)))
	// OK from 3 decides view 4. The NEWVIEWs go out, but no REQ: the OKs
	// of view 3 promise view 4 only from 2 and 3.
	h.expect([]string{
		"NEWVIEW 2->1 b=(1,2) v=4 [1,2,3,4] by ADD 4#1",
		"NEWVIEW 2->3 b=(1,2) v=4 [1,2,3,4] by ADD 4#1",
		"NEWVIEW 2->4 b=(1,2) v=4 [1,2,3,4] by ADD 4#1 for #1",
	}, h.recv(protocol.Message{Type: protocol.MsgOK, From: 3, Ballot: b12, ViewID: 3}))
	// 4 already held view 4 and had accepted DEL 2 there from leader 1.
	h.expect([]string{
		"REQ 2->1 b=(1,2) v=4 DEL 2",
		"REQ 2->3 b=(1,2) v=4 DEL 2",
		"REQ 2->4 b=(1,2) v=4 DEL 2",
	}, h.recv(pending(4, b12, 4, ids(1, 2, 3, 4), del(2), b01)))
	h.expectNotes("peer 2 proposed view=4 leader=2 DEL 2 ballot=(1,2)")
}

// Cross-view, removing: peer 1 leads view 6 = [1,2,3,4] on the promises of
// {1,4}, recovers DEL 4 and decides view 7 = [1,2,3], of which {1} alone
// is no quorum. 3 answers the NEWVIEW with its promise, telling of the
// DEL 1 it accepted in view 7 from leader 2: 1 proposes that, not the
// removal of 2 it had queued.
func TestLeader_RecoversWhatTheNewViewAccepted(t *testing.T) {
	h := newHarness(t, 1, 4, protocol.DefaultConfig())
	h.step(protocol.Event{Type: protocol.EventStart, Incarnation: 2})
	b22 := protocol.Ballot{Round: 2, Leader: 2}
	h.recv(protocol.Message{Type: protocol.MsgNewView, From: 2, Ballot: b22, ViewID: 6, Members: ids(1, 2, 3, 4), Op: add(1, 2)})
	h.now = 2 * time.Second
	// 3 and 4 report 2 suspected: once 1's own detector speaks, all three
	// observers of 2 agree.
	for _, q := range []protocol.PeerID{3, 4} {
		h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: q, Ballot: b22, ViewID: 6, Members: ids(2)})
	}
	h.fire(protocol.TimerSuspect, 200*time.Millisecond)
	h.expectNotes("peer 1 suspected view=6 leader=2 subject=2")
	h.fire(protocol.TimerSuspect, confirmWait)
	h.expectNotes("peer 1 candidate view=6 leader=2 ballot=(3,1)")
	b31 := protocol.Ballot{Round: 3, Leader: 1}
	h.expect([]string{"REQ 1->2 b=(3,1) v=6 DEL 4", "REQ 1->3 b=(3,1) v=6 DEL 4", "REQ 1->4 b=(3,1) v=6 DEL 4"},
		h.recv(pending(4, b31, 6, ids(1, 2, 3, 4), del(4), b22)))
	h.expect([]string{
		"NEWVIEW 1->2 b=(3,1) v=7 [1,2,3] by DEL 4",
		"NEWVIEW 1->3 b=(3,1) v=7 [1,2,3] by DEL 4",
		"NEWVIEW 1->4 b=(3,1) v=7 [1,2,3] by DEL 4",
	}, h.recv(protocol.Message{Type: protocol.MsgOK, From: 4, Ballot: b31, ViewID: 6}))
	h.expect([]string{"REQ 1->2 b=(3,1) v=7 DEL 1", "REQ 1->3 b=(3,1) v=7 DEL 1"},
		h.recv(pending(3, b31, 7, ids(1, 2, 3), del(1), b22)))
}

// A member that already holds a view answers its NEWVIEW from a leader
// that decided it again under a higher ballot with its promise to that
// leader, telling what it accepted for the view: here the DEL 2 it
// accepted from the earlier leader.
func TestNewView_DecidedAgainAnsweredWithPromise(t *testing.T) {
	h := member(t, 4, 4, 4, 1, 2, 3, 4)
	h.expect([]string{"OK 4->1 b=(0,1) v=4"},
		h.recv(protocol.Message{Type: protocol.MsgReq, From: 1, Ballot: b01, ViewID: 4, Op: del(2)}))
	h.expect([]string{"PENDING 4->2 b=(1,2) v=4 [1,2,3,4] DEL 2@(0,1)"},
		h.recv(protocol.Message{Type: protocol.MsgNewView, From: 2, Ballot: protocol.Ballot{Round: 1, Leader: 2}, ViewID: 4,
			Members: ids(1, 2, 3, 4), Op: add(4, 1)}))
	// The old leader's REQs are now refused.
	h.expect([]string{"NACK 4->1 b=(1,2) v=4"},
		h.recv(protocol.Message{Type: protocol.MsgReq, From: 1, Ballot: b01, ViewID: 4, Op: del(2)}))
}

// The stable path costs no extra round: the OKs that decide a view
// promise the next one, so a queued change is proposed in the same step
// that sends the NEWVIEW.
func TestLeader_NextChangeGoesOutWithTheNewView(t *testing.T) {
	h := leader(t, 3, 5)
	h.recv(protocol.Message{Type: protocol.MsgJoin, From: 4, Op: add(4, 1)})
	h.recv(protocol.Message{Type: protocol.MsgJoin, From: 5, Op: add(5, 1)})
	h.expect([]string{
		"NEWVIEW 1->2 b=(0,1) v=4 [1,2,3,4] by ADD 4#1 for #1",
		"NEWVIEW 1->3 b=(0,1) v=4 [1,2,3,4] by ADD 4#1 for #1",
		"NEWVIEW 1->4 b=(0,1) v=4 [1,2,3,4] by ADD 4#1 for #1",
		"REQ 1->2 b=(0,1) v=4 ADD 5#1",
		"REQ 1->3 b=(0,1) v=4 ADD 5#1",
		"REQ 1->4 b=(0,1) v=4 ADD 5#1",
	}, h.recv(protocol.Message{Type: protocol.MsgOK, From: 2, Ballot: b01, ViewID: 3}))
}

// An OK of the previous view that comes after the decision is a promise at
// the new view too: the member had accepted nothing there.
func TestLeader_LateOKPromisesTheNewView(t *testing.T) {
	h := crossViewLeader(t)
	// The OK is also a sign of life of 1: the suspicion is cleared and
	// shared first. DEL 1 removes the old leader (succession), which needs
	// no agreement.
	h.expect([]string{
		"HEARTBEAT 2->1 b=(1,2) v=4",
		"HEARTBEAT 2->3 b=(1,2) v=4",
		"HEARTBEAT 2->4 b=(1,2) v=4",
		"REQ 2->1 b=(1,2) v=4 DEL 1",
		"REQ 2->3 b=(1,2) v=4 DEL 1",
		"REQ 2->4 b=(1,2) v=4 DEL 1",
	}, h.recv(protocol.Message{Type: protocol.MsgOK, From: 1, Ballot: b12, ViewID: 3}))
}

// A leader that waits for promises asks, at its retry timer, the members
// that hold the view but have not promised, and sends the view to those
// behind it.
func TestLeader_RetryAsksMissingPromises(t *testing.T) {
	h := crossViewLeader(t)
	// 4 shows view 4 with a heartbeat (it promised someone else).
	h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 4, Ballot: b01, ViewID: 4})
	h.expect([]string{
		"NEWVIEW 2->3 b=(1,2) v=4 [1,2,3,4] by ADD 4#1",
		"NEWLEADER 2->4 b=(1,2) v=4",
	}, h.fire(protocol.TimerRetry, 500*time.Millisecond))
}

// A recovered ADD is proposed with the incarnation it was accepted with,
// even when a JOIN of a newer process of that peer was queued first: the
// recovered one may have been decided, and the newer process may not vote
// where the older one promised.
func TestCandidate_RecoveredAddKeepsItsIncarnation(t *testing.T) {
	h := crossViewCandidate(t)
	b12 := protocol.Ballot{Round: 1, Leader: 2}
	h.recv(protocol.Message{Type: protocol.MsgJoin, From: 4, Op: add(4, 9)})
	h.expect([]string{"REQ 2->1 b=(1,2) v=3 ADD 4#1", "REQ 2->3 b=(1,2) v=3 ADD 4#1"},
		h.recv(pending(3, b12, 3, ids(1, 2, 3), add(4, 1), b01)))
}
