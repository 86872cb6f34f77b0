package protocol_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

// confirmWait is how long an agreement must hold, without a break, before
// anyone acts on it: a tenth of the default heartbeat interval.
const confirmWait = 110 * time.Millisecond

func TestAgreement_ConfirmWaitIsATenthOfTheHeartbeatInterval(t *testing.T) {
	if got := protocol.DefaultConfig().HeartbeatInterval / 10; got != confirmWait {
		t.Fatalf("HeartbeatInterval/10 = %v: the tests assume a confirmWait of %v", got, confirmWait)
	}
}

// heartbeat is a HEARTBEAT from a member following leader 1 under the
// initial ballot, at view v, reporting suspects.
func heartbeat(from protocol.PeerID, v protocol.ViewID, suspects ...protocol.PeerID) protocol.Message {
	return protocol.Message{Type: protocol.MsgHeartbeat, From: from, Ballot: b01, ViewID: v, Members: suspects}
}

// A leader's own suspicion of a member of [1,2,3] removes nothing: the
// other observer, 2, still hears 3. Once 2 reports 3 too, and that has
// held for confirmWait, 3 goes.
func TestAgreement_LeaderAloneProposesNothing(t *testing.T) {
	h := leader(t, 3, 5)
	h.now += 2 * time.Second
	h.recv(heartbeat(2, 3))
	h.expect([]string{
		"HEARTBEAT 1->2 b=(0,1) v=3 suspects=[3]",
		"HEARTBEAT 1->3 b=(0,1) v=3 suspects=[3]",
	}, h.fire(protocol.TimerSuspect, 500*time.Millisecond))
	h.expectNotes("peer 1 suspected view=3 leader=1 subject=3")
	// Its next beat changes nothing.
	h.expect([]string{
		"HEARTBEAT 1->2 b=(0,1) v=3 suspects=[3]",
		"HEARTBEAT 1->3 b=(0,1) v=3 suspects=[3]",
	}, h.fire(protocol.TimerHeartbeat, 0))
	h.expectNotes()
	if !h.p.Idle() {
		t.Errorf("leader not idle on its own suspicion")
	}
	// 2's detector speaks too: both observers of 3 agree. The removal
	// waits for the agreement to be confirmed.
	h.expect(nil, h.recv(heartbeat(2, 3, 3)))
	h.expectNotes()
	h.expect([]string{"REQ 1->2 b=(0,1) v=3 DEL 3", "REQ 1->3 b=(0,1) v=3 DEL 3"},
		h.fire(protocol.TimerSuspect, confirmWait))
	h.expectNotes("peer 1 proposed view=3 leader=1 DEL 3 ballot=(0,1)")
}

// The same agreement the other way round: 2's report first, which alone
// removes nothing, then the leader's own detector.
func TestAgreement_ReportAloneProposesNothing(t *testing.T) {
	h := leader(t, 3, 5)
	h.now += 2 * time.Second
	h.expect(nil, h.recv(heartbeat(2, 3, 3)))
	h.expectNotes()
	if !h.p.Idle() {
		t.Errorf("leader not idle on another's report alone")
	}
	// The leader's detector speaks: agreed, the suspicion shared at once,
	// and the removal proposed once confirmed.
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

// A suspicion DEL queued behind another change is dropped at its turn
// when a report withdrawn meanwhile ended the agreement, though the leader
// still suspects the member; a later report queues it again.
func TestAgreement_LostBeforeItsTurnDropsTheRemoval(t *testing.T) {
	h := leader(t, 5, 5)
	h.recv(protocol.Message{Type: protocol.MsgLeave, From: 5}) // DEL 5 in flight
	h.now += 2 * time.Second
	for _, q := range []protocol.PeerID{2, 3, 5} {
		h.recv(heartbeat(q, 5, 4))
	}
	h.now += time.Second
	h.fire(protocol.TimerSuspect, 0)
	h.expectNotes("peer 1 suspected view=5 leader=1 subject=4")
	// Confirmed: DEL 4 is queued behind DEL 5, nothing sent yet.
	h.expect(nil, h.fire(protocol.TimerSuspect, confirmWait))
	h.expectNotes()
	// Were the agreement kept, DEL 4 would follow DEL 5.
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
	// 3 hears 4 again: its report no longer names it. Nothing is sent:
	// the leader's own suspicions did not change.
	h.expect(nil, h.recv(heartbeat(3, 5)))
	h.expectNotes()
	// DEL 5 is decided; DEL 4, whose turn comes, is dropped.
	h.recv(protocol.Message{Type: protocol.MsgOK, From: 2, Ballot: b01, ViewID: 5})
	h.expect([]string{
		"NEWVIEW 1->2 b=(0,1) v=6 [1,2,3,4] by DEL 5 for #1",
		"NEWVIEW 1->3 b=(0,1) v=6 [1,2,3,4] by DEL 5 for #1",
		"NEWVIEW 1->4 b=(0,1) v=6 [1,2,3,4] by DEL 5 for #1",
		"NEWVIEW 1->5 b=(0,1) v=6 [1,2,3,4] by DEL 5",
	}, h.recv(protocol.Message{Type: protocol.MsgOK, From: 3, Ballot: b01, ViewID: 5}))
	h.expectNotes("peer 1 view-installed view=6 leader=1 [1,2,3,4]")
	if got := h.p.Status().Suspects; !cmp.Equal(got, ids(4)) {
		t.Errorf("suspects = %v, want [4]", got)
	}
	// 2 and 3 report 4 at view 6: agreed again, and once confirmed, it
	// goes.
	h.expect(nil, h.recv(heartbeat(2, 6, 4)))
	h.expect(nil, h.recv(heartbeat(3, 6, 4)))
	h.expectNotes()
	h.expect([]string{"REQ 1->2 b=(0,1) v=6 DEL 4", "REQ 1->3 b=(0,1) v=6 DEL 4", "REQ 1->4 b=(0,1) v=6 DEL 4"},
		h.fire(protocol.TimerSuspect, confirmWait))
	h.expectNotes("peer 1 proposed view=6 leader=1 DEL 4 ballot=(0,1)")
}

// A follower of [1,2,3] whose detector alone suspects leader 1 does not
// campaign: 3 still hears 1. It campaigns once 3 reports 1 too, and that
// has held for confirmWait.
func TestAgreement_FollowerAloneDoesNotCampaign(t *testing.T) {
	h := member(t, 2, 5, 3, 1, 2, 3)
	h.now = 2 * time.Second
	h.recv(heartbeat(3, 3))
	h.expect([]string{
		"HEARTBEAT 2->1 b=(0,1) v=3 suspects=[1]",
		"HEARTBEAT 2->3 b=(0,1) v=3 suspects=[1]",
	}, h.fire(protocol.TimerSuspect, 200*time.Millisecond))
	h.expectNotes("peer 2 suspected view=3 leader=1 subject=1")
	if st := h.p.Status(); st.Role != "follower" || st.Leader != 1 {
		t.Errorf("role %s following %d, want follower of 1", st.Role, st.Leader)
	}
	h.expect(nil, h.recv(heartbeat(3, 3, 1)))
	h.expectNotes()
	h.expect([]string{"NEWLEADER 2->1 b=(1,2) v=3", "NEWLEADER 2->3 b=(1,2) v=3"},
		h.fire(protocol.TimerSuspect, confirmWait))
	h.expectNotes("peer 2 candidate view=3 leader=1 ballot=(1,2)")
}

// Others' reports alone do not make a follower campaign: its own detector
// must speak too.
func TestAgreement_FollowerHearingItsLeaderDoesNotCampaign(t *testing.T) {
	h := member(t, 2, 5, 5, 1, 2, 3, 4, 5)
	h.now = 2 * time.Second
	h.recv(heartbeat(1, 5))
	for _, q := range []protocol.PeerID{3, 4, 5} {
		h.expect(nil, h.recv(heartbeat(q, 5, 1)))
	}
	h.expectNotes()
	if st := h.p.Status(); st.Role != "follower" || st.Leader != 1 {
		t.Errorf("role %s following %d, want follower of 1", st.Role, st.Leader)
	}
}

// A report from an observer this peer suspects does not count for the
// agreement: in [1,2,3], with 2 suspected, 3 has no other observer this
// leader trusts, and is not removed. Once 2 is heard again, its report
// counts anew and completes the agreement.
func TestAgreement_SuspectedObserverReportDoesNotCount(t *testing.T) {
	h := leader(t, 3, 5)
	t0 := h.now // every member last heard now
	// 2 reports 3 at once, then falls silent; 3 is heard last 0.5s later.
	h.recv(heartbeat(2, 3, 3))
	h.now = t0 + 500*time.Millisecond
	h.recv(heartbeat(3, 3))
	h.expect([]string{
		"HEARTBEAT 1->2 b=(0,1) v=3 suspects=[2]",
		"HEARTBEAT 1->3 b=(0,1) v=3 suspects=[2]",
	}, h.fire(protocol.TimerSuspect, 1700*time.Millisecond)) // t0+2.2s
	h.expectNotes("peer 1 suspected view=3 leader=1 subject=2")
	// t0+2.7s: 3 is suspected too. 2's report of 3 is 2's last word, but
	// 2 is suspected: it does not count, and 1 alone is no majority.
	h.expect([]string{
		"HEARTBEAT 1->2 b=(0,1) v=3 suspects=[2,3]",
		"HEARTBEAT 1->3 b=(0,1) v=3 suspects=[2,3]",
	}, h.fire(protocol.TimerSuspect, 500*time.Millisecond))
	h.expectNotes("peer 1 suspected view=3 leader=1 subject=3")
	if !h.p.Idle() {
		t.Errorf("leader not idle: a suspected observer's report counted")
	}
	// 2 is heard again, its report unchanged: trusted again, it completes
	// the agreement on 3, and 3 goes once that is confirmed.
	h.now += 100 * time.Millisecond
	h.expect([]string{
		"HEARTBEAT 1->2 b=(0,1) v=3 suspects=[3]",
		"HEARTBEAT 1->3 b=(0,1) v=3 suspects=[3]",
	}, h.recv(heartbeat(2, 3, 3)))
	h.expectNotes("peer 1 suspicion-cleared view=3 leader=1 subject=2")
	h.expect([]string{
		"REQ 1->2 b=(0,1) v=3 DEL 3",
		"REQ 1->3 b=(0,1) v=3 DEL 3",
	}, h.fire(protocol.TimerSuspect, confirmWait))
	h.expectNotes("peer 1 proposed view=3 leader=1 DEL 3 ballot=(0,1)")
}

// Nor does it count against: in [1,2,3,4], 2, suspected, never reported
// 4, yet 4 is removed on the word of the leader and 3.
func TestAgreement_SuspectedObserverHasNoVeto(t *testing.T) {
	h := leader(t, 4, 5)
	t0 := h.now // every member last heard now
	h.now = t0 + time.Second
	for _, q := range []protocol.PeerID{3, 4} {
		h.recv(heartbeat(q, 4))
	}
	h.fire(protocol.TimerSuspect, 1200*time.Millisecond) // t0+2.2s
	h.expectNotes("peer 1 suspected view=4 leader=1 subject=2")
	h.now = t0 + 3*time.Second
	h.recv(heartbeat(3, 4, 2, 4))
	// t0+3.2s: 4 is suspected, and no longer trusted: 2 and 4 are both
	// agreed failed.
	h.expect([]string{
		"HEARTBEAT 1->2 b=(0,1) v=4 suspects=[2,4]",
		"HEARTBEAT 1->3 b=(0,1) v=4 suspects=[2,4]",
		"HEARTBEAT 1->4 b=(0,1) v=4 suspects=[2,4]",
	}, h.fire(protocol.TimerSuspect, 200*time.Millisecond))
	h.expectNotes("peer 1 suspected view=4 leader=1 subject=4")
	// Confirmed at t0+3.31s: DEL 2 first, DEL 4 queued behind it.
	h.expect([]string{
		"REQ 1->2 b=(0,1) v=4 DEL 2",
		"REQ 1->3 b=(0,1) v=4 DEL 2",
		"REQ 1->4 b=(0,1) v=4 DEL 2",
	}, h.fire(protocol.TimerSuspect, confirmWait))
	h.expectNotes("peer 1 proposed view=4 leader=1 DEL 2 ballot=(0,1)")
	// DEL 4 waits its turn behind DEL 2, still agreed: it follows.
	h.expect([]string{
		"NEWVIEW 1->3 b=(0,1) v=5 [1,3,4] by DEL 2 for #1",
		"NEWVIEW 1->4 b=(0,1) v=5 [1,3,4] by DEL 2 for #1",
		"NEWVIEW 1->2 b=(0,1) v=5 [1,3,4] by DEL 2",
		"REQ 1->3 b=(0,1) v=5 DEL 4",
		"REQ 1->4 b=(0,1) v=5 DEL 4",
	}, h.recv(protocol.Message{Type: protocol.MsgOK, From: 3, Ballot: b01, ViewID: 4}))
}

// Nor does a member that asks to join again, removed or restarted: it
// beats no more, so it would never report anything. In [1..5] led by 1,
// 5 is rejoining (its JOINs keep it from being suspected); 1 crashes, and
// 2, 3 and 4 agree without it.
func TestAgreement_JoinerHasNoVeto(t *testing.T) {
	h := member(t, 2, 5, 5, 1, 2, 3, 4, 5)
	h.now = 2 * time.Second
	h.recv(heartbeat(3, 5, 1))
	h.recv(heartbeat(4, 5, 1))
	h.expect([]string{"REDIRECT 2->5 leader=1"}, h.recv(protocol.Message{Type: protocol.MsgJoin, From: 5, ViewID: 6, Op: add(5, 1)}))
	h.expect([]string{
		"HEARTBEAT 2->1 b=(0,1) v=5 suspects=[1]",
		"HEARTBEAT 2->3 b=(0,1) v=5 suspects=[1]",
		"HEARTBEAT 2->4 b=(0,1) v=5 suspects=[1]",
		"HEARTBEAT 2->5 b=(0,1) v=5 suspects=[1]",
	}, h.fire(protocol.TimerSuspect, 200*time.Millisecond))
	h.expectNotes("peer 2 suspected view=5 leader=1 subject=1")
	h.expect([]string{
		"NEWLEADER 2->1 b=(1,2) v=5",
		"NEWLEADER 2->3 b=(1,2) v=5",
		"NEWLEADER 2->4 b=(1,2) v=5",
		"NEWLEADER 2->5 b=(1,2) v=5",
	}, h.fire(protocol.TimerSuspect, confirmWait))
	h.expectNotes("peer 2 candidate view=5 leader=1 ballot=(1,2)")
}

// A report counts only from a heartbeat of this peer's view: a lagging
// member's is not taken (it is sent the view), until it beats at the view.
func TestAgreement_ReportOfAnotherViewNotCounted(t *testing.T) {
	h := leader(t, 3, 5)
	h.now += 2 * time.Second
	h.recv(heartbeat(2, 3))
	h.fire(protocol.TimerSuspect, 500*time.Millisecond)
	h.expectNotes("peer 1 suspected view=3 leader=1 subject=3")
	h.expect([]string{"NEWVIEW 1->2 b=(0,1) v=3 [1,2,3] by ADD 3#1 for #1"}, h.recv(heartbeat(2, 2, 3)))
	h.expect(nil, h.recv(heartbeat(2, 3, 3)))
	h.expect([]string{"REQ 1->2 b=(0,1) v=3 DEL 3", "REQ 1->3 b=(0,1) v=3 DEL 3"},
		h.fire(protocol.TimerSuspect, confirmWait))
}

// In a view of two, the other member's only observer decides alone, as
// before agreement: the leader removes its follower, and the follower
// campaigns against its leader, on their own detectors, once their
// suspicion has held for confirmWait.
func TestAgreement_ViewOfTwoDecidesAlone(t *testing.T) {
	t.Run("leader", func(t *testing.T) {
		h := leader(t, 2, 3)
		h.now += 2 * time.Second
		h.expect([]string{"HEARTBEAT 1->2 b=(0,1) v=2 suspects=[2]"},
			h.fire(protocol.TimerSuspect, 500*time.Millisecond))
		h.expectNotes("peer 1 suspected view=2 leader=1 subject=2")
		// The leader alone is a quorum of [1,2]: DEL 2 is decided at once.
		h.expect([]string{"REQ 1->2 b=(0,1) v=2 DEL 2", "NEWVIEW 1->2 b=(0,1) v=3 [1] by DEL 2"},
			h.fire(protocol.TimerSuspect, confirmWait))
		h.expectNotes("peer 1 proposed view=2 leader=1 DEL 2 ballot=(0,1)", "peer 1 view-installed view=3 leader=1 [1]")
	})
	t.Run("follower", func(t *testing.T) {
		h := member(t, 2, 3, 2, 1, 2)
		h.now = 2 * time.Second
		h.expect([]string{"HEARTBEAT 2->1 b=(0,1) v=2 suspects=[1]"},
			h.fire(protocol.TimerSuspect, 200*time.Millisecond))
		h.expectNotes("peer 2 suspected view=2 leader=1 subject=1")
		h.expect([]string{"NEWLEADER 2->1 b=(1,2) v=2"}, h.fire(protocol.TimerSuspect, confirmWait))
		h.expectNotes("peer 2 candidate view=2 leader=1 ballot=(1,2)")
	})
}

// agreedOn3 returns leader 1 of [1,2,3] at the moment 3 becomes agreed
// failed: 2 reported it first, and the leader's own detector has just
// spoken, sharing the suspicion and nothing else.
func agreedOn3(t *testing.T) *harness {
	t.Helper()
	h := leader(t, 3, 5)
	h.now += 2 * time.Second
	h.expect(nil, h.recv(heartbeat(2, 3, 3)))
	h.expect([]string{
		"HEARTBEAT 1->2 b=(0,1) v=3 suspects=[3]",
		"HEARTBEAT 1->3 b=(0,1) v=3 suspects=[3]",
	}, h.fire(protocol.TimerSuspect, 500*time.Millisecond))
	h.expectNotes("peer 1 suspected view=3 leader=1 subject=3")
	// The suspect timer is armed for the confirmation.
	h.expectDue(protocol.TimerSuspect, h.now+confirmWait)
	if !h.p.Idle() {
		t.Errorf("leader not idle at the agreement: something was queued before confirmation")
	}
	return h
}

var del3 = []string{"REQ 1->2 b=(0,1) v=3 DEL 3", "REQ 1->3 b=(0,1) v=3 DEL 3"}

// A removal waits until the agreement has held for confirmWait: nothing
// at the step that completes it, nor at any event within the wait; the
// REQ goes out when the suspect timer fires at agreedAt+confirmWait, or
// at any event from that moment on.
func TestAgreement_RemovalWaitsForConfirmation(t *testing.T) {
	h := agreedOn3(t)
	agreedAt := h.now
	// A millisecond short of it, 2 beats again, its report unchanged.
	h.now = agreedAt + confirmWait - time.Millisecond
	h.expect(nil, h.recv(heartbeat(2, 3, 3)))
	h.expectNotes()
	if !h.p.Idle() {
		t.Errorf("leader not idle %v after the agreement", h.now-agreedAt)
	}
	// A message that overtakes the timer at the very moment acts too: the
	// rule depends on the time alone, not on the timer.
	w := h.clone()
	w.now = agreedAt + confirmWait
	w.expect(del3, w.recv(heartbeat(2, 3, 3)))
	w.expectNotes("peer 1 proposed view=3 leader=1 DEL 3 ballot=(0,1)")
	// The timer fires at the moment: DEL 3.
	h.expect(del3, h.fire(protocol.TimerSuspect, time.Millisecond))
	h.expectNotes("peer 1 proposed view=3 leader=1 DEL 3 ballot=(0,1)")
	if h.now != agreedAt+confirmWait {
		t.Errorf("proposed at %v after the agreement, want %v", h.now-agreedAt, confirmWait)
	}
}

// An agreement broken before it is confirmed proposes nothing: 50 ms after
// it formed, either 2 withdraws its report, or 3 is heard again by the
// leader (which shares that at once). The suspect timer, firing at the
// moment the agreement would have been confirmed, finds nothing to do.
func TestAgreement_BrokenBeforeConfirmationProposesNothing(t *testing.T) {
	tests := []struct {
		name  string
		msg   protocol.Message
		sent  []string
		notes []string
	}{
		{"report withdrawn", heartbeat(2, 3), nil, nil},
		{"member heard again", heartbeat(3, 3),
			[]string{"HEARTBEAT 1->2 b=(0,1) v=3", "HEARTBEAT 1->3 b=(0,1) v=3"},
			[]string{"peer 1 suspicion-cleared view=3 leader=1 subject=3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := agreedOn3(t)
			agreedAt := h.now
			h.now = agreedAt + 50*time.Millisecond
			h.expect(tt.sent, h.recv(tt.msg))
			h.expectNotes(tt.notes...)
			h.expectDue(protocol.TimerSuspect, agreedAt+confirmWait)
			h.expect(nil, h.fire(protocol.TimerSuspect, confirmWait-50*time.Millisecond))
			h.expectNotes()
			if !h.p.Idle() {
				t.Errorf("leader not idle: the broken agreement queued a removal")
			}
			// Nor does anything come of it later: the next suspect timer
			// is for a member's silence, not for 3's agreement.
			if h.due[protocol.TimerSuspect] <= h.now {
				t.Errorf("suspect timer due at %v, not after %v", h.due[protocol.TimerSuspect], h.now)
			}
		})
	}
}

// An agreement broken and formed again waits confirmWait from its new
// start: the moment the first one would have been confirmed passes
// without a removal.
func TestAgreement_FormedAgainRestartsTheWait(t *testing.T) {
	h := agreedOn3(t)
	first := h.now
	h.now = first + 50*time.Millisecond
	h.expect(nil, h.recv(heartbeat(2, 3))) // broken
	h.now = first + 80*time.Millisecond
	h.expect(nil, h.recv(heartbeat(2, 3, 3))) // formed again
	again := h.now
	h.expectDue(protocol.TimerSuspect, again+confirmWait)
	// The first agreement's moment: nothing.
	h.now = first + confirmWait
	h.expect(nil, h.recv(heartbeat(2, 3, 3)))
	h.now = again + confirmWait - time.Millisecond
	h.expect(nil, h.recv(heartbeat(2, 3, 3)))
	h.expectNotes()
	if !h.p.Idle() {
		t.Errorf("leader not idle before the second agreement was confirmed")
	}
	h.expect(del3, h.fire(protocol.TimerSuspect, time.Millisecond))
	h.expectNotes("peer 1 proposed view=3 leader=1 DEL 3 ballot=(0,1)")
	if h.now != again+confirmWait {
		t.Errorf("proposed at %v after the second agreement, want %v", h.now-again, confirmWait)
	}
}

// A follower's candidacy waits the same way: in [1,2,3], 3 reports leader
// 1 and 2's detector speaks at 2.2s. A break before confirmation (3 hears
// 1 again) cancels the candidacy; formed again, it waits confirmWait anew.
func TestAgreement_CandidacyWaitsForConfirmation(t *testing.T) {
	h := member(t, 2, 5, 3, 1, 2, 3)
	h.now = 2 * time.Second
	h.expect(nil, h.recv(heartbeat(3, 3, 1)))
	h.expect([]string{
		"HEARTBEAT 2->1 b=(0,1) v=3 suspects=[1]",
		"HEARTBEAT 2->3 b=(0,1) v=3 suspects=[1]",
	}, h.fire(protocol.TimerSuspect, 200*time.Millisecond))
	h.expectNotes("peer 2 suspected view=3 leader=1 subject=1")
	first := h.now // 2.2s
	h.expectDue(protocol.TimerSuspect, first+confirmWait)
	follower := func() {
		t.Helper()
		if st := h.p.Status(); st.Role != "follower" || st.Leader != 1 {
			t.Errorf("at %v: role %s following %d, want follower of 1", h.now, st.Role, st.Leader)
		}
	}
	follower()
	// Would it hold, 2 would campaign at 2.31s.
	w := h.clone()
	w.expect([]string{"NEWLEADER 2->1 b=(1,2) v=3", "NEWLEADER 2->3 b=(1,2) v=3"},
		w.fire(protocol.TimerSuspect, confirmWait))
	w.expectNotes("peer 2 candidate view=3 leader=1 ballot=(1,2)")
	// 3 hears 1 again at 2.25s: broken. The timer at 2.31s does nothing.
	h.now = first + 50*time.Millisecond
	h.expect(nil, h.recv(heartbeat(3, 3)))
	h.expect(nil, h.fire(protocol.TimerSuspect, confirmWait-50*time.Millisecond))
	h.expectNotes()
	follower()
	// 3 suspects 1 again at 2.4s: the wait starts over.
	h.now = first + 200*time.Millisecond
	h.expect(nil, h.recv(heartbeat(3, 3, 1)))
	again := h.now
	h.expectDue(protocol.TimerSuspect, again+confirmWait)
	h.now = again + confirmWait - time.Millisecond
	h.expect(nil, h.recv(heartbeat(3, 3, 1)))
	h.expectNotes()
	follower()
	h.expect([]string{"NEWLEADER 2->1 b=(1,2) v=3", "NEWLEADER 2->3 b=(1,2) v=3"},
		h.fire(protocol.TimerSuspect, time.Millisecond))
	h.expectNotes("peer 2 candidate view=3 leader=1 ballot=(1,2)")
	if h.now != again+confirmWait {
		t.Errorf("campaigned at %v after the agreement, want %v", h.now-again, confirmWait)
	}
}

// Every heartbeat carries the sender's suspects, sorted whatever order
// they were raised in. A change, new suspicion or cleared one, is sent to
// every other member at once; a step that changes none sends none.
func TestHeartbeat_CarriesSuspectsSorted(t *testing.T) {
	h := member(t, 3, 5, 5, 1, 2, 3, 4, 5)
	h.now = time.Second
	for _, q := range []protocol.PeerID{1, 2, 4} {
		h.expect(nil, h.recv(heartbeat(q, 5)))
	}
	// 5, silent since 0s, is suspected first.
	h.expect([]string{
		"HEARTBEAT 3->1 b=(0,1) v=5 suspects=[5]",
		"HEARTBEAT 3->2 b=(0,1) v=5 suspects=[5]",
		"HEARTBEAT 3->4 b=(0,1) v=5 suspects=[5]",
		"HEARTBEAT 3->5 b=(0,1) v=5 suspects=[5]",
	}, h.fire(protocol.TimerSuspect, 1200*time.Millisecond)) // 2.2s
	// 1 and 4 beat, 2 does not: 2 is suspected next.
	h.now = 3 * time.Second
	h.expect(nil, h.recv(heartbeat(1, 5)))
	h.expect(nil, h.recv(heartbeat(4, 5, 5)))
	h.expect([]string{
		"HEARTBEAT 3->1 b=(0,1) v=5 suspects=[2,5]",
		"HEARTBEAT 3->2 b=(0,1) v=5 suspects=[2,5]",
		"HEARTBEAT 3->4 b=(0,1) v=5 suspects=[2,5]",
		"HEARTBEAT 3->5 b=(0,1) v=5 suspects=[2,5]",
	}, h.fire(protocol.TimerSuspect, 200*time.Millisecond)) // 3.2s
	h.expectNotes("peer 3 suspected view=5 leader=1 subject=2")
	// Nothing changed: an early suspect timer, a heartbeat from a member
	// trusted already, another's changed report send nothing.
	h.expect(nil, h.fire(protocol.TimerSuspect, 0))
	h.expect(nil, h.recv(heartbeat(1, 5)))
	h.expect(nil, h.recv(heartbeat(4, 5, 2, 5)))
	h.expectNotes()
	// The regular beat carries them.
	h.expect([]string{
		"HEARTBEAT 3->1 b=(0,1) v=5 suspects=[2,5]",
		"HEARTBEAT 3->2 b=(0,1) v=5 suspects=[2,5]",
		"HEARTBEAT 3->4 b=(0,1) v=5 suspects=[2,5]",
		"HEARTBEAT 3->5 b=(0,1) v=5 suspects=[2,5]",
	}, h.fire(protocol.TimerHeartbeat, 0))
	// 5 is heard again: the cleared suspicion goes out at once.
	h.expect([]string{
		"HEARTBEAT 3->1 b=(0,1) v=5 suspects=[2]",
		"HEARTBEAT 3->2 b=(0,1) v=5 suspects=[2]",
		"HEARTBEAT 3->4 b=(0,1) v=5 suspects=[2]",
		"HEARTBEAT 3->5 b=(0,1) v=5 suspects=[2]",
	}, h.recv(heartbeat(5, 5)))
	h.expectNotes("peer 3 suspicion-cleared view=5 leader=1 subject=5")
	// And with none left, the heartbeat carries none.
	h.expect([]string{
		"HEARTBEAT 3->1 b=(0,1) v=5",
		"HEARTBEAT 3->2 b=(0,1) v=5",
		"HEARTBEAT 3->4 b=(0,1) v=5",
		"HEARTBEAT 3->5 b=(0,1) v=5",
	}, h.recv(heartbeat(2, 5)))
	for _, m := range h.last.Messages {
		if m.Members != nil {
			t.Errorf("%v carries Members %v, want nil", m, m.Members)
		}
	}
}

// The wire carries a HEARTBEAT's suspects as a member list: sorted, each
// id a delta above the one before, and a heartbeat without suspects as
// the count 0.
func TestWire_HeartbeatSuspectsRoundTrip(t *testing.T) {
	if protocol.WireVersion < 3 {
		t.Fatalf("WireVersion = %d: HEARTBEAT carries suspects since version 3", protocol.WireVersion)
	}
	tests := []struct {
		name string
		m    protocol.Message
		want []byte
	}{
		{"suspects", protocol.Message{Type: protocol.MsgHeartbeat, From: 3, To: 1, Incarnation: 7,
			Ballot: protocol.Ballot{Round: 2, Leader: 3}, ViewID: 9, Members: ids(2, 5, 300)},
			[]byte{protocol.WireVersion, byte(protocol.MsgHeartbeat), 3, 1, 7, 2, 3, 9, 3, 2, 3, 0xa7, 0x02}},
		{"none", protocol.Message{Type: protocol.MsgHeartbeat, From: 3, To: 1, Incarnation: 7,
			Ballot: protocol.Ballot{Round: 2, Leader: 3}, ViewID: 9},
			[]byte{protocol.WireVersion, byte(protocol.MsgHeartbeat), 3, 1, 7, 2, 3, 9, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustEncode(t, tt.m)
			if diff := cmp.Diff(tt.want, b); diff != "" {
				t.Errorf("Encode(%v) (-want +got):\n%s", tt.m, diff)
			}
			got, err := protocol.Decode(b)
			if err != nil {
				t.Fatalf("Decode(% x): %v", b, err)
			}
			if diff := cmp.Diff(tt.m, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
	// An empty, non-nil list is no suspect either: it encodes as none,
	// and comes back nil.
	empty := protocol.Message{Type: protocol.MsgHeartbeat, From: 3, To: 1, Ballot: b01, ViewID: 9, Members: []protocol.PeerID{}}
	got, err := protocol.Decode(mustEncode(t, empty))
	if err != nil {
		t.Fatal(err)
	}
	if got.Members != nil {
		t.Errorf("Members = %#v, want nil", got.Members)
	}
	if s := tests[0].m.String(); s != "HEARTBEAT 3->1 b=(2,3) v=9 suspects=[2,5,300]" {
		t.Errorf("String() = %q", s)
	}
}
