package sim

import (
	"slices"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

// keepPeer1Reachable enforces, on a drawn schedule, a documented limit of
// the protocol: peer 1 restarted without state and unable to reach any
// other peer may found a new cluster. So if the schedule restarts peer 1,
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
	spared := protocol.PeerID(f.intRange(2, f.n, "reachablePeer"))
	f.sc.Timeline = slices.DeleteFunc(f.sc.Timeline, func(a scenarios.Action) bool {
		return separates(a, 1, spared) || ends(a, spared)
	})
}

// separates reports whether a cuts p off from q, in either direction.
func separates(a scenarios.Action, p, q protocol.PeerID) bool {
	switch a.Kind {
	case scenarios.ActIsolate:
		return a.Peer == p || a.Peer == q
	case scenarios.ActCut:
		return a.From == p && a.To == q || a.From == q && a.To == p
	case scenarios.ActSplit:
		gp := slices.IndexFunc(a.Groups, func(g []protocol.PeerID) bool { return slices.Contains(g, p) })
		gq := slices.IndexFunc(a.Groups, func(g []protocol.PeerID) bool { return slices.Contains(g, q) })
		return gp >= 0 && gq >= 0 && gp != gq
	}
	return false
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
