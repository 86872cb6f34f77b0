package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

// RandomScenario draws a whole scenario from seed alone, by DrawScenario's
// rules, with a liveness phase for about half the seeds. Run it with the
// same seed and the run is reproduced exactly.
func RandomScenario(seed uint64) scenarios.Scenario {
	c := randChooser{rand.New(rand.NewPCG(seed, 0x737761726d))} // "swarm"
	liveness := drawer{c}.oneIn(2, "liveness")
	sc := DrawScenario(c, liveness)
	sc.Name, sc.File = fmt.Sprintf("swarm-%d", seed), "(generated)"
	return sc
}

// DrawScenario draws a whole scenario from c's choices: cluster size 1 to
// 9, start times, network rates, and a schedule of crashes, kills,
// restarts (of peer 1 often), partitions, one-way cuts, links cut both
// ways, targeted drops, leaves, evictions and pauses, and correlated
// faults set off by messages: a link cut a few ms after a REQ crosses it,
// a leader killed between its decision and its NEWVIEW, a decision that
// reaches only some peers because the links to the others go down as its
// NEWVIEWs leave, a peer paused as it is about to send.
//
// With liveness, the scenario has a liveness phase, and keeps to faults
// the protocol is meant to survive: crashes and restarts of fewer than
// half of the peers, far enough apart to be removed one at a time, and no
// partition at the same time, nor any loss; or else partitions, cuts and
// short pauses that all heal. (A view that loses a majority of its
// members for good cannot change any more: that is the quorum rule, not a
// bug.)
//
// A schedule that restarts peer 1 keeps another peer reachable from it
// throughout (see keepPeer1Reachable). Half the scenarios let the leader
// batch up to 2 or 4 operations per view, and a third tag their peers.
func DrawScenario(c Chooser, liveness bool) scenarios.Scenario {
	d := drawer{c}
	n := d.intRange(1, 9, "peers")
	sc := scenarios.Scenario{
		Peers:   n,
		Timing:  protocol.DefaultConfig(),
		Network: drawNetwork(d, liveness),
	}
	sc.Timeline = append(sc.Timeline, scenarios.Action{At: 0, Kind: scenarios.ActStart, Peers: []protocol.PeerID{1}})
	lastStart := time.Duration(0)
	for id := 2; id <= n; id++ {
		at := d.ms(0, 10000, "startAt")
		lastStart = max(lastStart, at)
		sc.Timeline = append(sc.Timeline, scenarios.Action{At: at, Kind: scenarios.ActStart, Peers: []protocol.PeerID{protocol.PeerID(id)}})
	}
	f := faults{drawer: d, sc: &sc, n: n, from: lastStart + 5*time.Second}
	f.end = f.from + 40*time.Second
	faultsEnd := f.end
	if liveness {
		f.survivable()
	} else {
		f.any()
	}
	f.keepPeer1Reachable()
	// Drawn last, so that the choices above, and with them every
	// crash-stop scenario, are the same as before durable peers existed.
	if d.oneIn(3, "durable") {
		f.durable(liveness)
	}
	sc.Expect = scenarios.Expect{Within: faultsEnd}
	sc.RunFor = faultsEnd
	if liveness {
		sc.Liveness = &scenarios.Liveness{HealAt: faultsEnd, Within: 30 * time.Second}
		sc.RunFor = faultsEnd + sc.Liveness.Within
		if n >= 3 && d.oneIn(3, "keepDown") {
			// Machines lost for good: once the healed cluster settles, a
			// minority of it goes down and the rest must carry on.
			sc.Liveness.KeepDown = d.intRange(1, (n-1)/2, "keepDownPeers")
		}
	}
	// Drawn last too. A view of the swarm's sizes is watched all-to-all
	// at the default eight observers; half the clusters of four or more
	// get fewer, so that their views are watched on the ring.
	if n >= 4 && d.oneIn(2, "ring") {
		sc.Timing.Observers = d.intRange(2, n-2, "observers")
	}
	// Drawn last as well: half the runs decide one operation per view,
	// the others batch up to 2 or 4.
	sc.Timing.MaxChangesPerView = pick(d, []int{1, 1, 2, 4}, "maxChangesPerView")
	if sc.Timing.MaxChangesPerView > 1 && !liveness {
		f.batchLost()
	}
	if sc.Timing.MaxChangesPerView > 1 && d.oneIn(2, "batchWait") {
		sc.Timing.BatchWait = d.ms(1, 500, "batchWait")
	}
	// Drawn last of all, so that every choice above, and with it each
	// seed's schedule and run, is what it was before tags: a third of the
	// runs tag most of their peers.
	if d.oneIn(3, "tags") {
		sc.Tags = drawTags(d, n)
	}
	return sc
}

// drawNetwork draws latency, loss, duplication, reordering and late
// timers; less loss with a liveness phase.
func drawNetwork(d drawer, liveness bool) scenarios.Network {
	net := scenarios.DefaultNetwork()
	net.LatencyMin = time.Duration(d.intRange(100, 5099, "latencyMinMicros")) * time.Microsecond
	net.LatencyMean = time.Duration(d.intRange(100, 20099, "latencyMeanMicros")) * time.Microsecond
	if d.oneIn(2, "uniformLatency") {
		net.LatencyDistribution = "uniform"
	}
	maxLossTenths := 350
	if liveness {
		maxLossTenths = 150
	}
	net.LossPercent = float64(d.intRange(0, maxLossTenths-1, "lossTenthsOfPercent")) / 10
	net.DuplicatePercent = float64(d.intRange(0, 19, "duplicatePercent"))
	net.ReorderPercent = float64(d.intRange(0, 29, "reorderPercent"))
	net.ReorderDelayMax = d.ms(1, 200, "reorderDelayMax")
	if d.oneIn(3, "lateTimers") {
		// A loaded machine: timers fire up to 300 ms late.
		net.TimerLatenessMax = d.ms(1, 300, "timerLatenessMax")
	}
	return net
}
