package protocol_test

import (
	"testing"
	"time"

	"github.com/memberly/memberly/protocol"
)

func TestJoin_StartAsksPeerOneThenMovesOn(t *testing.T) {
	h := newHarness(t, 3, 4, protocol.DefaultConfig())
	h.expect([]string{"JOIN 3->1 ADD 3#7"}, h.step(protocol.Event{Type: protocol.EventStart, Incarnation: 7}))
	h.expect([]string{"JOIN 3->2 ADD 3#7"}, h.fire(protocol.TimerJoin, time.Second))
	h.expect([]string{"JOIN 3->4 ADD 3#7"}, h.fire(protocol.TimerJoin, time.Second))
	h.expect([]string{"JOIN 3->1 ADD 3#7"}, h.fire(protocol.TimerJoin, time.Second))
}

func TestJoin_RedirectFollowedOncePerPeriod(t *testing.T) {
	h := newHarness(t, 4, 5, protocol.DefaultConfig())
	h.step(protocol.Event{Type: protocol.EventStart, Incarnation: 1})
	h.expect([]string{"JOIN 4->2 ADD 4#1"}, h.recv(protocol.Message{Type: protocol.MsgRedirect, From: 1, Leader: 2}))
	// A second redirect in the same period only retargets.
	h.expect(nil, h.recv(protocol.Message{Type: protocol.MsgRedirect, From: 2, Leader: 3}))
	// Answered: the retry stays with the named leader.
	h.expect([]string{"JOIN 4->3 ADD 4#1"}, h.fire(protocol.TimerJoin, time.Second))
}

func TestJoin_FollowerRedirects(t *testing.T) {
	h := member(t, 3, 5, 3, 1, 2, 3)
	h.expect([]string{"REDIRECT 3->4 leader=1"}, h.recv(protocol.Message{Type: protocol.MsgJoin, From: 4, Op: add(4, 1)}))
}

func TestLeave_MemberAsksLeaderAndStopsWhenOut(t *testing.T) {
	h := member(t, 3, 5, 3, 1, 2, 3)
	h.expect([]string{"LEAVE 3->1"}, h.step(protocol.Event{Type: protocol.EventLeave}))
	h.expect([]string{"LEAVE 3->1"}, h.fire(protocol.TimerRetry, 500*time.Millisecond))
	h.recv(protocol.Message{Type: protocol.MsgNewView, From: 1, Ballot: b01, ViewID: 4, Members: ids(1, 2), Op: del(3)})
	h.expectNotes("peer 3 left view=4 leader=1")
	if !h.last.Stopped {
		t.Errorf("not stopped after leaving")
	}
	if _, err := h.p.Step(protocol.Event{Type: protocol.EventTimer, Now: h.now}); err != protocol.ErrStopped {
		t.Errorf("Step after stop = %v, want ErrStopped", err)
	}
}

func TestLeave_TimesOut(t *testing.T) {
	h := member(t, 3, 5, 3, 1, 2, 3)
	h.step(protocol.Event{Type: protocol.EventLeave})
	h.fire(protocol.TimerLeave, 5*time.Second)
	h.expectNotes("peer 3 left view=3 leader=1 timed-out")
}

func TestLeave_LeaderAnswersLeaveOfNonMember(t *testing.T) {
	h := leader(t, 2, 5)
	h.expect([]string{"NOTMEMBER 1->4 v=2 leader=1"}, h.recv(protocol.Message{Type: protocol.MsgLeave, From: 4}))
}
