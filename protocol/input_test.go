package protocol_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/memberly/memberly/protocol"
)

// Bad input gets an error naming what is wrong and changes nothing.
func TestStep_RejectsBadMessagesKeepingState(t *testing.T) {
	h := member(t, 3, 5, 3, 1, 2, 3)
	before := h.p.Status()
	cases := []struct {
		msg  protocol.Message
		want string
	}{
		{protocol.Message{Type: protocol.MsgHeartbeat, From: 9, To: 3, ViewID: 3}, "from unknown peer 9 (universe 1..5)"},
		{protocol.Message{Type: protocol.MsgHeartbeat, From: 0, To: 3}, "from unknown peer 0"},
		{protocol.Message{Type: protocol.MsgHeartbeat, From: 3, To: 3}, "claims to come from this peer"},
		{protocol.Message{Type: protocol.MsgHeartbeat, From: 1, To: 2}, "addressed to 2, not to this peer (3)"},
		{protocol.Message{Type: 99, From: 1, To: 3}, "unknown type 99"},
		{protocol.Message{Type: protocol.MsgNewView, From: 1, To: 3, ViewID: 9, Members: ids(3, 2)}, "out of order"},
		{protocol.Message{Type: protocol.MsgNewView, From: 1, To: 3, ViewID: 9, Members: ids(1, 3, 8)}, "outside the universe"},
		{protocol.Message{Type: protocol.MsgNewView, From: 1, To: 3, ViewID: 9}, "empty view"},
		{protocol.Message{Type: protocol.MsgReq, From: 1, To: 3, ViewID: 3, Op: protocol.Op{Kind: 7, Peer: 1}}, "invalid operation"},
		{protocol.Message{Type: protocol.MsgReq, From: 1, To: 3, ViewID: 3, Op: del(6)}, "invalid operation"},
		{protocol.Message{Type: protocol.MsgNack, From: 1, To: 3, Ballot: protocol.Ballot{Round: 9, Leader: 77}}, "outside the universe"},
		{protocol.Message{Type: protocol.MsgJoin, From: 4, To: 3, Op: add(2, 1)}, "JOIN from 4 asks for ADD 2#1"},
	}
	for _, c := range cases {
		_, err := h.p.Step(protocol.Event{Type: protocol.EventMessage, Now: h.now, Msg: c.msg})
		if !errors.Is(err, protocol.ErrBadMessage) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want ErrBadMessage containing %q", c.msg, err, c.want)
		}
	}
	if diff := cmp.Diff(before, h.p.Status()); diff != "" {
		t.Errorf("bad input changed the peer (-before +after):\n%s", diff)
	}
}

// A view id or ballot round of MaxUint64 leaves no next one: refused, and
// the peer is as it was.
func TestStep_RefusesLargestCounterKeepingState(t *testing.T) {
	const largest = math.MaxUint64
	cases := []struct {
		name string
		msg  protocol.Message
		want string
	}{
		{"NEWVIEW view id", protocol.Message{Type: protocol.MsgNewView, From: 1, Ballot: b01, ViewID: largest, Members: ids(1, 2, 3), Op: del(4)},
			"NEWVIEW from 1: view id 18446744073709551615 is the largest value: the next one would wrap"},
		{"NEWLEADER ballot round", protocol.Message{Type: protocol.MsgNewLeader, From: 2, Ballot: protocol.Ballot{Round: largest, Leader: 2}, ViewID: 3},
			"NEWLEADER from 2: ballot round 18446744073709551615 is the largest value: the next one would wrap"},
		{"HEARTBEAT view id", protocol.Message{Type: protocol.MsgHeartbeat, From: 2, Ballot: b01, ViewID: largest},
			"HEARTBEAT from 2: view id 18446744073709551615 is the largest value"},
		{"NACK ballot round", protocol.Message{Type: protocol.MsgNack, From: 2, Ballot: protocol.Ballot{Round: largest, Leader: 2}, ViewID: 3},
			"NACK from 2: ballot round 18446744073709551615 is the largest value"},
		{"PENDING op ballot round", protocol.Message{Type: protocol.MsgPending, From: 2, Ballot: b12, ViewID: 3, Members: ids(1, 2, 3), Op: del(1), OpBallot: protocol.Ballot{Round: largest, Leader: 1}},
			"PENDING from 2: op ballot round 18446744073709551615 is the largest value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := member(t, 3, 5, 3, 1, 2, 3)
			before, view := h.p.Status(), h.p.View()
			m := c.msg
			m.To = h.p.ID()
			out, err := h.p.Step(protocol.Event{Type: protocol.EventMessage, Now: h.now, Msg: m})
			if !errors.Is(err, protocol.ErrBadMessage) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want ErrBadMessage containing %q", err, c.want)
			}
			if diff := cmp.Diff(protocol.Output{}, out, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("a refused message had output (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, h.p.Status()); diff != "" {
				t.Errorf("the refused message changed the peer (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(view, h.p.View()); diff != "" {
				t.Errorf("the refused message changed the view (-before +after):\n%s", diff)
			}
		})
	}
}

func TestStep_LifecycleErrors(t *testing.T) {
	p, _ := protocol.NewPeer(protocol.DefaultConfig(), 2, 3)
	if _, err := p.Step(protocol.Event{Type: protocol.EventTimer}); err != protocol.ErrNotStarted {
		t.Errorf("before start: %v, want ErrNotStarted", err)
	}
	if _, err := p.Step(protocol.Event{Type: protocol.EventStart, Now: time.Second}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Step(protocol.Event{Type: protocol.EventStart, Now: time.Second}); err != protocol.ErrAlreadyStarted {
		t.Errorf("second start: %v, want ErrAlreadyStarted", err)
	}
	if _, err := p.Step(protocol.Event{Type: protocol.EventTimer, Now: 0}); !errors.Is(err, protocol.ErrTimeBackwards) {
		t.Errorf("time going back: %v, want ErrTimeBackwards", err)
	}
	if _, err := p.Step(protocol.Event{Type: 42, Now: time.Second}); !errors.Is(err, protocol.ErrUnknownEvent) {
		t.Errorf("unknown event: %v, want ErrUnknownEvent", err)
	}
	// A stale timer (wrong generation) is ignored silently.
	out, err := p.Step(protocol.Event{Type: protocol.EventTimer, Now: 2 * time.Second, Timer: protocol.Timer{Kind: protocol.TimerJoin, Gen: 999}})
	if err != nil || len(out.Messages) != 0 {
		t.Errorf("stale timer: out %+v err %v, want nothing", out, err)
	}
	out, _ = p.Step(protocol.Event{Type: protocol.EventCrash, Now: 2 * time.Second})
	if !out.Stopped || len(out.Notes) != 1 || out.Notes[0].Kind != protocol.NoteCrashing {
		t.Errorf("crash output = %+v, want a crashing note and Stopped", out)
	}
	if line, _ := protocol.FormatNote(out.Notes[0]); line != `{peer_id:2, view_id: 0, leader: 1, message:"crashing"}` {
		t.Errorf("crash line = %s", line)
	}
}
