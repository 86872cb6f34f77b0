package sim_test

import (
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
	"github.com/memberly/memberly/sim"
)

// scheduleGen draws a whole fault schedule as a scenario: cluster size,
// start delays, crashes, kills and restarts, partitions, cuts, loss and
// duplication rates, targeted drops. Drawn through rapid, a failing
// schedule shrinks to a small one. With liveness, it keeps to faults the
// protocol must survive (see sim.RandomScenario) and adds the heal.
func scheduleGen(liveness bool) *rapid.Generator[scenarios.Scenario] {
	return rapid.Custom(func(t *rapid.T) scenarios.Scenario {
		ms := func(lo, hi int, label string) time.Duration {
			return time.Duration(rapid.IntRange(lo, hi).Draw(t, label)) * time.Millisecond
		}
		n := rapid.IntRange(1, 7).Draw(t, "peers")
		sc := scenarios.Scenario{Name: "property", File: "(drawn)", Peers: n,
			Timing: protocol.DefaultConfig(), Network: scenarios.DefaultNetwork()}
		peer := func(label string) protocol.PeerID { return protocol.PeerID(rapid.IntRange(1, n).Draw(t, label)) }
		add := func(a scenarios.Action) { sc.Timeline = append(sc.Timeline, a) }
		add(scenarios.Action{Kind: scenarios.ActStart, Peers: []protocol.PeerID{1}})
		for id := 2; id <= n; id++ {
			add(scenarios.Action{At: ms(0, 8000, "start"), Kind: scenarios.ActStart, Peers: []protocol.PeerID{protocol.PeerID(id)}})
		}
		sc.Network.DuplicatePercent = float64(rapid.IntRange(0, 20).Draw(t, "dupPercent"))
		sc.Network.TimerLatenessMax = ms(0, 300, "timerLatenessMax")
		faultsFrom, faultsEnd := 10*time.Second, 40*time.Second
		crashes := !liveness || rapid.Bool().Draw(t, "crashesNotPartitions")
		if !liveness || !crashes {
			sc.Network.LossPercent = float64(rapid.IntRange(0, 30).Draw(t, "lossPercent"))
		}
		if crashes {
			at := faultsFrom
			maxCrashes := 3
			if liveness {
				maxCrashes = (n - 1) / 2
			}
			for range rapid.IntRange(0, maxCrashes).Draw(t, "crashes") {
				victim := peer("victim")
				kind := rapid.SampledFrom([]scenarios.ActionKind{scenarios.ActCrash, scenarios.ActKill}).Draw(t, "how")
				add(scenarios.Action{At: at, Kind: kind, Peers: []protocol.PeerID{victim}})
				if !liveness && rapid.Bool().Draw(t, "restart") {
					add(scenarios.Action{At: at + ms(1, 10000, "downFor"), Kind: scenarios.ActRestart, Peers: []protocol.PeerID{victim}})
				}
				if liveness {
					at += 15 * time.Second
				} else {
					at = faultsFrom + ms(0, 25000, "crashAt")
				}
			}
		}
		if (!liveness || !crashes) && n >= 2 {
			for range rapid.IntRange(0, 2).Draw(t, "partitions") {
				at := faultsFrom + ms(0, 20000, "partitionAt")
				a := scenarios.Action{At: at, Until: at + ms(500, 10000, "partitionFor")}
				if rapid.Bool().Draw(t, "isolate") {
					a.Kind, a.Peer = scenarios.ActIsolate, peer("isolated")
				} else {
					a.Kind, a.From, a.To = scenarios.ActCut, peer("cutFrom"), peer("cutTo")
					if a.From == a.To {
						continue
					}
				}
				add(a)
			}
		}
		if !liveness && n >= 2 && rapid.Bool().Draw(t, "targetedDrop") {
			add(scenarios.Action{At: faultsFrom + ms(0, 20000, "dropAt"), Kind: scenarios.ActDrop, Drop: scenarios.Drop{
				Type:  rapid.SampledFrom([]protocol.MsgType{protocol.MsgReq, protocol.MsgOK, protocol.MsgNewView, protocol.MsgNewLeader, protocol.MsgPending}).Draw(t, "dropType"),
				From:  peer("dropFrom"),
				Count: rapid.IntRange(1, 5).Draw(t, "dropCount")}})
		}
		sc.Expect = scenarios.Expect{Within: faultsEnd}
		sc.RunFor = faultsEnd
		if liveness {
			sc.Liveness = &scenarios.Liveness{HealAt: faultsEnd, Within: 30 * time.Second}
			sc.RunFor = faultsEnd + sc.Liveness.Within
		}
		sim.KeepFounderReachable(&sc)
		return sc
	})
}

// checkSchedule runs the drawn schedule and, on failure, prints it as a
// scenario file with the command that replays it.
func checkSchedule(t *rapid.T, liveness bool) {
	sc := scheduleGen(liveness).Draw(t, "schedule")
	seed := rapid.Uint64Range(1, 1<<20).Draw(t, "seed")
	r := sim.Run(sc, sim.Options{Seed: seed})
	if r.Verdict != sim.Pass {
		t.Fatalf("%s %s at %v: %s\n\nsave as failing.yaml and replay with: go run ./cmd/simulate -scenario failing.yaml -seed %d\n\n%s",
			r.Verdict, r.Property, r.At, r.Detail, seed, scenarios.Format(sc))
	}
}

// TestProperty_SafetyOfDrawnSchedules: S1-S5 hold under any drawn schedule.
func TestProperty_SafetyOfDrawnSchedules(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { checkSchedule(t, false) })
}

// TestProperty_LivenessOfDrawnSchedules: after the heal, L1 holds.
func TestProperty_LivenessOfDrawnSchedules(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { checkSchedule(t, true) })
}
