package protocol_test

import (
	"testing"
	"time"

	"github.com/memberly/memberly/protocol"
)

// With a batch wait, joins that come after a decision wait for it to end
// and go out as one batch; a full batch does not wait.
func TestLeader_BatchWaitGathersJoins(t *testing.T) {
	cfg := batching(3)
	cfg.BatchWait = 100 * time.Millisecond
	h := leaderWith(t, 3, 8, cfg)
	// Long after the last decision, a JOIN goes at once.
	h.now += time.Second
	h.expect([]string{"REDIRECT 1->4 leader=1", "REQ 1->2 b=(0,1) v=3 ADD 4#1", "REQ 1->3 b=(0,1) v=3 ADD 4#1"},
		h.recv(protocol.Message{Type: protocol.MsgJoin, From: 4, Op: add(4, 1)}))
	out := h.recv(protocol.Message{Type: protocol.MsgOK, From: 3, Ballot: b01, ViewID: 3})
	h.expect([]string{
		"NEWVIEW 1->2 b=(0,1) v=4 [1,2,3,4] by ADD 4#1 for #1",
		"NEWVIEW 1->3 b=(0,1) v=4 [1,2,3,4] by ADD 4#1 for #1",
		"NEWVIEW 1->4 b=(0,1) v=4 [1,2,3,4] by ADD 4#1 for #1",
	}, out)
	h.expectDue(protocol.TimerBatch, h.now+100*time.Millisecond)
	// Within the wait, two JOINs are only answered.
	h.now += 30 * time.Millisecond
	h.expect([]string{"REDIRECT 1->5 leader=1"}, h.recv(protocol.Message{Type: protocol.MsgJoin, From: 5, Op: add(5, 1)}))
	h.expect([]string{"REDIRECT 1->6 leader=1"}, h.recv(protocol.Message{Type: protocol.MsgJoin, From: 6, Op: add(6, 1)}))
	// The wait ends: one REQ for both.
	h.expect([]string{
		"REQ 1->2 b=(0,1) v=4 ADD 5#1, ADD 6#1",
		"REQ 1->3 b=(0,1) v=4 ADD 5#1, ADD 6#1",
		"REQ 1->4 b=(0,1) v=4 ADD 5#1, ADD 6#1",
	}, h.fire(protocol.TimerBatch, 70*time.Millisecond))

	// Decided; during the next wait a full batch of three goes at once.
	h.recv(protocol.Message{Type: protocol.MsgOK, From: 3, Ballot: b01, ViewID: 4})
	h.recv(protocol.Message{Type: protocol.MsgOK, From: 4, Ballot: b01, ViewID: 4})
	if got := h.p.View().String(); got != "5[1,2,3,4,5,6]" {
		t.Fatalf("view = %s, want 5[1,2,3,4,5,6]", got)
	}
	h.recv(protocol.Message{Type: protocol.MsgJoin, From: 7, Op: add(7, 1)})
	h.recv(protocol.Message{Type: protocol.MsgLeave, From: 2})
	h.expect([]string{
		"REDIRECT 1->8 leader=1",
		"REQ 1->2 b=(0,1) v=5 ADD 7#1, DEL 2, ADD 8#1",
		"REQ 1->3 b=(0,1) v=5 ADD 7#1, DEL 2, ADD 8#1",
		"REQ 1->4 b=(0,1) v=5 ADD 7#1, DEL 2, ADD 8#1",
		"REQ 1->5 b=(0,1) v=5 ADD 7#1, DEL 2, ADD 8#1",
		"REQ 1->6 b=(0,1) v=5 ADD 7#1, DEL 2, ADD 8#1",
	}, h.recv(protocol.Message{Type: protocol.MsgJoin, From: 8, Op: add(8, 1)}))
}

func TestConfig_BatchWaitBounded(t *testing.T) {
	cfg := protocol.DefaultConfig()
	cfg.BatchWait = cfg.SuspectAfter + time.Millisecond
	if err := cfg.Validate(); err == nil {
		t.Errorf("BatchWait %v above SuspectAfter %v validated", cfg.BatchWait, cfg.SuspectAfter)
	}
	cfg.BatchWait = -time.Millisecond
	if err := cfg.Validate(); err == nil {
		t.Error("a negative BatchWait validated")
	}
}
