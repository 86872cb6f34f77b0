package protocol

import (
	"errors"
	"fmt"
	"time"
)

// Effects is what a Node needs of its runtime: the side effects of an
// Output. A Node calls them in the order Output documents, one Output at a
// time, from the goroutine that called the Node.
type Effects interface {
	// Note hands a note to observers (log it, record it) before anything
	// of the same Output is sent.
	Note(Note)
	// Send sends m to m.To by m.Type.Transport().
	Send(m Message)
	// Timer arms a timer (replacing the armed one of its kind) or, when
	// Cancel is set, disarms it.
	Timer(TimerRequest)
	// Stop says the peer crashed or left: feed the Node nothing more.
	Stop()
	// Save stores s durably (written and synced) before it returns; it is
	// called first, and only for a durable peer (Config.Durable). An error
	// means it is not stored: the Node then carries out nothing else of
	// that Output and stops, as the state the rest depends on may be lost.
	Save(s DurableState) error
}

// Node is the one driver of a Peer that every runtime uses: the simulator,
// the network runtime and the tests. It owns the Peer, turns a process
// start, a received message, a fired timer and an operator's request into
// events, and carries out each Output through Effects in the documented
// order, so what a start, a restart or a refusal means is decided here and
// nowhere else.
//
// A start and a restart are the same: Start, on a new Node, as a new
// process does. A refused event (Step's error) is returned and changes
// nothing; a Node never carries out an Output that came with an error.
type Node struct {
	peer *Peer
	fx   Effects
	hook *leaderCrashHook // nil unless armed
}

// NewNode returns the node of peer id in a universe of peers 1..universe,
// not yet started.
func NewNode(cfg Config, id PeerID, universe int, fx Effects) (*Node, error) {
	p, err := NewPeer(cfg, id, universe)
	if err != nil {
		return nil, err
	}
	return &Node{peer: p, fx: fx}, nil
}

// ArmLeaderCrashHook arms the seed's -t hook (docs/design.md, section 10,
// case 4) on this node; see leaderCrashHook. onFire, when not nil, is told
// when it fires: the peer being removed and the peer next in line, which
// the REQ skips.
func (n *Node) ArmLeaderCrashHook(onFire func(victim, spared PeerID)) {
	n.hook = &leaderCrashHook{onFire: onFire}
}

// Start starts the process as incarnation (see Event.Incarnation): a first
// start or a restart alike. The process has no tags; see StartTagged.
func (n *Node) Start(now time.Duration, incarnation uint64) error {
	return n.StartTagged(now, incarnation, Tags{})
}

// StartTagged starts the process as Start does, with tags as its own (see
// Event.Tags): its JOIN carries them, and every view that holds it.
func (n *Node) StartTagged(now time.Duration, incarnation uint64, tags Tags) error {
	return n.step(Event{Type: EventStart, Now: now, Incarnation: incarnation, Tags: tags})
}

// Resume starts the process from the durable state a previous process of
// this peer stored (see Event.State).
func (n *Node) Resume(now time.Duration, s DurableState) error {
	return n.step(Event{Type: EventStart, Now: now, State: &s})
}

// ForceView makes this member install a view of the members it can reach
// (see EventForceView).
func (n *Node) ForceView(now time.Duration) error {
	return n.step(Event{Type: EventForceView, Now: now})
}

// Receive delivers a message that arrived from m.From.
func (n *Node) Receive(now time.Duration, m Message) error {
	return n.step(Event{Type: EventMessage, Now: now, Msg: m})
}

// Fire reports that t, armed through Effects.Timer, has fired.
func (n *Node) Fire(now time.Duration, t Timer) error {
	return n.step(Event{Type: EventTimer, Now: now, Timer: t})
}

// Evict asks this node, which must lead, to remove q.
func (n *Node) Evict(now time.Duration, q PeerID) error {
	return n.step(Event{Type: EventEvict, Now: now, Peer: q})
}

// Leave starts a graceful leave.
func (n *Node) Leave(now time.Duration) error {
	return n.step(Event{Type: EventLeave, Now: now})
}

// Crash stops the process for good, printing "crashing".
func (n *Node) Crash(now time.Duration) error {
	return n.step(Event{Type: EventCrash, Now: now})
}

// Peer returns the node's peer, for reading its state (Status, View,
// Leader). Feed it events only through the Node.
func (n *Node) Peer() *Peer { return n.peer }

// step hands ev to the peer and carries out its output, then gives the
// leader-crash hook its chance.
func (n *Node) step(ev Event) error {
	out, err := n.peer.Step(ev)
	if err != nil {
		return err
	}
	if out.Save != nil {
		if err := n.fx.Save(*out.Save); err != nil {
			n.peer.stop()
			n.fx.Stop()
			return fmt.Errorf("%w: %w", ErrSave, err)
		}
	}
	n.apply(out)
	if n.hook != nil && !n.peer.Stopped() {
		n.hook.fire(n, ev.Now)
	}
	return nil
}

// ErrSave is wrapped by the error a Node returns when its durable state
// could not be stored: the Node has stopped.
var ErrSave = errors.New("protocol: cannot store the durable state")

// apply carries out out, once its state is stored, in the documented
// order: notes, messages, timers, then the stop.
func (n *Node) apply(out Output) {
	for _, note := range out.Notes {
		n.fx.Note(note)
	}
	for _, m := range out.Messages {
		n.fx.Send(m)
	}
	for _, t := range out.Timers {
		n.fx.Timer(t)
	}
	if out.Stopped {
		n.fx.Stop()
	}
}

// Clone returns a copy of the node, peer included (see Peer.Clone), that
// carries out its outputs through fx: a model checker's successor state
// gets its own node writing into it.
func (n *Node) Clone(fx Effects) *Node {
	c := &Node{peer: n.peer.Clone(), fx: fx}
	if n.hook != nil {
		h := *n.hook
		c.hook = &h
	}
	return c
}
