package netrt

import (
	"context"
	"strconv"
	"time"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/protocol"
)

// loop is the event loop: the one goroutine that owns the peer. Everything
// else (socket readers, timers, operator requests) reaches the peer as an
// event through it, one at a time, as the protocol package requires. It
// returns when the peer stops (nil after a leave, ErrCrashed after a crash)
// or ctx ends (ctx's error: a kill, no leave).
func (r *runtime) loop(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var crash <-chan time.Time
	if r.opts.CrashAfter > 0 {
		t := time.NewTimer(r.opts.CrashAfter)
		defer t.Stop()
		crash = t.C
	}
	incarnation := r.opts.Incarnation
	if incarnation == 0 {
		// Wall-clock nanoseconds grow across restarts of a peer, as
		// incarnations should.
		incarnation = uint64(time.Now().UnixNano())
	}
	r.step(protocol.Event{Type: protocol.EventStart, Incarnation: incarnation})
	for !r.stopped {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m := <-r.inbox:
			r.step(protocol.Event{Type: protocol.EventMessage, Msg: m})
		case ev := <-r.control:
			r.step(ev)
		case <-r.timers.clock.C:
			for _, t := range r.timers.takeDue(r.now()) {
				if r.stopped {
					break
				}
				r.step(protocol.Event{Type: protocol.EventTimer, Timer: t})
			}
			r.timers.reset(r.now())
		case <-crash:
			r.step(protocol.Event{Type: protocol.EventCrash})
		}
	}
	if r.left {
		return nil
	}
	return ErrCrashed
}

// now is the peer's clock: monotonic time since Run started.
func (r *runtime) now() time.Duration { return time.Since(r.start) }

// step hands one event to the peer and carries out its output, then gives
// the leader-crash hook its chance, as the simulator does after every step.
func (r *runtime) step(ev protocol.Event) {
	ev.Now = r.now()
	out, err := r.peer.Step(ev)
	if err != nil {
		// A refused event leaves the peer as it was; count it and carry
		// on. Whatever output came with it is still carried out below.
		// The log names the sender, not the message, so that a peer
		// sending what this one refuses is logged once, not once per
		// message.
		what := ev.Type.String()
		if ev.Type == protocol.EventMessage {
			what = "message from peer " + strconv.Itoa(int(ev.Msg.From))
			err = errors.Wrap(err, ev.Msg.String())
		}
		r.dropped(dropRefused, what, err)
	} else if ev.Type == protocol.EventMessage {
		r.met.in[ev.Msg.Type].Add(1)
	}
	r.apply(ev.Now, out)
	if r.hook != nil && !r.stopped {
		if extra, ok := r.hook.Fire(r.peer, ev.Now); ok {
			r.log.Info("leader crash hook fires")
			r.apply(ev.Now, extra)
		}
	}
	r.timers.reset(r.now())
	st := r.peer.Status()
	r.statusMu.Lock()
	r.snap = st
	r.statusMu.Unlock()
}

// apply carries out one output in the documented order: notes, messages,
// timers, then the stop.
func (r *runtime) apply(now time.Duration, out protocol.Output) {
	for _, n := range out.Notes {
		r.note(n)
	}
	for i := range out.Messages {
		r.send(&out.Messages[i])
	}
	for _, t := range out.Timers {
		r.timers.apply(now, t)
	}
	if out.Stopped {
		r.stopped = true
	}
}

// note hands a note to Options.OnNote and counts what metrics count.
func (r *runtime) note(n protocol.Note) {
	switch n.Kind {
	case protocol.NoteViewInstalled:
		r.met.viewChanges.Add(1)
	case protocol.NoteSuspected:
		r.met.suspicions.Add(1)
	case protocol.NoteLeft:
		r.left = true
	}
	r.log.Debug("note", "note", n.String())
	if r.opts.OnNote != nil {
		r.opts.OnNote(n)
	}
}

// send encodes, seals and queues one message for its transport.
func (r *runtime) send(m *protocol.Message) {
	if m.To < 1 || int(m.To) >= len(r.addrs) || m.To == r.id {
		r.dropped(dropSendFailed, "peer "+strconv.Itoa(int(m.To)), errors.Errorf("%s: no such receiver", m))
		return
	}
	payload, err := protocol.Encode(m)
	if err != nil {
		r.dropped(dropSendFailed, "peer "+strconv.Itoa(int(m.To)), err)
		return
	}
	if payload, err = r.seal.seal(payload); err != nil {
		r.dropped(dropSendFailed, "peer "+strconv.Itoa(int(m.To)), err)
		return
	}
	if m.Type.Transport() == protocol.Datagram {
		r.sendDatagram(m.To, payload)
	} else {
		r.link(m.To).enqueue(appendFrame(make([]byte, 0, frameHeaderLen+len(payload)), payload))
	}
	r.met.out[m.Type].Add(1)
}
