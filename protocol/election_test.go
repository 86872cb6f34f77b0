package protocol_test

import (
	"testing"
	"time"

	"github.com/memberly/memberly/protocol"
)

// candidate returns peer 2 of view 5 = [1..5], campaigning after leader 1
// fell silent while 3, 4 and 5 kept beating.
func candidate(t *testing.T) *harness {
	t.Helper()
	h := member(t, 2, 5, 5, 1, 2, 3, 4, 5)
	h.now = 2 * time.Second
	for _, q := range []protocol.PeerID{3, 4, 5} {
		h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: q, Ballot: b01, ViewID: 5})
	}
	// The suspected leader is asked too: should it be alive after all, it
	// learns of the higher ballot and steps down.
	h.expect([]string{
		"NEWLEADER 2->1 b=(1,2) v=5",
		"NEWLEADER 2->3 b=(1,2) v=5",
		"NEWLEADER 2->4 b=(1,2) v=5",
		"NEWLEADER 2->5 b=(1,2) v=5",
	}, h.fire(protocol.TimerSuspect, 200*time.Millisecond))
	h.expectNotes(
		"peer 2 suspected view=5 leader=1 subject=1",
		"peer 2 candidate view=5 leader=1 ballot=(1,2)",
	)
	if line, _ := protocol.FormatNote(h.last.Notes[0]); line != `{peer_id:2, view_id: 5, leader: 1, message:"peer 1 (leader) unreachable"}` {
		t.Errorf("suspicion line = %s", line)
	}
	return h
}

func pending(from protocol.PeerID, b protocol.Ballot, v protocol.ViewID, members []protocol.PeerID, op protocol.Op, opb protocol.Ballot) protocol.Message {
	return protocol.Message{Type: protocol.MsgPending, From: from, Ballot: b, ViewID: v, Members: members, Op: op, OpBallot: opb}
}

func TestCandidate_RecoversHalfDoneRemovalThenRemovesOldLeader(t *testing.T) {
	h := candidate(t)
	all := ids(1, 2, 3, 4, 5)
	h.expect(nil, h.recv(pending(3, b12, 5, all, del(5), b01)))
	// 2 and 3 of five are not a quorum; 4 makes three.
	h.expect([]string{"REQ 2->1 b=(1,2) v=5 DEL 5", "REQ 2->3 b=(1,2) v=5 DEL 5", "REQ 2->4 b=(1,2) v=5 DEL 5", "REQ 2->5 b=(1,2) v=5 DEL 5"},
		h.recv(pending(4, b12, 5, all, del(5), b01)))
	h.expectNotes(
		"peer 2 leader view=5 leader=2 ballot=(1,2)",
		"peer 2 proposed view=5 leader=2 DEL 5 ballot=(1,2)",
	)
	// A late answer changes nothing.
	h.expect(nil, h.recv(pending(5, b12, 5, all, protocol.Op{}, protocol.Ballot{})))
	h.expect(nil, h.recv(protocol.Message{Type: protocol.MsgOK, From: 3, Ballot: b12, ViewID: 5}))
	h.expect([]string{
		"NEWVIEW 2->1 b=(1,2) v=6 [1,2,3,4] by DEL 5",
		"NEWVIEW 2->3 b=(1,2) v=6 [1,2,3,4] by DEL 5",
		"NEWVIEW 2->4 b=(1,2) v=6 [1,2,3,4] by DEL 5",
		"NEWVIEW 2->5 b=(1,2) v=6 [1,2,3,4] by DEL 5",
		"REQ 2->1 b=(1,2) v=6 DEL 1",
		"REQ 2->3 b=(1,2) v=6 DEL 1",
		"REQ 2->4 b=(1,2) v=6 DEL 1",
	}, h.recv(protocol.Message{Type: protocol.MsgOK, From: 4, Ballot: b12, ViewID: 5}))
}

func TestCandidate_ChoosesHighestBallotPending(t *testing.T) {
	h := candidate(t)
	all := ids(1, 2, 3, 4, 5)
	h.recv(pending(3, b12, 5, all, del(5), b01))
	h.recv(pending(4, b12, 5, all, del(3), protocol.Ballot{Round: 0, Leader: 4}))
	h.expectNotes(
		"peer 2 leader view=5 leader=2 ballot=(1,2)",
		"peer 2 proposed view=5 leader=2 DEL 3 ballot=(1,2)",
	)
}

func TestCandidate_CatchesUpToNewerView(t *testing.T) {
	h := candidate(t)
	// Peer 3 installed view 6 that 2 missed: it sends the view first,
	// then its answer at view 6.
	h.expect([]string{
		"NEWLEADER 2->1 b=(1,2) v=6",
		"NEWLEADER 2->3 b=(1,2) v=6",
		"NEWLEADER 2->4 b=(1,2) v=6",
		"HEARTBEAT 2->3 b=(1,2) v=6",
	}, h.recv(protocol.Message{Type: protocol.MsgNewView, From: 3, Ballot: b01, ViewID: 6, Members: ids(1, 2, 3, 4), Op: del(5)}))
	h.expectNotes("peer 2 view-installed view=6 leader=1 [1,2,3,4]")
	// An answer at the old view no longer counts: 4 is caught up and asked again.
	h.expect([]string{"NEWVIEW 2->4 b=(0,1) v=6 [1,2,3,4] by DEL 5", "NEWLEADER 2->4 b=(1,2) v=6"},
		h.recv(pending(4, b12, 5, ids(1, 2, 3, 4, 5), protocol.Op{}, protocol.Ballot{})))
	h.expect(nil, h.recv(pending(3, b12, 6, ids(1, 2, 3, 4), protocol.Op{}, protocol.Ballot{})))
	// In view [1,2,3,4], {2,3,4} is a quorum: lead, and remove 1.
	h.expect([]string{"REQ 2->1 b=(1,2) v=6 DEL 1", "REQ 2->3 b=(1,2) v=6 DEL 1", "REQ 2->4 b=(1,2) v=6 DEL 1"},
		h.recv(pending(4, b12, 6, ids(1, 2, 3, 4), protocol.Op{}, protocol.Ballot{})))
}

func TestCandidate_NackedOutbidsWhileNextInLine(t *testing.T) {
	h := candidate(t)
	h.expect([]string{
		"NEWLEADER 2->1 b=(4,2) v=5",
		"NEWLEADER 2->3 b=(4,2) v=5",
		"NEWLEADER 2->4 b=(4,2) v=5",
		"NEWLEADER 2->5 b=(4,2) v=5",
	}, h.recv(protocol.Message{Type: protocol.MsgNack, From: 4, Ballot: protocol.Ballot{Round: 3, Leader: 4}, ViewID: 5}))
}

func TestCandidate_YieldsToHigherNewLeader(t *testing.T) {
	h := candidate(t)
	h.expect([]string{"PENDING 2->3 b=(2,3) v=5 [1,2,3,4,5] NOTHING@(0,0)"},
		h.recv(protocol.Message{Type: protocol.MsgNewLeader, From: 3, Ballot: b23, ViewID: 5}))
	h.expectNotes("peer 2 stepped-down view=5 leader=3 ballot=(2,3)")
	if h.p.Leader() != 3 {
		t.Errorf("follows %d, want 3", h.p.Leader())
	}
}

func TestCandidate_StaleAnswersIgnored(t *testing.T) {
	h := candidate(t)
	all := ids(1, 2, 3, 4, 5)
	// An answer to another ballot, and one from a non-member.
	h.expect(nil, h.recv(pending(3, b23, 5, all, protocol.Op{}, protocol.Ballot{})))
	h.expect(nil, h.recv(pending(4, protocol.Ballot{Round: 0, Leader: 2}, 5, all, protocol.Op{}, protocol.Ballot{})))
	h.expectNotes()
	if h.p.IsLeader() {
		t.Errorf("became leader on stale answers")
	}
}

func TestCandidate_RetransmitsToSilentMembers(t *testing.T) {
	h := candidate(t)
	h.recv(pending(3, b12, 5, ids(1, 2, 3, 4, 5), protocol.Op{}, protocol.Ballot{}))
	h.expect([]string{"NEWLEADER 2->4 b=(1,2) v=5", "NEWLEADER 2->5 b=(1,2) v=5"},
		h.fire(protocol.TimerRetry, 500*time.Millisecond))
}

func TestFollower_WaitsWhenAnotherIsNextInLine(t *testing.T) {
	h := member(t, 3, 5, 5, 1, 2, 3, 4, 5)
	h.now = 2 * time.Second
	for _, q := range []protocol.PeerID{2, 4, 5} {
		h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: q, Ballot: b01, ViewID: 5})
	}
	h.expect(nil, h.fire(protocol.TimerSuspect, 200*time.Millisecond))
	h.expectNotes("peer 3 suspected view=5 leader=1 subject=1")
}
