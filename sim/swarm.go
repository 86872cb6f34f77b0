package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

// RandomScenario draws a whole scenario from seed alone: cluster size 1 to
// 9, start times, network rates, and a schedule of crashes, kills,
// restarts, partitions, cuts, targeted drops, leaves and evictions. Run it
// with the same seed and the run is reproduced exactly.
//
// About half the scenarios have a liveness phase. Those keep to faults the
// protocol is meant to survive: crashes of fewer than half of the peers,
// far enough apart to be removed one at a time, and no partition at the same
// time, nor any loss. (A view that loses a majority of its members for good
// cannot change any more: that is the quorum rule, not a bug.)
func RandomScenario(seed uint64) scenarios.Scenario {
	r := rand.New(rand.NewPCG(seed, 0x737761726d)) // "swarm"
	sec := func(lo, hi float64) time.Duration {
		return time.Duration((lo + r.Float64()*(hi-lo)) * float64(time.Second)).Truncate(time.Millisecond)
	}
	n := 1 + r.IntN(9)
	sc := scenarios.Scenario{
		Name:    fmt.Sprintf("swarm-%d", seed),
		File:    "(generated)",
		Peers:   n,
		Timing:  protocol.DefaultConfig(),
		Network: scenarios.DefaultNetwork(),
	}
	liveness := r.IntN(2) == 0
	sc.Network.LatencyMin = time.Duration(r.IntN(5000)+100) * time.Microsecond
	sc.Network.LatencyMean = time.Duration(r.IntN(20000)+100) * time.Microsecond
	if r.IntN(2) == 0 {
		sc.Network.LatencyDistribution = "uniform"
	}
	maxLoss := 35.0
	if liveness {
		maxLoss = 15
	}
	sc.Network.LossPercent = float64(int(r.Float64()*maxLoss*10)) / 10
	sc.Network.DuplicatePercent = float64(r.IntN(20))
	sc.Network.ReorderPercent = float64(r.IntN(30))
	sc.Network.ReorderDelayMax = time.Duration(r.IntN(200)+1) * time.Millisecond
	if r.IntN(3) == 0 {
		// A loaded machine: timers fire up to 300 ms late.
		sc.Network.TimerLatenessMax = time.Duration(r.IntN(300)+1) * time.Millisecond
	}

	add := func(a scenarios.Action) { sc.Timeline = append(sc.Timeline, a) }
	lastStart := time.Duration(0)
	add(scenarios.Action{At: 0, Kind: scenarios.ActStart, Peers: []protocol.PeerID{1}})
	for id := 2; id <= n; id++ {
		at := sec(0, 10)
		lastStart = max(lastStart, at)
		add(scenarios.Action{At: at, Kind: scenarios.ActStart, Peers: []protocol.PeerID{protocol.PeerID(id)}})
	}
	peer := func() protocol.PeerID { return protocol.PeerID(1 + r.IntN(n)) }
	faultsFrom := lastStart + 5*time.Second
	faultsEnd := faultsFrom + 40*time.Second

	if liveness {
		// Crashes or partitions, not both. Crashes come without loss: lost
		// heartbeats cause false removals, and a view shrunk by one can lose
		// its majority to the next crash for good.
		if r.IntN(2) == 0 {
			sc.Network.LossPercent = 0
			at := faultsFrom + sec(0, 5)
			for range r.IntN((n-1)/2 + 1) {
				kind := scenarios.ActCrash
				if r.IntN(2) == 0 {
					kind = scenarios.ActKill
				}
				victim := peer()
				add(scenarios.Action{At: at, Kind: kind, Peers: []protocol.PeerID{victim}})
				at += sec(15, 20)
			}
		} else {
			for range r.IntN(4) {
				addPartition(&sc, r, n, faultsFrom+sec(0, 30), sec(1, 10))
			}
		}
	} else {
		for range r.IntN(7) {
			at := faultsFrom + sec(0, 40)
			switch r.IntN(8) {
			case 0:
				add(scenarios.Action{At: at, Kind: scenarios.ActCrash, Peers: []protocol.PeerID{peer()}})
			case 1:
				victim := peer()
				add(scenarios.Action{At: at, Kind: scenarios.ActKill, Peers: []protocol.PeerID{victim}})
				add(scenarios.Action{At: at + sec(0.1, 10), Kind: scenarios.ActRestart, Peers: []protocol.PeerID{victim}})
			case 2, 3:
				addPartition(&sc, r, n, at, sec(1, 15))
			case 4:
				d := scenarios.Drop{Count: 1 + r.IntN(5), From: peer()}
				if r.IntN(2) == 0 {
					d.Type = []protocol.MsgType{protocol.MsgReq, protocol.MsgOK, protocol.MsgNewView, protocol.MsgNewLeader, protocol.MsgPending}[r.IntN(5)]
				}
				add(scenarios.Action{At: at, Kind: scenarios.ActDrop, Drop: d})
			case 5:
				add(scenarios.Action{At: at, Kind: scenarios.ActLeave, Peers: []protocol.PeerID{peer()}})
			case 6:
				add(scenarios.Action{At: at, Kind: scenarios.ActEvict, Peer: peer()})
			case 7:
				if n >= 3 {
					add(scenarios.Action{At: 0, Kind: scenarios.ActHook, Peer: 1})
				}
			}
		}
	}
	sc.Expect = scenarios.Expect{Within: faultsEnd}
	sc.RunFor = faultsEnd
	if liveness {
		sc.Liveness = &scenarios.Liveness{HealAt: faultsEnd, Within: 30 * time.Second}
		sc.RunFor = faultsEnd + sc.Liveness.Within
	}
	KeepFounderReachable(&sc)
	return sc
}

// addPartition adds an isolation, a split or a one-way cut at at, healing
// after d.
func addPartition(sc *scenarios.Scenario, r *rand.Rand, n int, at, d time.Duration) {
	if n < 2 {
		return
	}
	a := scenarios.Action{At: at, Until: at + d}
	switch r.IntN(3) {
	case 0:
		a.Kind, a.Peer = scenarios.ActIsolate, protocol.PeerID(1+r.IntN(n))
	case 1:
		a.Kind = scenarios.ActSplit
		var left, right []protocol.PeerID
		for id := 1; id <= n; id++ {
			if r.IntN(2) == 0 {
				left = append(left, protocol.PeerID(id))
			} else {
				right = append(right, protocol.PeerID(id))
			}
		}
		if len(left) == 0 || len(right) == 0 {
			return
		}
		a.Groups = [][]protocol.PeerID{left, right}
	default:
		a.Kind = scenarios.ActCut
		a.From = protocol.PeerID(1 + r.IntN(n))
		a.To = protocol.PeerID(1 + r.IntN(n))
		if a.From == a.To {
			return
		}
	}
	sc.Timeline = append(sc.Timeline, a)
}
