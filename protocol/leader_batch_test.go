package protocol_test

import (
	"testing"

	"github.com/memberly/memberly/protocol"
)

// batching returns the default config deciding up to max operations per
// view.
func batching(max int) protocol.Config {
	cfg := protocol.DefaultConfig()
	cfg.MaxChangesPerView = max
	return cfg
}

func TestLeader_BatchesQueuedJoins(t *testing.T) {
	h := leaderWith(t, 3, 7, batching(4))
	// Nothing is queued: the first JOIN goes alone, at once.
	h.expect([]string{"REDIRECT 1->4 leader=1", "REQ 1->2 b=(0,1) v=3 ADD 4#1", "REQ 1->3 b=(0,1) v=3 ADD 4#1"},
		h.recv(protocol.Message{Type: protocol.MsgJoin, From: 4, Op: add(4, 1)}))
	// The JOINs that come while it is in flight wait, and go together.
	for q := protocol.PeerID(5); q <= 7; q++ {
		h.recv(protocol.Message{Type: protocol.MsgJoin, From: q, Op: add(q, 1)})
	}
	h.expect([]string{
		"NEWVIEW 1->2 b=(0,1) v=4 [1,2,3,4] by ADD 4#1 for #1",
		"NEWVIEW 1->3 b=(0,1) v=4 [1,2,3,4] by ADD 4#1 for #1",
		"NEWVIEW 1->4 b=(0,1) v=4 [1,2,3,4] by ADD 4#1 for #1",
		"REQ 1->2 b=(0,1) v=4 ADD 5#1, ADD 6#1, ADD 7#1",
		"REQ 1->3 b=(0,1) v=4 ADD 5#1, ADD 6#1, ADD 7#1",
		"REQ 1->4 b=(0,1) v=4 ADD 5#1, ADD 6#1, ADD 7#1",
	}, h.recv(protocol.Message{Type: protocol.MsgOK, From: 3, Ballot: b01, ViewID: 3}))
	h.expectNotes(
		"peer 1 view-installed view=4 leader=1 [1,2,3,4]",
		"peer 1 proposed view=4 leader=1 ADD 5#1, ADD 6#1, ADD 7#1 ballot=(0,1)",
	)
	// {1,3} is half of [1,2,3,4] with its lowest id: decided. The joiners
	// are told the view that names their incarnations.
	h.expect([]string{
		"NEWVIEW 1->2 b=(0,1) v=5 [1,2,3,4,5,6,7] by ADD 5#1, ADD 6#1, ADD 7#1 for #1",
		"NEWVIEW 1->3 b=(0,1) v=5 [1,2,3,4,5,6,7] by ADD 5#1, ADD 6#1, ADD 7#1 for #1",
		"NEWVIEW 1->4 b=(0,1) v=5 [1,2,3,4,5,6,7] by ADD 5#1, ADD 6#1, ADD 7#1 for #1",
		"NEWVIEW 1->5 b=(0,1) v=5 [1,2,3,4,5,6,7] by ADD 5#1, ADD 6#1, ADD 7#1 for #1",
		"NEWVIEW 1->6 b=(0,1) v=5 [1,2,3,4,5,6,7] by ADD 5#1, ADD 6#1, ADD 7#1 for #1",
		"NEWVIEW 1->7 b=(0,1) v=5 [1,2,3,4,5,6,7] by ADD 5#1, ADD 6#1, ADD 7#1 for #1",
	}, h.recv(protocol.Message{Type: protocol.MsgOK, From: 3, Ballot: b01, ViewID: 4}))
	if got := h.p.View(); got.String() != "5[1,2,3,4,5,6,7]" {
		t.Errorf("view = %s, want 5[1,2,3,4,5,6,7]", got)
	}
}

// A batch takes no more than MaxChangesPerView operations; the rest wait.
func TestLeader_BatchStopsAtMaxChangesPerView(t *testing.T) {
	h := leaderWith(t, 3, 7, batching(2))
	h.recv(protocol.Message{Type: protocol.MsgJoin, From: 4, Op: add(4, 1)})
	for q := protocol.PeerID(5); q <= 7; q++ {
		h.recv(protocol.Message{Type: protocol.MsgJoin, From: q, Op: add(q, 1)})
	}
	h.recv(protocol.Message{Type: protocol.MsgOK, From: 3, Ballot: b01, ViewID: 3})
	h.expectNotes(
		"peer 1 view-installed view=4 leader=1 [1,2,3,4]",
		"peer 1 proposed view=4 leader=1 ADD 5#1, ADD 6#1 ballot=(0,1)",
	)
}

func TestLeader_BatchKeepsMajorityOfOldView(t *testing.T) {
	h := leaderWith(t, 7, 7, batching(4))
	h.recv(protocol.Message{Type: protocol.MsgLeave, From: 7}) // DEL 7 in flight
	for _, q := range []protocol.PeerID{4, 5, 6} {
		h.step(protocol.Event{Type: protocol.EventEvict, Peer: q})
	}
	for _, q := range []protocol.PeerID{2, 3, 4} {
		h.recv(protocol.Message{Type: protocol.MsgOK, From: q, Ballot: b01, ViewID: 7})
	}
	// View 8 = [1..6]: removing 4 and 5 keeps four of six, a majority;
	// removing 6 as well would keep three, half.
	h.expectNotes(
		"peer 1 view-installed view=8 leader=1 [1,2,3,4,5,6]",
		"peer 1 proposed view=8 leader=1 DEL 4, DEL 5 ballot=(0,1)",
	)
	h.recv(protocol.Message{Type: protocol.MsgOK, From: 2, Ballot: b01, ViewID: 8})
	h.recv(protocol.Message{Type: protocol.MsgOK, From: 3, Ballot: b01, ViewID: 8})
	// {1,2,3} is half of [1..6] with its lowest id. DEL 6 goes next,
	// alone: a first operation always may.
	h.expectNotes(
		"peer 1 view-installed view=9 leader=1 [1,2,3,6]",
		"peer 1 proposed view=9 leader=1 DEL 6 ballot=(0,1)",
	)
}

// A restarted member is removed, then added, in two views: a change names
// each peer once, so the batch stops at its ADD, and what follows waits.
func TestLeader_RestartTakesTwoViews(t *testing.T) {
	h := leaderWith(t, 3, 5, batching(4))
	h.recv(protocol.Message{Type: protocol.MsgJoin, From: 4, Op: add(4, 1)}) // ADD 4 in flight
	h.recv(protocol.Message{Type: protocol.MsgJoin, From: 2, Op: add(2, 2)}) // DEL 2, ADD 2#2
	h.recv(protocol.Message{Type: protocol.MsgJoin, From: 5, Op: add(5, 1)})
	h.recv(protocol.Message{Type: protocol.MsgOK, From: 3, Ballot: b01, ViewID: 3})
	h.expectNotes(
		"peer 1 view-installed view=4 leader=1 [1,2,3,4]",
		"peer 1 proposed view=4 leader=1 DEL 2 ballot=(0,1)",
	)
	h.recv(protocol.Message{Type: protocol.MsgOK, From: 3, Ballot: b01, ViewID: 4})
	h.expectNotes(
		"peer 1 view-installed view=5 leader=1 [1,3,4]",
		"peer 1 proposed view=5 leader=1 ADD 2#2, ADD 5#1 ballot=(0,1)",
	)
}

// A change recovered from the promises is proposed whole, and alone, even
// by a leader that does not batch: it may have been decided so.
func TestLeader_RecoveredBatchProposedWhole(t *testing.T) {
	h := candidate(t) // MaxChangesPerView 1
	all := ids(1, 2, 3, 4, 5)
	batch := pending(3, b12, 5, all, del(4), b01)
	batch.More = []protocol.Op{del(5)}
	h.expect(nil, h.recv(batch))
	h.expect([]string{
		"REQ 2->1 b=(1,2) v=5 DEL 4, DEL 5",
		"REQ 2->3 b=(1,2) v=5 DEL 4, DEL 5",
		"REQ 2->4 b=(1,2) v=5 DEL 4, DEL 5",
		"REQ 2->5 b=(1,2) v=5 DEL 4, DEL 5",
	}, h.recv(pending(4, b12, 5, all, protocol.Op{}, protocol.Ballot{})))
	h.expectNotes(
		"peer 2 leader view=5 leader=2 ballot=(1,2)",
		"peer 2 proposed view=5 leader=2 DEL 4, DEL 5 ballot=(1,2)",
	)
	h.recv(protocol.Message{Type: protocol.MsgOK, From: 3, Ballot: b12, ViewID: 5})
	h.recv(protocol.Message{Type: protocol.MsgOK, From: 4, Ballot: b12, ViewID: 5})
	// Then the old leader goes, alone.
	h.expectNotes(
		"peer 2 view-installed view=6 leader=2 [1,2,3]",
		"peer 2 proposed view=6 leader=2 DEL 1 ballot=(1,2)",
	)
}

// With split-batch, the broken recovery proposes the first operation
// alone: the checkers must catch the view it decides.
func TestLeader_SplitBatchMutationProposesFirstOnly(t *testing.T) {
	cfg := protocol.DefaultConfig()
	cfg.Mutation = protocol.MutationSplitBatch
	h := candidateWith(t, 5, cfg)
	all := ids(1, 2, 3, 4, 5)
	batch := pending(3, b12, 5, all, del(4), b01)
	batch.More = []protocol.Op{del(5)}
	h.recv(batch)
	h.recv(pending(4, b12, 5, all, protocol.Op{}, protocol.Ballot{}))
	h.expectNotes(
		"peer 2 leader view=5 leader=2 ballot=(1,2)",
		"peer 2 proposed view=5 leader=2 DEL 4 ballot=(1,2)",
	)
}

// A leader that leaves decides its own removal in a batch with what
// follows it, hands the view over and stops.
func TestLeader_LeavingLeaderBatchesItsOwnRemoval(t *testing.T) {
	h := leaderWith(t, 5, 6, batching(4))
	h.recv(protocol.Message{Type: protocol.MsgJoin, From: 6, Op: add(6, 1)}) // ADD 6 in flight
	h.step(protocol.Event{Type: protocol.EventLeave})
	h.step(protocol.Event{Type: protocol.EventEvict, Peer: 5})
	h.recv(protocol.Message{Type: protocol.MsgOK, From: 2, Ballot: b01, ViewID: 5})
	h.recv(protocol.Message{Type: protocol.MsgOK, From: 3, Ballot: b01, ViewID: 5})
	h.expectNotes(
		"peer 1 view-installed view=6 leader=1 [1,2,3,4,5,6]",
		"peer 1 proposed view=6 leader=1 DEL 1, DEL 5 ballot=(0,1)",
	)
	h.recv(protocol.Message{Type: protocol.MsgOK, From: 2, Ballot: b01, ViewID: 6})
	h.expect([]string{
		"NEWVIEW 1->2 b=(0,1) v=7 [2,3,4,6] by DEL 1, DEL 5 for #1",
		"NEWVIEW 1->3 b=(0,1) v=7 [2,3,4,6] by DEL 1, DEL 5 for #1",
		"NEWVIEW 1->4 b=(0,1) v=7 [2,3,4,6] by DEL 1, DEL 5 for #1",
		"NEWVIEW 1->6 b=(0,1) v=7 [2,3,4,6] by DEL 1, DEL 5 for #1",
	}, h.recv(protocol.Message{Type: protocol.MsgOK, From: 3, Ballot: b01, ViewID: 6}))
	if !h.p.Stopped() {
		t.Errorf("the leaving leader did not stop once its removal was decided")
	}
}
