package sim

import (
	"fmt"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

// This file models the disk of a durable peer (Config.Durable) the way
// the real runtime uses its own: a step's state is written, then synced,
// and only then does anything else of that step happen (its log lines,
// messages and timers). A crash before the sync loses the write, and
// everything the step would have done; a crash after it keeps the state,
// and loses the rest. The state file is the real one
// (protocol.EncodeState), so a damaged file is refused at start as the
// peer binary refuses it.

// stateCluster is the cluster fingerprint of every simulated state file.
const stateCluster = 0x73696d756c61746f // "simulato"

// sideEffect is one effect of a step held back until its state is synced.
type sideEffect struct {
	note  *protocol.Note
	msg   *protocol.Message
	timer *protocol.TimerRequest
	stop  bool
}

// Save writes the state, not yet synced: the step's other effects wait for
// the sync, at the end of the step (sync).
func (fx simEffects) Save(s protocol.DurableState) error {
	if fx.w.done || fx.gone() {
		return nil
	}
	fx.sp.unsynced = protocol.EncodeState(s, stateCluster)
	fx.sp.syncing = true
	return nil
}

// holding reports whether the step's effects wait for the sync: a write
// of this process is pending. Callers check it before they take the
// address of an effect, so that the common case allocates nothing.
func (fx simEffects) holding() bool {
	return fx.sp.syncing && fx.sp.incarnation == fx.incarnation
}

// hold keeps e for after the sync (holding is true).
func (fx simEffects) hold(e sideEffect) {
	fx.sp.afterSync = append(fx.sp.afterSync, e)
}

// sync ends a step that wrote state: a crash or kill armed to happen
// before the sync of one of the step's messages (a trigger with fsync:
// before) ends the process with the write lost and nothing else of the
// step done; otherwise the write becomes the disk, and the held effects
// happen, in order.
func (w *world) sync(sp *simPeer, fx simEffects) {
	if !sp.syncing {
		return
	}
	held := sp.afterSync
	sp.syncing, sp.afterSync = false, nil
	if a, m, ok := w.crashBeforeSync(held); ok {
		sp.unsynced = nil
		var lost []protocol.Message
		for _, e := range held {
			if e.msg != nil {
				lost = append(lost, *e.msg)
			}
		}
		w.fault(sp.id, FaultTrigger, fmt.Sprintf("trigger: %s waits for p%d's state to be synced; before the fsync: %s", describeMessage(*m), sp.id, describeAction(a)))
		w.act(a)
		if len(lost) > 0 {
			w.fault(sp.id, FaultOther, fmt.Sprintf("p%d's state write is lost, and with it %s", sp.id, describeMessages(lost)))
		} else {
			w.fault(sp.id, FaultOther, fmt.Sprintf("p%d's state write is lost", sp.id))
		}
		return
	}
	sp.disk, sp.unsynced = sp.unsynced, nil
	for _, e := range held {
		switch {
		case e.note != nil:
			fx.Note(*e.note)
		case e.msg != nil:
			fx.Send(*e.msg)
		case e.timer != nil:
			fx.Timer(*e.timer)
		case e.stop:
			fx.Stop()
		}
	}
}

// crashBeforeSync disarms and returns the first armed crash or kill that
// waits for the sync of one of msgs, with the message that set it off.
func (w *world) crashBeforeSync(held []sideEffect) (scenarios.Action, *protocol.Message, bool) {
	for i, a := range w.armed {
		t := a.After
		if !t.BeforeSync {
			continue
		}
		for _, e := range held {
			m := e.msg
			if m == nil || !matches(t, m) {
				continue
			}
			w.armed = append(w.armed[:i:i], w.armed[i+1:]...)
			fired := a
			fired.After = nil
			fired.At = w.now
			return fired, m, true
		}
	}
	return scenarios.Action{}, nil, false
}

// storedState returns the state sp's next process resumes from: nil for
// a crash-stop peer or one that stored nothing yet. A state file the peer
// refuses keeps it down, as the binary exits with status 2 on one.
func (w *world) storedState(sp *simPeer, why string) (s *protocol.DurableState, refused bool) {
	if !w.cfg.Durable || sp.disk == nil {
		return nil, false
	}
	st, err := protocol.DecodeState(sp.disk, sp.id, stateCluster)
	if err != nil {
		// Not a start: the process refuses to run, so the peer stays down.
		w.fault(sp.id, FaultOther, fmt.Sprintf("p%d refuses its state file (%s): %v; it stays down (exit 2)", sp.id, why, err))
		return nil, true
	}
	return &st, false
}

// damage corrupts (truncate false: flips a byte in the middle) or tears
// (truncate true: keeps the first half) the state file of a peer.
func (w *world) damage(sp *simPeer, truncate bool) {
	switch {
	case sp.disk == nil:
		w.fault(sp.id, FaultSkipped, fmt.Sprintf("p%d has no state file to damage", sp.id))
	case truncate:
		sp.disk = sp.disk[: len(sp.disk)/2 : len(sp.disk)/2]
		w.fault(sp.id, FaultDamage, fmt.Sprintf("tear p%d's state file: %d bytes left", sp.id, len(sp.disk)))
	default:
		d := append([]byte(nil), sp.disk...)
		d[len(d)/2] ^= 0x5a
		sp.disk = d
		w.fault(sp.id, FaultDamage, fmt.Sprintf("corrupt p%d's state file: byte %d flipped", sp.id, len(d)/2))
	}
}
