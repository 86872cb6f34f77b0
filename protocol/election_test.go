package protocol_test

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

// candidate returns peer 2 of view 5 = [1..5], campaigning after leader 1
// fell silent while 3, 4 and 5 kept beating, their heartbeats reporting 1
// suspected: once 2's own detector speaks, 1's observers agree that it
// failed, and once that agreement has held for confirmWait, 2 campaigns.
func candidate(t *testing.T) *harness {
	t.Helper()
	return candidateAt(t, 5)
}

// candidateAt is candidate with view v = [1..5].
func candidateAt(t *testing.T, v protocol.ViewID) *harness {
	t.Helper()
	return candidateWith(t, v, protocol.DefaultConfig())
}

// candidateWith is candidateAt running cfg.
func candidateWith(t *testing.T, v protocol.ViewID, cfg protocol.Config) *harness {
	t.Helper()
	return candidateIn(t, 5, v, cfg)
}

// candidateIn is candidateWith in a universe of 5 or more peers.
func candidateIn(t *testing.T, universe int, v protocol.ViewID, cfg protocol.Config) *harness {
	t.Helper()
	h := memberWith(t, cfg, 2, universe, v, 1, 2, 3, 4, 5)
	h.now = 2 * time.Second
	for _, q := range []protocol.PeerID{3, 4, 5} {
		h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: q, Ballot: b01, ViewID: v, Members: ids(1)})
	}
	h.expectNotes() // 2 itself does not suspect 1 yet: no candidacy
	// 2's detector speaks at 2.2s: 1 is agreed failed. The others hear of
	// the suspicion at once; the candidacy waits for the agreement to be
	// confirmed.
	h.expect([]string{
		fmt.Sprintf("HEARTBEAT 2->1 b=(0,1) v=%d suspects=[1]", v),
		fmt.Sprintf("HEARTBEAT 2->3 b=(0,1) v=%d suspects=[1]", v),
		fmt.Sprintf("HEARTBEAT 2->4 b=(0,1) v=%d suspects=[1]", v),
		fmt.Sprintf("HEARTBEAT 2->5 b=(0,1) v=%d suspects=[1]", v),
	}, h.fire(protocol.TimerSuspect, 200*time.Millisecond))
	h.expectNotes(fmt.Sprintf("peer 2 suspected view=%d leader=1 subject=1", v))
	want := fmt.Sprintf(`{peer_id:2, view_id: %d, leader: 1, message:"peer 1 (leader) unreachable"}`, v)
	if line, _ := protocol.FormatNote(h.last.Notes[0]); line != want {
		t.Errorf("suspicion line = %s, want %s", line, want)
	}
	// Confirmed at 2.31s, the suspect timer's next moment. The suspected
	// leader is asked too: should it be alive after all, it learns of the
	// higher ballot and steps down.
	h.expect([]string{
		fmt.Sprintf("NEWLEADER 2->1 b=(1,2) v=%d", v),
		fmt.Sprintf("NEWLEADER 2->3 b=(1,2) v=%d", v),
		fmt.Sprintf("NEWLEADER 2->4 b=(1,2) v=%d", v),
		fmt.Sprintf("NEWLEADER 2->5 b=(1,2) v=%d", v),
	}, h.fire(protocol.TimerSuspect, confirmWait))
	h.expectNotes(fmt.Sprintf("peer 2 candidate view=%d leader=1 ballot=(1,2)", v))
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
	// then its answer at view 6. The acknowledging HEARTBEAT carries 2's
	// suspects, as every heartbeat does.
	h.expect([]string{
		"NEWLEADER 2->1 b=(1,2) v=6",
		"NEWLEADER 2->3 b=(1,2) v=6",
		"NEWLEADER 2->4 b=(1,2) v=6",
		"HEARTBEAT 2->3 b=(1,2) v=6 suspects=[1]",
	}, h.recv(protocol.Message{Type: protocol.MsgNewView, From: 3, Ballot: b01, ViewID: 6, Members: ids(1, 2, 3, 4), Op: del(5)}))
	h.expectNotes("peer 2 view-installed view=6 leader=1 [1,2,3,4]")
	// An answer at the old view no longer counts: 4 is caught up, and,
	// having promised (1,2), answers the view with its promise there. It
	// is not asked again with a NEWLEADER: a second answer would be stale
	// too while views follow each other fast, and answers would multiply.
	h.expect([]string{"NEWVIEW 2->4 b=(0,1) v=6 [1,2,3,4] by DEL 5"},
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
	// 2, 4 and 5 report 1 suspected: once 3's own detector speaks, 1 is
	// agreed failed, but 2, not 3, is next in line.
	for _, q := range []protocol.PeerID{2, 4, 5} {
		h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: q, Ballot: b01, ViewID: 5, Members: ids(1)})
	}
	// The suspicion is shared, and no NEWLEADER follows, not even once
	// the agreement is confirmed.
	h.expect([]string{
		"HEARTBEAT 3->1 b=(0,1) v=5 suspects=[1]",
		"HEARTBEAT 3->2 b=(0,1) v=5 suspects=[1]",
		"HEARTBEAT 3->4 b=(0,1) v=5 suspects=[1]",
		"HEARTBEAT 3->5 b=(0,1) v=5 suspects=[1]",
	}, h.fire(protocol.TimerSuspect, 200*time.Millisecond))
	h.expectNotes("peer 3 suspected view=5 leader=1 subject=1")
	h.expect(nil, h.fire(protocol.TimerSuspect, confirmWait))
	h.expectNotes()
	if st := h.p.Status(); st.Role != "follower" || st.Leader != 1 {
		t.Errorf("role %s following %d, want follower of 1", st.Role, st.Leader)
	}
}

// lastRound is the largest ballot round a peer accepts: one below
// MaxUint64, which leaves no next round.
const lastRound = math.MaxUint64 - 1

// A peer that promised the last round cannot outbid it: the round after
// would be MaxUint64, refused by every member, and the one after that 0.
// Its leader suspected, it does not campaign.
func TestFollower_NoCampaignPastLastRound(t *testing.T) {
	h := member(t, 2, 5, 5, 1, 2, 3, 4, 5)
	last := protocol.Ballot{Round: lastRound, Leader: 3}
	h.expect([]string{"PENDING 2->3 b=(18446744073709551614,3) v=5 [1,2,3,4,5] NOTHING@(0,0)"},
		h.recv(protocol.Message{Type: protocol.MsgNewLeader, From: 3, Ballot: last, ViewID: 5}))
	// 1 and 3 fall silent: 2 is next in line. 4 and 5 report both
	// suspected, so once 2's own detector speaks, leader 3 is agreed
	// failed (1, suspected itself, has no say).
	h.now = 2 * time.Second
	for _, q := range []protocol.PeerID{4, 5} {
		h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: q, Ballot: last, ViewID: 5, Members: ids(1, 3)})
	}
	// Each new suspicion is shared at once; no NEWLEADER follows.
	h.expect([]string{
		"HEARTBEAT 2->1 b=(18446744073709551614,3) v=5 suspects=[1]",
		"HEARTBEAT 2->3 b=(18446744073709551614,3) v=5 suspects=[1]",
		"HEARTBEAT 2->4 b=(18446744073709551614,3) v=5 suspects=[1]",
		"HEARTBEAT 2->5 b=(18446744073709551614,3) v=5 suspects=[1]",
		"HEARTBEAT 2->1 b=(18446744073709551614,3) v=5 suspects=[1,3]",
		"HEARTBEAT 2->3 b=(18446744073709551614,3) v=5 suspects=[1,3]",
		"HEARTBEAT 2->4 b=(18446744073709551614,3) v=5 suspects=[1,3]",
		"HEARTBEAT 2->5 b=(18446744073709551614,3) v=5 suspects=[1,3]",
	}, h.fire(protocol.TimerSuspect, 200*time.Millisecond))
	h.expectNotes(
		"peer 2 suspected view=5 leader=3 subject=1",
		"peer 2 suspected view=5 leader=3 subject=3",
	)
	// Nor once the agreement on 3 is confirmed.
	h.expect(nil, h.fire(protocol.TimerSuspect, confirmWait))
	h.expectNotes()
	want := protocol.Status{ID: 2, Incarnation: 1, ViewID: 5, Members: ids(1, 2, 3, 4, 5), Leader: 3, Role: "follower", Promise: last, Suspects: ids(1, 3)}
	if diff := cmp.Diff(want, h.p.Status()); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}
	// Its heartbeats still show the last round, never round 0.
	h.expect([]string{
		"HEARTBEAT 2->1 b=(18446744073709551614,3) v=5 suspects=[1,3]",
		"HEARTBEAT 2->3 b=(18446744073709551614,3) v=5 suspects=[1,3]",
		"HEARTBEAT 2->4 b=(18446744073709551614,3) v=5 suspects=[1,3]",
		"HEARTBEAT 2->5 b=(18446744073709551614,3) v=5 suspects=[1,3]",
	}, h.fire(protocol.TimerHeartbeat, 0))
}

// A candidate outbid with the last round cannot outbid it in turn: it
// steps down and follows.
func TestCandidate_NackedWithLastRoundStepsDown(t *testing.T) {
	h := candidate(t)
	h.expect(nil, h.recv(protocol.Message{Type: protocol.MsgNack, From: 4, Ballot: protocol.Ballot{Round: lastRound, Leader: 4}, ViewID: 5}))
	h.expectNotes("peer 2 stepped-down view=5 leader=4 ballot=(18446744073709551614,4)")
	if h.p.IsLeader() || h.p.Leader() != 4 {
		t.Errorf("after the NACK: leading=%v, follows %d; want following 4", h.p.IsLeader(), h.p.Leader())
	}
}

// A refused round leaves no trace: the candidate still outbids a later
// NACK with the next round up, not with MaxUint64+1.
func TestCandidate_RefusedRoundNotSeen(t *testing.T) {
	h := candidate(t)
	refused := protocol.Message{Type: protocol.MsgNack, From: 4, To: 2, Ballot: protocol.Ballot{Round: math.MaxUint64, Leader: 4}, ViewID: 5}
	if _, err := h.p.Step(protocol.Event{Type: protocol.EventMessage, Now: h.now, Msg: refused}); !errors.Is(err, protocol.ErrBadMessage) {
		t.Fatalf("NACK with round MaxUint64: err = %v, want ErrBadMessage", err)
	}
	h.expect([]string{
		"NEWLEADER 2->1 b=(4,2) v=5",
		"NEWLEADER 2->3 b=(4,2) v=5",
		"NEWLEADER 2->4 b=(4,2) v=5",
		"NEWLEADER 2->5 b=(4,2) v=5",
	}, h.recv(protocol.Message{Type: protocol.MsgNack, From: 4, Ballot: protocol.Ballot{Round: 3, Leader: 4}, ViewID: 5}))
}
