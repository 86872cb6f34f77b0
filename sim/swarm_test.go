package sim_test

import (
	"flag"
	"testing"

	"github.com/memberly/memberly/sim"
)

// make soak runs these a hundred times over.
var (
	swarmRuns     = flag.Int("swarm.runs", 2000, "random scenarios TestSwarm_Seeds runs")
	scenarioSeeds = flag.Uint64("scenario.seeds", 100, "seeds TestScenarios_Seeds runs for every scenario")
)

// TestSwarm_Seeds runs the random scenarios of seeds 1 to 2000, as
// simulate -swarm -runs 2000 does: none may violate safety or, in liveness
// mode, fail to converge after the heal.
func TestSwarm_Seeds(t *testing.T) {
	runs := *swarmRuns
	if testing.Short() {
		runs = min(runs, 50)
	}
	for seed := uint64(1); seed <= uint64(runs); seed++ {
		sc := sim.RandomScenario(seed)
		r := sim.Run(sc, sim.Options{Seed: seed})
		if r.Verdict != sim.Pass {
			t.Errorf("seed %d: %s %s at %v: %s\nreplay: go run ./cmd/simulate -swarm-seed %d", seed, r.Verdict, r.Property, r.At, r.Detail, seed)
		}
	}
}
