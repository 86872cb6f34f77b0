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
	var force <-chan time.Time
	if r.opts.ForceView {
		// By then every member this peer can reach has been heard from,
		// and every other one suspected (SuspectAfter after the start).
		t := time.NewTimer(r.opts.Config.SuspectAfter + r.opts.Config.HeartbeatInterval)
		defer t.Stop()
		force = t.C
	}
	stallCheck := time.NewTicker(r.stallCheck)
	defer stallCheck.Stop()
	if r.resumeFrom != nil {
		st := *r.resumeFrom
		err := r.step("start", func(now time.Duration) error { return r.node.Resume(now, st) })
		if errors.Is(err, protocol.ErrBadState) {
			// Listen tried this very start: only a changed protocol
			// gets here.
			return &stateError{r.store.path, err}
		}
	} else {
		r.step("start", func(now time.Duration) error { return r.node.StartTagged(now, incarnation, r.opts.Tags) })
	}
	for !r.stopped {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m := <-r.inbox:
			r.receive(m)
		case ev := <-r.control:
			r.operate(ev)
		case q := <-r.queries:
			q()
		case <-r.timers.clock.C:
			r.fireDue()
		case <-stallCheck.C:
			r.checkStalls()
		case <-crash:
			r.step("crash", r.node.Crash)
		case <-force:
			r.forceView()
		}
	}
	if r.saveErr != nil {
		return errors.Wrapf(r.saveErr, "netrt: peer %d stopped", r.id)
	}
	if r.left {
		return nil
	}
	return ErrCrashed
}

// forceView carries out Options.ForceView: the timers due are fired first,
// so that the suspicions whose time has come are raised and the forced
// view leaves out every member silent for SuspectAfter.
func (r *runtime) forceView() {
	r.fireDue()
	if r.stopped {
		return
	}
	before := r.node.Peer().View()
	err := r.step("force view", r.node.ForceView)
	switch {
	case errors.Is(err, protocol.ErrSave):
		// Run reports it.
	case err != nil:
		r.oplog.Error("cannot force a view", "view", before.String(), errAttr(err))
	default:
		r.log.Info("forced a view", "was", before.String(), "now", r.node.Peer().View().String())
	}
}

// fireDue fires the node's timers that are due.
func (r *runtime) fireDue() {
	for _, t := range r.timers.takeDue(r.now()) {
		if r.stopped {
			break
		}
		r.step("timer", func(now time.Duration) error { return r.node.Fire(now, t) })
	}
	r.timers.reset(r.now())
}

// checkStalls replaces every stalled connection, whether or not its peer
// is heard from: a peer that stays silent still gets a fresh connection,
// after the link's backoff, rather than one the kernel may leave waiting
// long after the network healed.
func (r *runtime) checkStalls() {
	now := time.Now()
	for _, l := range r.links {
		if l != nil {
			l.checkStall(now, false)
		}
	}
}

// now is the peer's clock: monotonic time since Run started.
func (r *runtime) now() time.Duration { return time.Since(r.start) }

// receive hands a message to the node, counting it, or the refusal.
func (r *runtime) receive(m protocol.Message) {
	if int(m.From) < len(r.links) && r.links[m.From] != nil {
		r.links[m.From].heard()
	}
	err := r.step("message from peer "+strconv.Itoa(int(m.From)), func(now time.Duration) error {
		return errors.Wrap(r.node.Receive(now, m), m.String())
	})
	if err == nil {
		r.met.in[m.Type].Add(1)
	}
}

// operate carries out an operator's request.
func (r *runtime) operate(ev protocol.Event) {
	switch ev.Type {
	case protocol.EventLeave:
		r.step("leave", r.node.Leave)
	case protocol.EventEvict:
		r.step("evict", func(now time.Duration) error { return r.node.Evict(now, ev.Peer) })
	}
}

// step runs one call into the node at the current time, which carries out
// the output through effects; then it takes the snapshot Status serves. A
// refused event leaves the peer as it was: it is counted and logged, by
// what it was (a message by its sender, so that a peer sending what this
// one refuses is logged once, not once per message).
func (r *runtime) step(what string, call func(now time.Duration) error) error {
	r.stepAt = r.now()
	err := call(r.stepAt)
	switch {
	case errors.Is(err, protocol.ErrSave):
		// Not a refusal: the node stopped, and Run reports why.
		if r.saveErr == nil {
			r.saveErr = err
		}
	case err != nil:
		r.dropped(dropRefused, what, err)
	}
	r.timers.reset(r.now())
	st := r.node.Peer().Status()
	r.statusMu.Lock()
	r.snap = st
	r.statusMu.Unlock()
	return err
}

// effects carries out the node's outputs, in the order the node calls
// them: notes, messages, timers, then the stop.
type effects struct{ r *runtime }

func (fx effects) Note(n protocol.Note)          { fx.r.note(n) }
func (fx effects) Send(m protocol.Message)       { fx.r.send(&m) }
func (fx effects) Timer(t protocol.TimerRequest) { fx.r.timers.apply(fx.r.stepAt, t) }
func (fx effects) Stop()                         { fx.r.stopped = true }

// Save stores the state of a durable peer (Options.DataDir), synced,
// before the node carries out the rest of the output.
func (fx effects) Save(s protocol.DurableState) error {
	if fx.r.store == nil {
		return errors.New("netrt: a durable peer needs a data directory")
	}
	start := time.Now()
	err := fx.r.store.save(s)
	fx.r.met.saveNanos.Add(uint64(time.Since(start)))
	if err != nil {
		fx.r.met.saveFailures.Add(1)
		return err
	}
	fx.r.met.saves.Add(1)
	return nil
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
	if r.opts.OnView != nil {
		if c, ok := r.views.change(n); ok {
			r.opts.OnView(c)
		}
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
		// And on the stream, when it is idle: a flood of datagrams
		// at the receiver cannot crowd that copy out (see offer).
		r.link(m.To).offer(payload)
	} else {
		r.link(m.To).enqueue(appendFrame(make([]byte, 0, frameHeaderLen+len(payload)), payload))
	}
	r.met.out[m.Type].Add(1)
}
