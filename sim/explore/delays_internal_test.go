package explore

import (
	"testing"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

// strays counts, along a path of steps from sc's start state, the steps
// that left the default schedule without being faults, and the faults.
func strays(t *testing.T, sc scenarios.Scenario, steps []string) (delays, faults int) {
	t.Helper()
	x := &explorer{cfg: sc.Timing}
	s, _ := x.replay(sc)
	for _, text := range steps {
		mv, err := parseStep(text)
		if err != nil {
			t.Fatal(err)
		}
		def, ok := x.defaultMove(s)
		switch {
		case mv.fault():
			faults++
		case !ok || mv != def:
			delays++
		}
		s, _ = x.step(s, mv, false)
	}
	return delays, faults
}

// Run keeps within its delay budget, and the budget is what lets it
// through: stale-promises needs the split of explore-four to come between
// two deliveries the default schedule makes back to back, so the search
// with no delay to spare explores everything else and finds nothing.
func TestDelays_BoundThePath(t *testing.T) {
	sc, err := scenarios.Load("explore-four")
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Depth: 60, Faults: 1, Delays: 1, Mutation: protocol.MutationSkipRecovery}
	r, err := Run(sc, opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.Violation == nil {
		t.Fatalf("skip-recovery went unnoticed: %s", r.StatsLine())
	}
	delays, faults := strays(t, sc, r.Violation.Steps)
	if delays > 1 || faults > 1 {
		t.Errorf("the path strays %d times and holds %d faults, want at most 1 of each:\n%v", delays, faults, r.Violation.Steps)
	}

	// With no delay allowed, only paths of the default schedule and one
	// fault remain: far fewer states, and none breaks a property.
	opts = Options{Depth: 120, Faults: 1, Delays: -1, Mutation: protocol.MutationStalePromises}
	none, err := Run(sc, opts)
	if err != nil {
		t.Fatal(err)
	}
	if none.Violation != nil || !none.Exhausted {
		t.Errorf("stale-promises with no delays: %s, want an exhausted pass", none.StatsLine())
	}
}
