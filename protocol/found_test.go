package protocol_test

import (
	"testing"
	"time"

	"github.com/memberly/memberly/protocol"
)

// founder returns peer 1 of three, just started: it has asked both other
// hosts whether a cluster exists.
func founder(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t, 1, 3, protocol.DefaultConfig())
	h.expect([]string{"JOIN 1->2 ADD 1#2", "JOIN 1->3 ADD 1#2"}, h.step(protocol.Event{Type: protocol.EventStart, Incarnation: 2}))
	h.expectNotes()
	return h
}

func notMember(from protocol.PeerID, v protocol.ViewID, leader protocol.PeerID) protocol.Message {
	return protocol.Message{Type: protocol.MsgNotMember, From: from, ViewID: v, Leader: leader}
}

func TestFound_AfterAnIntervalWithoutAnswer(t *testing.T) {
	h := founder(t)
	h.fire(protocol.TimerJoin, time.Second)
	h.expectNotes("peer 1 view-installed view=1 leader=1 [1]")
}

func TestFound_AtOnceWhenEveryHostNeverHeldAView(t *testing.T) {
	h := founder(t)
	h.expect(nil, h.recv(notMember(2, 0, 0)))
	if h.p.View().ID != 0 {
		t.Fatalf("founded with host 3 unheard: %s", h.p.View())
	}
	h.recv(notMember(3, 0, 0))
	h.expectNotes("peer 1 view-installed view=1 leader=1 [1]")
}

// A JOIN from a peer that never held a view counts as its answer, and is
// served once the cluster is founded.
func TestFound_JoinsMeanwhileServedOnceFounded(t *testing.T) {
	h := founder(t)
	h.expect(nil, h.recv(protocol.Message{Type: protocol.MsgJoin, From: 2, Op: add(2, 1)}))
	h.expect([]string{"NEWVIEW 1->2 b=(0,1) v=2 [1,2] by ADD 2#1 for #1"}, h.recv(notMember(3, 0, 0)))
	h.expectNotes(
		"peer 1 view-installed view=1 leader=1 [1]",
		"peer 1 proposed view=1 leader=1 ADD 2#1 ballot=(0,1)",
		"peer 1 view-installed view=2 leader=1 [1,2]",
	)
}

// Any sign of a cluster makes peer 1 a joiner for good: a member's
// redirect, a non-member that knew a view, a JOIN from a peer that held
// one, a member's heartbeat.
func TestFound_NeverOnceAClusterShows(t *testing.T) {
	signs := map[string]protocol.Message{
		"redirect":             {Type: protocol.MsgRedirect, From: 3, Leader: 2},
		"non-member knew view": notMember(3, 7, 2),
		"join knew view":       {Type: protocol.MsgJoin, From: 3, ViewID: 7, Op: add(3, 4)},
		"member heartbeat":     {Type: protocol.MsgHeartbeat, From: 3, Ballot: protocol.Ballot{Round: 1, Leader: 2}, ViewID: 7},
	}
	for name, sign := range signs {
		t.Run(name, func(t *testing.T) {
			h := founder(t)
			h.recv(sign)
			h.recv(notMember(2, 0, 0))
			for range 3 {
				h.fire(protocol.TimerJoin, time.Second)
			}
			if h.p.View().ID != 0 {
				t.Errorf("founded %s after a sign of a cluster", h.p.View())
			}
		})
	}
}

func TestJoin_NonMemberAnswersWithWhatItKnows(t *testing.T) {
	h := newHarness(t, 3, 4, protocol.DefaultConfig())
	h.step(protocol.Event{Type: protocol.EventStart, Incarnation: 1})
	h.expect([]string{"NOTMEMBER 3->1 v=0 leader=0"}, h.recv(protocol.Message{Type: protocol.MsgJoin, From: 1, Op: add(1, 9)}))
	// Removed from view 6 led by 2, it says so.
	m := member(t, 3, 4, 5, 1, 2, 3)
	m.recv(protocol.Message{Type: protocol.MsgNewView, From: 2, Ballot: protocol.Ballot{Round: 1, Leader: 2}, ViewID: 6, Members: ids(1, 2), Op: del(3)})
	m.expect([]string{"NOTMEMBER 3->1 v=6 leader=2"}, m.recv(protocol.Message{Type: protocol.MsgJoin, From: 1, Op: add(1, 9)}))
}

// A message from another process under a member's id is no sign of life
// of that member: it is suspected at once, not after SuspectAfter, and the
// new process's messages never clear the suspicion.
func TestMember_OtherIncarnationSuspectedAtOnce(t *testing.T) {
	h := member(t, 2, 3, 3, 1, 2, 3)
	hb := protocol.Message{Type: protocol.MsgHeartbeat, From: 1, Incarnation: 5, Ballot: b01, ViewID: 3}
	h.recv(hb)
	h.expectNotes()
	h.now += 100 * time.Millisecond
	h.recv(notMember(1, 0, 0))
	h.expectNotes() // no incarnation named: cannot tell
	// 3 met the new process first: it reports 1 suspected (its heartbeat
	// comes from the same process as before, and tells nothing of 1).
	h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: 3, Ballot: b01, ViewID: 3, Members: ids(1)})
	h.expectNotes()
	restarted := notMember(1, 0, 0)
	restarted.Incarnation = 6
	// Suspected at once, and shared; both observers of 1 agree.
	h.expect([]string{
		"HEARTBEAT 2->1 b=(0,1) v=3 suspects=[1]",
		"HEARTBEAT 2->3 b=(0,1) v=3 suspects=[1]",
	}, h.recv(restarted))
	h.expectNotes("peer 2 suspected view=3 leader=1 subject=1")
	// The new process speaks again within confirmWait: neither the
	// suspicion nor the agreement breaks.
	h.now += 50 * time.Millisecond
	h.expect(nil, h.recv(restarted))
	h.expectNotes()
	if got := h.p.Status().Suspects; len(got) != 1 || got[0] != 1 {
		t.Errorf("suspects = %v, want [1]", got)
	}
	// Confirmed: 2, next in line, campaigns.
	h.expect([]string{
		"NEWLEADER 2->1 b=(1,2) v=3",
		"NEWLEADER 2->3 b=(1,2) v=3",
	}, h.fire(protocol.TimerSuspect, confirmWait-50*time.Millisecond))
	h.expectNotes("peer 2 candidate view=3 leader=1 ballot=(1,2)")
}

// A non-member's answer names a view without saying this peer is out of
// it: the peer still installs that view when its NEWVIEW adds it.
func TestJoin_NonMemberAnswerDoesNotHideAView(t *testing.T) {
	h := newHarness(t, 1, 3, protocol.DefaultConfig())
	h.step(protocol.Event{Type: protocol.EventStart, Incarnation: 4})
	h.recv(notMember(3, 12, 2))
	h.recv(protocol.Message{Type: protocol.MsgNewView, From: 2, Ballot: protocol.Ballot{Round: 1, Leader: 2}, ViewID: 12,
		Members: ids(1, 2), Op: del(3), ToIncarnation: 4})
	h.expectNotes("peer 1 view-installed view=12 leader=2 [1,2]")
}

// A peer 1 that a running cluster's leader adds while it is still asking
// is a member like any other: it founds nothing later.
func TestFound_AddedWhileAskingFoundsNothing(t *testing.T) {
	h := founder(t)
	h.recv(protocol.Message{Type: protocol.MsgNewView, From: 2, Ballot: protocol.Ballot{Round: 1, Leader: 2}, ViewID: 9,
		Members: ids(1, 2, 3), Op: add(1, 2)})
	h.expectNotes("peer 1 view-installed view=9 leader=2 [1,2,3]")
	h.recv(notMember(3, 0, 0))
	h.now += 2 * time.Second
	h.step(protocol.Event{Type: protocol.EventTimer, Timer: protocol.Timer{Kind: protocol.TimerJoin, Gen: 1}})
	if got := h.p.View().String(); got != "9[1,2,3]" {
		t.Errorf("view %s, want 9[1,2,3]", got)
	}
}
