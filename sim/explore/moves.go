package explore

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

// moveKind is what one transition does.
type moveKind uint8

const (
	deliverStream   moveKind = iota + 1 // the head of stream from->to arrives
	deliverDatagram                     // datagram index arrives
	fireTimer                           // peer's timer of kind index fires
	nextAction                          // the scenario's next pending action happens
	dropDatagram                        // fault: datagram index is lost
	dupDatagram                         // fault: datagram index is delivered twice (a copy stays in flight)
	resetStream                         // fault: stream from->to breaks, losing what was in flight
	crashPeer                           // fault: peer crashes ("crashing")
	killPeer                            // fault: peer vanishes (kill -9)
	fireEarly                           // fault: a timer fires while one due earlier waits: that one is late
)

// move is one transition out of a state.
type move struct {
	kind     moveKind
	from, to protocol.PeerID // streams; from is the peer for timers and faults
	index    int             // datagram index, or timer kind
}

// moves lists, in a fixed order, every transition enabled in s: each
// stream's head and each datagram may arrive, the timers due first may
// fire (time moving to their deadline), the scenario's next action may
// happen, and, while the fault budget lasts, datagrams may be lost or
// duplicated, streams reset, peers crash or be killed, and a timer may
// fire before one due earlier (which is then late, as on a loaded
// machine). Timers firing in deadline order is what keeps the paths of
// a few seconds of heartbeats short enough to explore: a message may
// still arrive before or after any of them.
func (x *explorer) moves(s *state, out []move) []move {
	out = out[:0]
	n := protocol.PeerID(len(s.procs) - 1)
	for from := protocol.PeerID(1); from <= n; from++ {
		for to := protocol.PeerID(1); to <= n; to++ {
			if len(s.stream(from, to)) > 0 {
				out = append(out, move{kind: deliverStream, from: from, to: to})
			}
		}
	}
	for i := range s.datagrams {
		if !duplicateBefore(s.datagrams, i) {
			out = append(out, move{kind: deliverDatagram, index: i})
		}
	}
	due, any := s.nextDeadline()
	for id := protocol.PeerID(1); id <= n; id++ {
		p := s.procs[id]
		if p.node == nil || !p.alive {
			continue
		}
		for k, t := range p.timers {
			if t.on && t.deadline == due && any {
				out = append(out, move{kind: fireTimer, from: id, index: k})
			}
		}
	}
	if s.pending < len(x.actions) {
		out = append(out, move{kind: nextAction})
	}
	if s.faults >= x.opts.Faults {
		return out
	}
	for i := range s.datagrams {
		if !duplicateBefore(s.datagrams, i) {
			out = append(out, move{kind: dropDatagram, index: i}, move{kind: dupDatagram, index: i})
		}
	}
	for from := protocol.PeerID(1); from <= n; from++ {
		for to := protocol.PeerID(1); to <= n; to++ {
			if len(s.stream(from, to)) > 0 {
				out = append(out, move{kind: resetStream, from: from, to: to})
			}
		}
	}
	for id := protocol.PeerID(1); id <= n; id++ {
		p := s.procs[id]
		if p.node == nil || !p.alive {
			continue
		}
		out = append(out, move{kind: crashPeer, from: id}, move{kind: killPeer, from: id})
		for k, t := range p.timers {
			if t.on && t.deadline > due {
				out = append(out, move{kind: fireEarly, from: id, index: k})
			}
		}
	}
	return out
}

// nextDeadline returns the earliest deadline among the armed timers of
// live processes, and whether there is one.
func (s *state) nextDeadline() (time.Duration, bool) {
	var due time.Duration
	found := false
	for _, p := range s.procs[1:] {
		if p.node == nil || !p.alive {
			continue
		}
		for _, t := range p.timers {
			if t.on && (!found || t.deadline < due) {
				due, found = t.deadline, true
			}
		}
	}
	return due, found
}

// duplicateBefore reports whether an equal datagram comes before index i:
// equal datagrams lead to equal states, so only the first is chosen.
func duplicateBefore(d []flight, i int) bool {
	return slices.ContainsFunc(d[:i], func(f flight) bool { return equalMessages(f.m, d[i].m) })
}

func equalMessages(a, b protocol.Message) bool {
	return a.Type == b.Type && a.From == b.From && a.To == b.To && a.Incarnation == b.Incarnation &&
		a.Ballot == b.Ballot && a.ViewID == b.ViewID && slices.Equal(a.Members, b.Members) && a.Op == b.Op &&
		a.OpBallot == b.OpBallot && a.Leader == b.Leader && a.ToIncarnation == b.ToIncarnation
}

// apply returns the state after mv, and says what happened.
func (x *explorer) apply(s *state, mv move) (*state, string) {
	return x.step(s, mv, true)
}

// step returns the state after mv and, if describe is set, says what
// happened: the search leaves the words out, for it rarely needs them
// (path rebuilds a violation's path with them).
func (x *explorer) step(s *state, mv move, describe bool) (*state, string) {
	c := s.clone()
	switch mv.kind {
	case deliverStream:
		q := c.stream(mv.from, mv.to)
		f := q[0]
		c.setStream(mv.from, mv.to, q[1:])
		return c, c.deliver(f.m, describe)
	case deliverDatagram:
		f := c.removeDatagram(mv.index)
		return c, c.deliver(f.m, describe)
	case fireTimer, fireEarly:
		if mv.kind == fireEarly {
			c.faults++
		}
		p := c.own(mv.from)
		t := p.timers[mv.index]
		p.timers[mv.index].on = false
		c.now = max(c.now, t.deadline)
		p.node.Fire(c.now, t.timer)
		if !describe {
			return c, ""
		}
		return c, fmt.Sprintf("at %v p%d's %s timer fires", c.now, mv.from, t.timer.Kind)
	case nextAction:
		a := x.actions[c.pending]
		c.pending++
		x.act(c, a)
		if !describe {
			return c, ""
		}
		return c, fmt.Sprintf("at %v %s", c.now, a.describe())
	case dropDatagram:
		f := c.removeDatagram(mv.index)
		c.faults++
		if !describe {
			return c, ""
		}
		return c, fmt.Sprintf("lose %s", f.m)
	case dupDatagram:
		f := c.datagrams[mv.index]
		c.datagrams = append(c.datagrams, f)
		c.faults++
		if !describe {
			return c, ""
		}
		return c, fmt.Sprintf("duplicate %s", f.m)
	case resetStream:
		lost := len(c.stream(mv.from, mv.to))
		c.setStream(mv.from, mv.to, nil)
		c.faults++
		if !describe {
			return c, ""
		}
		return c, fmt.Sprintf("stream p%d->p%d breaks, losing %d messages", mv.from, mv.to, lost)
	case crashPeer:
		c.faults++
		c.own(mv.from).node.Crash(c.now)
		if !describe {
			return c, ""
		}
		return c, fmt.Sprintf("at %v p%d crashes", c.now, mv.from)
	case killPeer:
		c.faults++
		c.kill(mv.from)
		if !describe {
			return c, ""
		}
		return c, fmt.Sprintf("at %v p%d is killed", c.now, mv.from)
	}
	return c, "?"
}

// deliver hands m to its receiver, if it is still there, and, if describe
// is set, says what became of it.
func (s *state) deliver(m protocol.Message, describe bool) string {
	var what string
	switch p := s.procs[m.To]; {
	case p.node == nil || !p.alive:
		what = "lose %s (receiver down)"
	case s.cut(m.From, m.To):
		what = "lose %s (partition)"
	default:
		if err := s.own(m.To).node.Receive(s.now, m); err != nil {
			if !describe {
				return ""
			}
			return fmt.Sprintf("refused %s: %v", m, err)
		}
		what = "deliver %s"
	}
	if !describe {
		return ""
	}
	return fmt.Sprintf(what, m)
}

// kill ends id's process at once: what was in flight to or from it is lost.
func (s *state) kill(id protocol.PeerID) {
	s.own(id).alive = false
	s.dropTo(id)
	for to := protocol.PeerID(1); int(to) < len(s.procs); to++ {
		if len(s.stream(id, to)) > 0 {
			s.setStream(id, to, nil)
		}
	}
	s.dropDatagrams(func(f flight) bool { return f.m.From == id })
}

// act carries out one scenario action on s.
func (x *explorer) act(s *state, pa action) {
	a := pa.Action
	if pa.heal {
		s.partition(a, -1)
		return
	}
	switch a.Kind {
	case scenarios.ActIsolate, scenarios.ActSplit, scenarios.ActCut:
		s.partition(a, 1)
	case scenarios.ActDrop:
		s.drops = append(slices.Clip(s.drops), dropLeft{d: a.Drop, left: a.Drop.Count})
	case scenarios.ActHook:
		if p := s.procs[a.Peer]; p.node != nil && p.alive {
			s.own(a.Peer).node.ArmLeaderCrashHook(nil)
		}
	case scenarios.ActStart, scenarios.ActRestart:
		for _, id := range a.Peers {
			if p := s.procs[id]; p.node == nil || !p.alive {
				x.start(s, id)
			}
		}
	case scenarios.ActCrash:
		for _, id := range a.Peers {
			if p := s.procs[id]; p.node != nil && p.alive {
				s.own(id).node.Crash(s.now)
			}
		}
	case scenarios.ActKill:
		for _, id := range a.Peers {
			if p := s.procs[id]; p.node != nil && p.alive {
				s.kill(id)
			}
		}
	case scenarios.ActLeave:
		for _, id := range a.Peers {
			if p := s.procs[id]; p.node != nil && p.alive {
				s.own(id).node.Leave(s.now)
			}
		}
	case scenarios.ActEvict:
		s.reasons[a.Peer] = true
		for id, p := range s.procs {
			if p != nil && p.node != nil && p.alive && p.node.Peer().IsLeader() && p.node.Peer().View().Contains(a.Peer) {
				s.own(protocol.PeerID(id)).node.Evict(s.now, a.Peer)
				break
			}
		}
	}
}

// anyOr returns s if set, or "*": a drop's filter field left open.
func anyOr(set bool, s string) string {
	if set {
		return s
	}
	return "*"
}

// describe names the action as a log line does: "split [1,4] | [2,3]",
// "heal cut p2->p1", "kill [1]".
func (pa action) describe() string {
	a := pa.Action
	var what string
	switch a.Kind {
	case scenarios.ActSplit:
		groups := make([]string, len(a.Groups))
		for i, g := range a.Groups {
			groups[i] = protocol.FormatMembers(g)
		}
		what = "split " + strings.Join(groups, " | ")
	case scenarios.ActCut:
		what = fmt.Sprintf("cut p%d->p%d", a.From, a.To)
	case scenarios.ActDrop:
		d := a.Drop
		what = fmt.Sprintf("drop %d %s p%s->p%s", d.Count, anyOr(d.Type != 0, d.Type.String()),
			anyOr(d.From != 0, fmt.Sprint(d.From)), anyOr(d.To != 0, fmt.Sprint(d.To)))
	default:
		if a.Peer != 0 {
			what = fmt.Sprintf("%s p%d", a.Kind, a.Peer)
		} else {
			what = fmt.Sprintf("%s %s", a.Kind, protocol.FormatMembers(a.Peers))
		}
	}
	if pa.heal {
		return "heal " + what
	}
	return what
}

// start starts a fresh process of id in s.
func (x *explorer) start(s *state, id protocol.PeerID) {
	p := s.own(id)
	node, err := protocol.NewNode(x.cfg, id, len(s.procs)-1, s.effectsOf(id))
	if err != nil {
		return // the configuration was validated when the scenario was read
	}
	p.node, p.alive = node, true
	p.incarnation++
	for k := range p.timers {
		p.timers[k].on = false
	}
	s.dropTo(id) // a new process has new connections
	if x.cfg.Durable && p.disk != nil {
		// The same member again: S1 spans the restart.
		if st, err := protocol.DecodeState(p.disk, id, 0); err == nil && node.Resume(s.now, st) == nil {
			return
		}
		s.violation = &violation{"setup", fmt.Sprintf("p%d cannot resume from its stored state", id)}
		return
	}
	p.lastView = 0 // a new process: S1 starts over
	node.StartTagged(s.now, p.incarnation, x.tags[id])
}

// partition applies (delta 1) or lifts (delta -1) a partition action.
func (s *state) partition(a scenarios.Action, delta int) {
	for _, l := range a.CutLinks(len(s.procs) - 1) {
		s.block(l.From, l.To, delta)
	}
}
