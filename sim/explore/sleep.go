package explore

import (
	"slices"

	"github.com/memberly/memberly/protocol"
)

// Sleep sets (Godefroid) are the partial-order reduction the explorer
// makes, in every-order searches (Options.Delays 0). They prune
// transitions, never states: every state within the bounds is still
// reached, by one order of the independent steps that lead to it rather
// than by all of them.
//
// What they assume: two deliveries of stream heads to different peers
// are independent. Each changes its receiver alone, takes its message
// from a stream the other does not take from, and appends what its
// receiver sends to queues only that receiver appends to (datagrams form
// a multiset in a state's key), so taken in either order they lead to one
// state, and neither enables or disables the other. Two things would
// break that, and the explorer checks for them: a targeted drop of the
// scenario still counting (which of two senders it takes depends on the
// order: no reduction is made while one is in force), and time (a timer,
// an action or a fault is never taken as independent of anything). The
// install history the checkers keep is a set, filled in either order
// alike. Datagram deliveries commute as well, but a datagram has no name
// that lasts from state to state short of its whole encoding, so they
// are left out: leaving a transition out of a sleep set is always sound.
//
// How: a state is expanded with a sleep set, the deliveries that need not
// be taken from it because an order already explored takes them. Once a
// delivery t has been taken from a state, each later sibling's child
// sleeps on t if independent of it. A state reached again with a sleep
// set that is not a superset of the one it was expanded with is expanded
// again with their intersection, so that caching states loses nothing.
//
// A sleep set is a bit set over streams, bit from*(n+1)+to: it fits a
// word, with no pointer for the collector to follow in the map of
// visited states, up to seven peers; larger clusters are not reduced.

// sleepSet is a set of stream deliveries, by link.
type sleepSet uint64

// sleepPeersMax is the most peers whose streams fit a sleepSet.
const sleepPeersMax = 7

// sleeperOf returns the bit of mv's stream, if mv delivers a stream head
// and the cluster is small enough.
func (s *state) sleeperOf(mv move) (sleepSet, bool) {
	n := len(s.procs) - 1
	if mv.kind != deliverStream || n > sleepPeersMax {
		return 0, false
	}
	return 1 << (int(mv.from)*(n+1) + int(mv.to)), true
}

// to returns the streams that end at peer q, in a cluster of n peers.
func streamsTo(q protocol.PeerID, n int) sleepSet {
	var set sleepSet
	for from := 1; from <= n; from++ {
		set |= 1 << (from*(n+1) + int(q))
	}
	return set
}

// reducible reports whether deliveries to different peers commute in s:
// not while a targeted drop still counts.
func (s *state) reducible() bool {
	return !slices.ContainsFunc(s.drops, func(d dropLeft) bool { return d.left > 0 })
}
