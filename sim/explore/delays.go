package explore

import (
	"slices"

	"github.com/memberly/memberly/protocol"
)

// Delay bounding (Options.Delays) is how the explorer reaches bugs that lie
// dozens of steps from the start state, where every order of every event
// is out of reach. As CHESS and P# do, it fixes one deterministic
// schedule, the default, and explores every path that strays from it at
// most Delays times: a step that is neither the default's choice nor a
// fault costs one delay. Faults keep their own budget. Within both
// budgets and the depth, the search is exhaustive, and breadth first, so
// the path it reports is a shortest one among those within the bounds.
//
// The default schedule is a cluster on a fast, quiet network: every
// message in flight arrives before time moves on (stream heads by sender
// and receiver, then datagrams by their encoding); then the scenario's
// next action if its moment has come; then the timer due first. It
// depends on a state's key alone, so a state reached by two paths has one
// default, and keeping a state once per key loses nothing: a state
// reached again with fewer delays spent is expanded again.

// defaultMove returns the move the default schedule takes in s, and
// whether there is one.
func (x *explorer) defaultMove(s *state) (move, bool) {
	n := protocol.PeerID(len(s.procs) - 1)
	for from := protocol.PeerID(1); from <= n; from++ {
		for to := protocol.PeerID(1); to <= n; to++ {
			if len(s.stream(from, to)) > 0 {
				return move{kind: deliverStream, from: from, to: to}, true
			}
		}
	}
	if len(s.datagrams) > 0 {
		first := 0
		for i, f := range s.datagrams {
			if slices.Compare(f.enc, s.datagrams[first].enc) < 0 {
				first = i
			}
		}
		return move{kind: deliverDatagram, index: first}, true
	}
	due, any := s.nextDeadline()
	if s.pending < len(x.actions) && (!any || x.actions[s.pending].At <= due) {
		return move{kind: nextAction}, true
	}
	if !any {
		return move{}, false
	}
	for id := protocol.PeerID(1); id <= n; id++ {
		p := s.procs[id]
		if p.node == nil || !p.alive {
			continue
		}
		for k, t := range p.timers {
			if t.on && t.deadline == due {
				return move{kind: fireTimer, from: id, index: k}, true
			}
		}
	}
	return move{}, false
}

// fault reports whether mv spends the fault budget.
func (mv move) fault() bool {
	switch mv.kind {
	case dropDatagram, dupDatagram, resetStream, crashPeer, killPeer, fireEarly:
		return true
	}
	return false
}
