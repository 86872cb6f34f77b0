package sim

import (
	"slices"
	"time"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

// batchLost draws, for a scenario whose leader batches and that has no
// liveness phase, a batch the leader may take to its grave: two peers go
// down together, are removed, and come back together while an eviction is
// held in flight (its REQs lost), so their two ADDs queue and are decided
// as one batch; the leader is then killed as it sends the batch's view to
// one of them. Only the batch's acceptors keep it, and the next leader
// must decide it whole. A batch is only in flight when operations queue
// behind another, which the swarm's other faults rarely line up with a
// leader's death.
//
// It is drawn after keepPeer1Reachable, so it is not drawn at all when
// the schedule restarts peer 1: it could take down the peer spared for
// it. It restarts no peer 1 itself, and with the leader it takes down
// three of at least five peers: no liveness is asked.
func (f *faults) batchLost() {
	if f.n < 5 || slices.ContainsFunc(f.sc.Timeline, func(a scenarios.Action) bool {
		return a.Kind == scenarios.ActRestart && slices.Contains(a.Peers, 1)
	}) || !f.oneIn(2, "batchLost") {
		return
	}
	leader := f.leaderLike("batchDecider")
	var others []protocol.PeerID
	for q := protocol.PeerID(2); q <= protocol.PeerID(f.n); q++ {
		if q != leader {
			others = append(others, q)
		}
	}
	var chosen [3]protocol.PeerID // the two that come back, and the evicted
	for i := range chosen {
		j := f.intRange(0, len(others)-1, "batchPeer")
		chosen[i] = others[j]
		others = slices.Delete(others, j, j+1)
	}
	b, c, evicted := chosen[0], chosen[1], chosen[2]
	at := f.from + f.ms(0, 25000, "batchLostAt")
	f.add(scenarios.Action{At: at, Kind: scenarios.ActKill, Peers: one(b)})
	f.add(scenarios.Action{At: at, Kind: scenarios.ActKill, Peers: one(c)})
	back := at + f.ms(6000, 10000, "batchBackAfter")
	hold := back - time.Millisecond
	f.add(scenarios.Action{At: hold, Kind: scenarios.ActDrop, Drop: scenarios.Drop{Type: protocol.MsgReq, From: leader, Count: 2 * f.n}})
	f.add(scenarios.Action{At: hold, Kind: scenarios.ActEvict, Peer: evicted})
	f.add(scenarios.Action{At: back, Kind: scenarios.ActRestart, Peers: []protocol.PeerID{b, c}})
	f.add(scenarios.Action{At: hold, Kind: scenarios.ActKill, Peers: one(leader),
		After: &scenarios.Trigger{Type: protocol.MsgNewView, From: leader, To: c}})
}
