package sim

import (
	"fmt"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

// heldInput is an input that reached a stopped peer; the peer handles it
// when it continues.
type heldInput struct {
	ev    protocol.Event
	msgID uint64 // a message's id, linking its delivery to its send in the trace
}

// pause stops a live peer, as SIGSTOP stops a process, until a.Until (or
// until the liveness phase, without one). Pauses nest: the peer continues
// when the last one in force ends.
func (w *world) pause(a scenarios.Action) {
	sp := w.peers[a.Peer]
	if !sp.alive {
		w.fault(sp.id, FaultSkipped, fmt.Sprintf("pause p%d: down; skipped", sp.id))
		return
	}
	w.fault(sp.id, FaultPause, describePause(a))
	w.rem.touch(sp.id, w.now)
	sp.pauses++
	if a.Until > a.At {
		w.schedule(item{at: w.now + a.Until - a.At, kind: itemResume, peer: sp.id, incarnation: sp.incarnation})
	}
}

// unpause ends one pause of the process the item was for, if it is still
// there, and lets it continue once no other pause holds it.
func (w *world) unpause(it item) {
	sp := w.peers[it.peer]
	if w.healed || !sp.alive || sp.incarnation != it.incarnation || sp.pauses == 0 {
		return // ended already: by the heal, or with the process
	}
	if sp.pauses--; sp.pauses == 0 {
		w.resume(sp)
	}
}

// resume lets a stopped peer continue: first the rest of the step it was
// stopped in goes out, then it handles what waited for it, in order. It
// stops there if one of those stops it again or ends it.
func (w *world) resume(sp *simPeer) {
	if len(sp.outbox) > 0 {
		w.fault(sp.id, FaultResume, fmt.Sprintf("resume p%d: %d messages of its last step unsent, %d inputs waited", sp.id, len(sp.outbox), len(sp.held)))
	} else {
		w.fault(sp.id, FaultResume, fmt.Sprintf("resume p%d: %d inputs waited", sp.id, len(sp.held)))
	}
	sp.pauses = 0
	inc := sp.incarnation
	if out := sp.outbox; len(out) > 0 {
		sp.outbox = nil
		for _, m := range out {
			if !sp.alive || sp.incarnation != inc || sp.pauses > 0 {
				sp.outbox = append(sp.outbox, m) // stopped again: the rest waits
				continue
			}
			w.sendChecked(sp, m)
		}
		w.reportLost(sp)
	}
	for len(sp.held) > 0 && sp.alive && sp.incarnation == inc && sp.pauses == 0 {
		h := sp.held[0]
		sp.held = sp.held[1:]
		if h.ev.Type == protocol.EventMessage {
			w.handOver(sp, h.ev.Msg, h.msgID)
			continue
		}
		w.step(sp, h.ev)
	}
}

// hold keeps ev for a stopped peer.
func (w *world) hold(sp *simPeer, ev protocol.Event, msgID uint64) {
	sp.held = append(sp.held, heldInput{ev: ev, msgID: msgID})
	if ev.Type == protocol.EventMessage {
		w.p.held(w, ev.Msg)
	}
}

// endProcess forgets what a process's pauses kept: it is gone, and the
// next process of the peer starts afresh.
func (sp *simPeer) endProcess() {
	sp.pauses, sp.held, sp.outbox = 0, nil, nil
	sp.syncing, sp.unsynced, sp.afterSync = false, nil, nil
}

func describePause(a scenarios.Action) string {
	if a.Until > a.At {
		return fmt.Sprintf("pause p%d until %v", a.Peer, a.Until)
	}
	return fmt.Sprintf("pause p%d", a.Peer)
}
