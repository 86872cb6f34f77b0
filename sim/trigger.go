package sim

import (
	"fmt"
	"strings"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

// sendChecked sends one message of a step. A trigger that it sets off
// with no delay acts before it leaves: if that ends the sender, the
// message is never sent (and neither is the rest of the step); if it stops
// the sender, the message waits in its outbox until it continues.
func (w *world) sendChecked(sp *simPeer, m protocol.Message) {
	if len(w.armed) > 0 {
		if now := w.setOff(m); len(now) > 0 {
			inc := sp.incarnation
			for _, a := range now {
				w.act(a)
			}
			switch {
			case !sp.alive || sp.incarnation != inc || sp.crashPending():
				sp.lost = append(sp.lost, m)
				return
			case sp.pauses > 0:
				sp.outbox = append(sp.outbox, m)
				return
			}
		}
	}
	w.send(sp, m)
}

// setOff disarms every armed trigger that m matches, in timeline order.
// The actions of those without delay are returned, to happen before m
// leaves; the others are scheduled. Each action's At and Until move to
// when it happens.
func (w *world) setOff(m protocol.Message) (now []scenarios.Action) {
	armed := w.armed[:0]
	for _, a := range w.armed {
		t := a.After
		if !matches(t, &m) {
			armed = append(armed, a)
			continue
		}
		fired := a
		fired.After = nil
		fired.At = w.now + t.Delay
		if a.Until != 0 {
			fired.Until = fired.At + a.Until - a.At
		}
		if t.Delay == 0 {
			w.fault(m.From, FaultTrigger, fmt.Sprintf("trigger: %s about to leave; now: %s", describeMessage(m), describeAction(fired)))
			now = append(now, fired)
			continue
		}
		w.fault(m.From, FaultTrigger, fmt.Sprintf("trigger: %s sent; in %v: %s", describeMessage(m), t.Delay, describeAction(fired)))
		w.schedule(item{at: fired.At, kind: itemFire, kept: w.keep(fired)})
	}
	clear(w.armed[len(armed):]) // let the disarmed actions' slices go
	w.armed = armed
	return now
}

// matches reports whether m is a message t waits for: zero fields match
// anything.
func matches(t *scenarios.Trigger, m *protocol.Message) bool {
	return (t.Type == 0 || t.Type == m.Type) && (t.From == 0 || t.From == m.From) && (t.To == 0 || t.To == m.To)
}

// describeTrigger says when an armed action happens.
func describeTrigger(t scenarios.Trigger) string {
	what := describeMatch(t.Type, t.From, t.To, "message")
	if t.BeforeSync {
		return "before the fsync of the state the next " + what + " depends on"
	}
	if t.Delay == 0 {
		return "as the next " + what + " is about to leave"
	}
	return fmt.Sprintf("%v after the next %s is sent", t.Delay, what)
}

// describeMessage names a message by its type and both ends.
func describeMessage(m protocol.Message) string {
	return fmt.Sprintf("%s p%d->p%d", m.Type, m.From, m.To)
}

func describeMessages(msgs []protocol.Message) string {
	s := make([]string, len(msgs))
	for i, m := range msgs {
		s[i] = describeMessage(m)
	}
	return strings.Join(s, ", ")
}
