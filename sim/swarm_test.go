package sim_test

import (
	"fmt"
	"testing"

	"github.com/memberly/memberly/sim"
)

// TestSwarm_Seeds runs a batch of random scenarios: none may violate safety
// or, in liveness mode, fail to converge after the heal.
func TestSwarm_Seeds(t *testing.T) {
	runs := 300
	if testing.Short() {
		runs = 50
	}
	for seed := uint64(1); seed <= uint64(runs); seed++ {
		sc := sim.RandomScenario(seed)
		r := sim.Run(sc, sim.Options{Seed: seed})
		if r.Verdict != sim.Pass {
			t.Errorf("seed %d: %s %s at %v: %s\nreplay: go run ./cmd/simulate -swarm-seed %d", seed, r.Verdict, r.Property, r.At, r.Detail, seed)
		}
	}
	_ = fmt.Sprint
}
