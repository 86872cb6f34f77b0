package protocol_test

import (
	"testing"
	"time"

	"github.com/memberly/memberly/protocol"
)

func TestHeartbeat_SentToEveryOtherMember(t *testing.T) {
	h := member(t, 3, 5, 4, 1, 2, 3, 4)
	h.expect([]string{
		"HEARTBEAT 3->1 b=(0,1) v=4",
		"HEARTBEAT 3->2 b=(0,1) v=4",
		"HEARTBEAT 3->4 b=(0,1) v=4",
	}, h.fire(protocol.TimerHeartbeat, 1100*time.Millisecond))
}

func TestSuspicion_RaisedOnceClearedOnAnyMessage(t *testing.T) {
	// A view of four, where this test once used [1,2,3]: there, with 1 and
	// 2 both silent, 3 is the only observer of 1 it trusts, no majority
	// of 1's two observers, and never campaigns. Peer 4 is the witness
	// that makes 1 agreed failed.
	h := member(t, 3, 5, 4, 1, 2, 3, 4)
	h.now = 1 * time.Second
	h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 1, Ballot: b01, ViewID: 4})
	h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 4, Ballot: b01, ViewID: 4})
	// The timer runs to the earliest deadline: peer 2, silent since 0s.
	h.expect([]string{
		"HEARTBEAT 3->1 b=(0,1) v=4 suspects=[2]",
		"HEARTBEAT 3->2 b=(0,1) v=4 suspects=[2]",
		"HEARTBEAT 3->4 b=(0,1) v=4 suspects=[2]",
	}, h.fire(protocol.TimerSuspect, 1200*time.Millisecond))
	h.expectNotes("peer 3 suspected view=4 leader=1 subject=2")
	if line, _ := protocol.FormatNote(h.last.Notes[0]); line != `{peer_id:3, view_id: 4, leader: 1, message:"peer 2 unreachable"}` {
		t.Errorf("line = %s", line)
	}
	// 4 reports 1 and 2 suspected.
	h.now = 3 * time.Second
	h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 4, Ballot: b01, ViewID: 4, Members: ids(1, 2)})
	h.expectNotes()
	// Next deadline is peer 1's (heard at 1s): 3.2s. With 1 and 2 both
	// silent, 1 is agreed failed and 3 is next in line: it campaigns once
	// the agreement is confirmed.
	h.expect([]string{
		"HEARTBEAT 3->1 b=(0,1) v=4 suspects=[1,2]",
		"HEARTBEAT 3->2 b=(0,1) v=4 suspects=[1,2]",
		"HEARTBEAT 3->4 b=(0,1) v=4 suspects=[1,2]",
	}, h.fire(protocol.TimerSuspect, 200*time.Millisecond))
	h.expectNotes("peer 3 suspected view=4 leader=1 subject=1")
	h.fire(protocol.TimerSuspect, confirmWait)
	h.expectNotes("peer 3 candidate view=4 leader=1 ballot=(1,3)")
	// Suspected once only.
	h.fire(protocol.TimerHeartbeat, 0)
	h.expectNotes()
	// Any message clears the suspicion, even a stale one; the change is
	// shared at once.
	h.expect([]string{
		"HEARTBEAT 3->1 b=(1,3) v=4 suspects=[1]",
		"HEARTBEAT 3->2 b=(1,3) v=4 suspects=[1]",
		"HEARTBEAT 3->4 b=(1,3) v=4 suspects=[1]",
	}, h.recv(protocol.Message{Type: protocol.MsgOK, From: 2, Ballot: b01, ViewID: 1}))
	h.expectNotes("peer 3 suspicion-cleared view=4 leader=1 subject=2")
}

func TestSuspicion_NotBeforeSuspectAfter(t *testing.T) {
	h := member(t, 3, 5, 3, 1, 2, 3)
	h.now = 2 * time.Second
	h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 1, Ballot: b01, ViewID: 3})
	h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 2, Ballot: b01, ViewID: 3})
	// An early fire (armed for the deadlines at 2.2s) finds nobody silent long enough.
	h.fire(protocol.TimerSuspect, 200*time.Millisecond)
	h.expectNotes()
}

func TestLeader_SuspicionQueuesRemoval(t *testing.T) {
	h := leader(t, 3, 5)
	h.now += 2 * time.Second
	// 2 reports 3 suspected: once the leader's own detector speaks, both
	// observers of 3 agree, and the suspicion is shared at once; the
	// removal goes out once the agreement has held for confirmWait.
	h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 2, Ballot: b01, ViewID: 3, Members: ids(3)})
	h.expect(nil, h.sent())
	h.expect([]string{
		"HEARTBEAT 1->2 b=(0,1) v=3 suspects=[3]",
		"HEARTBEAT 1->3 b=(0,1) v=3 suspects=[3]",
	}, h.fire(protocol.TimerSuspect, 500*time.Millisecond))
	h.expectNotes("peer 1 suspected view=3 leader=1 subject=3")
	h.expect([]string{
		"REQ 1->2 b=(0,1) v=3 DEL 3",
		"REQ 1->3 b=(0,1) v=3 DEL 3",
	}, h.fire(protocol.TimerSuspect, confirmWait))
	h.expectNotes("peer 1 proposed view=3 leader=1 DEL 3 ballot=(0,1)")
}

func TestSuspicion_OverdueRaisedBeforeTheMessageThatOvertookTheTimer(t *testing.T) {
	// Peer 3 follows leader 1 in [1,2,3]; its suspect timer is due at 2.2s
	// (peer 2's silence) but fires late. The leader's REQ removing 2 arrives
	// at 2.3s, before it: peer 3 still reports 2 unreachable first, as an
	// on-time timer would have, then accepts the removal.
	h := member(t, 3, 5, 3, 1, 2, 3)
	h.now = 1 * time.Second
	h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 1, Ballot: b01, ViewID: 3})
	h.now = 2300 * time.Millisecond
	h.expect([]string{
		"HEARTBEAT 3->1 b=(0,1) v=3 suspects=[2]",
		"HEARTBEAT 3->2 b=(0,1) v=3 suspects=[2]",
		"OK 3->1 b=(0,1) v=3",
	}, h.recv(protocol.Message{Type: protocol.MsgReq, From: 1, Ballot: b01, ViewID: 3, Op: protocol.Op{Kind: protocol.OpDel, Peer: 2}}))
	h.expectNotes("peer 3 suspected view=3 leader=1 subject=2")
	// The late fire finds nothing more to raise.
	h.fire(protocol.TimerSuspect, 0)
	h.expectNotes()
}

func TestSuspicion_RemovedBeforeItsDetectorSpokeStillLogged(t *testing.T) {
	// Peer 3 follows leader 1 in [1,2,3]. Peer 2 crashed after its last
	// heartbeat at 1s; the leader's detector spoke first, and its view
	// removing 2 reaches peer 3 at 3.1s, 0.1s before peer 3's own detector
	// would. Peer 3 keeps timing 2's silence and logs it unreachable at
	// 3.2s, as every survivor of a crash does.
	h := member(t, 3, 5, 3, 1, 2, 3)
	h.now = 1 * time.Second
	h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 1, Ballot: b01, ViewID: 3})
	h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 2, Ballot: b01, ViewID: 3})
	h.now = 3100 * time.Millisecond
	h.recv(protocol.Message{Type: protocol.MsgNewView, From: 1, Ballot: b01, ViewID: 4, Members: ids(1, 3), Op: del(2)})
	h.expectNotes("peer 3 view-installed view=4 leader=1 [1,3]")
	h.fire(protocol.TimerSuspect, 100*time.Millisecond)
	h.expectNotes("peer 3 suspected view=4 leader=1 subject=2")
	if line, _ := protocol.FormatNote(h.last.Notes[0]); line != `{peer_id:3, view_id: 4, leader: 1, message:"peer 2 unreachable"}` {
		t.Errorf("line = %s", line)
	}
	// Once.
	h.fire(protocol.TimerSuspect, 2*time.Second)
	h.expectNotes()
}

func TestSuspicion_RemovedWhileHeardNotLogged(t *testing.T) {
	// Peer 2 leaves gracefully (or is evicted alive): peer 3 heard from it
	// within the last heartbeat interval when the view removing it came,
	// so its later silence is no crash to report.
	h := member(t, 3, 5, 3, 1, 2, 3)
	h.now = 1 * time.Second
	h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 1, Ballot: b01, ViewID: 3})
	h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 2, Ballot: b01, ViewID: 3})
	h.now = 1500 * time.Millisecond
	h.recv(protocol.Message{Type: protocol.MsgNewView, From: 1, Ballot: b01, ViewID: 4, Members: ids(1, 3), Op: del(2)})
	h.expectNotes("peer 3 view-installed view=4 leader=1 [1,3]")
	// Past 2's SuspectAfter (3.2s), the leader still heard from.
	h.now = 3 * time.Second
	h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 1, Ballot: b01, ViewID: 4})
	h.fire(protocol.TimerSuspect, 500*time.Millisecond)
	h.expectNotes()
}

func TestSuspicion_RemovedThenHeardNotLogged(t *testing.T) {
	// Removed while silent, then heard from (alive, rejoining): forgotten.
	h := member(t, 3, 5, 3, 1, 2, 3)
	h.now = 1 * time.Second
	h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 1, Ballot: b01, ViewID: 3})
	h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 2, Ballot: b01, ViewID: 3})
	h.now = 3100 * time.Millisecond
	h.recv(protocol.Message{Type: protocol.MsgNewView, From: 1, Ballot: b01, ViewID: 4, Members: ids(1, 3), Op: del(2)})
	h.expectNotes("peer 3 view-installed view=4 leader=1 [1,3]")
	h.now = 3150 * time.Millisecond
	h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 1, Ballot: b01, ViewID: 4})
	h.recv(protocol.Message{Type: protocol.MsgJoin, From: 2, ViewID: 3, Op: protocol.Op{Kind: protocol.OpAdd, Peer: 2, Incarnation: 9}})
	h.fire(protocol.TimerSuspect, 1*time.Second)
	h.expectNotes()
}
