package protocol

import "time"

// leaderCrashHook reproduces the seed's -t flag (docs/design.md, section
// 10, case 4): once every peer of the universe has joined and installed
// the full view, the leader starts removing the highest peer, sends that
// REQ to everyone but the peer next in line to lead and the peer being
// removed, prints "crashing" and stops. The next leader must then learn
// the half-done removal from the others.
//
// It belongs to the driver, not to the protocol: it sees the peer only
// through what any observer sees (IsLeader, View, Idle), and acts through
// ordinary events (an eviction, then a crash), filtering the eviction's
// output before the Node carries it out.
type leaderCrashHook struct {
	fired  bool
	onFire func(victim, spared PeerID)
}

// fire triggers the hook when its moment has come.
func (h *leaderCrashHook) fire(n *Node, now time.Duration) {
	p := n.peer
	v := p.View()
	if h.fired || !p.IsLeader() || len(v.Members) != p.Universe() || p.Universe() < 3 || !p.Idle() {
		return
	}
	h.fired = true
	victim := PeerID(p.Universe())
	spared := lowestOther(v, p.ID())
	if h.onFire != nil {
		h.onFire(victim, spared)
	}
	if out, err := p.Step(Event{Type: EventEvict, Now: now, Peer: victim}); err == nil {
		for _, note := range out.Notes {
			n.fx.Note(note)
		}
		for _, m := range out.Messages {
			if !(m.Type == MsgReq && (m.To == spared || m.To == victim)) {
				n.fx.Send(m)
			}
		}
		for _, t := range out.Timers {
			n.fx.Timer(t)
		}
	}
	if out, err := p.Step(Event{Type: EventCrash, Now: now}); err == nil {
		n.apply(out)
	}
}

// lowestOther is the lowest member of v other than self: next in line to
// lead a full, quiet view.
func lowestOther(v View, self PeerID) PeerID {
	for _, q := range v.Members {
		if q != self {
			return q
		}
	}
	return 0
}
