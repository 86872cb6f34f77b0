package sim

import (
	"slices"
	"time"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

// keepPeer1Reachable enforces, on a drawn schedule, a documented limit of
// the protocol (docs/design.md, section 8): peer 1 restarted without
// state and unable to reach any other peer may found a new cluster. So if the schedule restarts peer 1,
// one other peer, drawn, is spared every fault that would end it, stop it
// or cut it off from peer 1, and stays reachable throughout; with no
// other peer at all, peer 1 is not restarted.
func (f *faults) keepPeer1Reachable() {
	restartsPeer1 := func(a scenarios.Action) bool {
		return a.Kind == scenarios.ActRestart && slices.Contains(a.Peers, 1)
	}
	if !slices.ContainsFunc(f.sc.Timeline, restartsPeer1) {
		return
	}
	if f.n < 2 {
		f.sc.Timeline = slices.DeleteFunc(f.sc.Timeline, restartsPeer1)
		return
	}
	// The spared peer must have joined by then: one that starts later (a
	// late joiner) cannot tell peer 1 that a cluster exists.
	firstRestart := f.end
	for _, a := range f.sc.Timeline {
		if restartsPeer1(a) {
			firstRestart = min(firstRestart, a.At)
		}
	}
	var joined []protocol.PeerID
	for _, a := range f.sc.Timeline {
		if a.Kind == scenarios.ActStart && !slices.Contains(a.Peers, 1) && a.At+joinedWithin <= firstRestart {
			for _, q := range a.Peers {
				// A joiner whose join a drawn shape cuts short may never
				// hold a view to tell peer 1 of.
				if q != f.blockedJoiner {
					joined = append(joined, q)
				}
			}
		}
	}
	if len(joined) == 0 {
		f.sc.Timeline = slices.DeleteFunc(f.sc.Timeline, restartsPeer1)
		return
	}
	spared := pick(f.drawer, joined, "reachablePeer")
	f.sc.Timeline = slices.DeleteFunc(f.sc.Timeline, func(a scenarios.Action) bool {
		return separates(a, f.n, 1, spared) || ends(a, spared)
	})
}

// joinedWithin is how long a started peer is given to join before it may
// be the one that tells a restarted peer 1 that a cluster exists: a few
// join retries.
const joinedWithin = 5 * time.Second

// separates reports whether a, in a universe of n peers, cuts p off from
// q in either direction.
func separates(a scenarios.Action, n int, p, q protocol.PeerID) bool {
	switch a.Kind {
	case scenarios.ActIsolate, scenarios.ActCut, scenarios.ActSplit:
		return slices.ContainsFunc(a.CutLinks(n), func(l scenarios.Link) bool {
			return l == scenarios.Link{From: p, To: q} || l == scenarios.Link{From: q, To: p}
		})
	case scenarios.ActDrop:
		// A drop lasts until it has taken its count, which may be long
		// after it is armed: one that can take a message between p and q
		// may take peer 1's questions at its start, or their answers.
		d := a.Drop
		return between(d.From, d.To, p, q) || between(d.To, d.From, p, q)
	}
	return false
}

// between reports whether a drop from from to to (0: anyone) can match a
// message from p to q.
func between(from, to, p, q protocol.PeerID) bool {
	return (from == 0 || from == p) && (to == 0 || to == q)
}

// ends reports whether a takes p down or stops it.
func ends(a scenarios.Action, p protocol.PeerID) bool {
	switch a.Kind {
	case scenarios.ActCrash, scenarios.ActKill, scenarios.ActLeave:
		return slices.Contains(a.Peers, p)
	case scenarios.ActPause:
		return a.Peer == p
	}
	return false
}
