package sim_test

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/memberly/memberly/scenarios"
	"github.com/memberly/memberly/sim"
)

// scheduleGen draws a whole fault schedule as a scenario, by the rules
// the swarm draws by (sim.DrawScenario), but through rapid, so that a
// failing schedule shrinks to a small one.
func scheduleGen(liveness bool) *rapid.Generator[scenarios.Scenario] {
	return rapid.Custom(func(t *rapid.T) scenarios.Scenario {
		sc := sim.DrawScenario(rapidChooser{t}, liveness)
		sc.Name, sc.File = "property", "(drawn)"
		return sc
	})
}

// rapidChooser makes sim.DrawScenario's choices with rapid.
type rapidChooser struct{ t *rapid.T }

func (c rapidChooser) IntRange(lo, hi int, label string) int {
	return rapid.IntRange(lo, hi).Draw(c.t, label)
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
