package sim_test

import (
	"testing"

	"github.com/memberly/memberly/scenarios"
	"github.com/memberly/memberly/sim"
)

// TestScenarios_Seeds runs every scenario file for seeds 1 to 100: none may
// violate safety or miss its expectation or liveness bound.
func TestScenarios_Seeds(t *testing.T) {
	all, err := scenarios.All()
	if err != nil {
		t.Fatal(err)
	}
	seeds := *scenarioSeeds
	if testing.Short() {
		seeds = min(seeds, 10)
	}
	for _, sc := range all {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			failed := 0
			for seed := uint64(1); seed <= seeds; seed++ {
				r := sim.Run(sc, sim.Options{Seed: seed})
				if r.Verdict != sim.Pass {
					failed++
					if failed <= 3 {
						t.Errorf("seed %d: %s %s at %v: %s\nreplay: go run ./cmd/simulate -scenario %s -seed %d",
							seed, r.Verdict, r.Property, r.At, r.Detail, sc.Name, seed)
					}
				}
			}
			if failed > 3 {
				t.Errorf("%d of %d seeds failed", failed, seeds)
			}
		})
	}
}
