package explore

import (
	"testing"
	"time"

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

// Keeping one entry per state, expanded again when reached with fewer
// delays spent, reaches exactly the states a plain search of (state,
// delays spent) pairs does, which keeps a state once per count.
func TestDelays_FewerDelaysExpandAgain(t *testing.T) {
	for _, tc := range []struct {
		scenario string
		opts     Options
	}{
		{"explore-three", Options{Depth: 30, Faults: 1, Delays: 2}},
		// Its split is pending: the default schedule takes it on time.
		{"explore-four", Options{Depth: 60, Faults: 0, Delays: 2}},
	} {
		sc, err := scenarios.Load(tc.scenario)
		if err != nil {
			t.Fatal(err)
		}
		x := &explorer{opts: tc.opts, cfg: sc.Timing}
		start, _ := x.replay(sc)
		var r Result
		x.bfs(start, &r)
		if !r.Exhausted || r.Violation != nil {
			t.Fatalf("%s: %s, want an exhausted pass", tc.scenario, r.StatsLine())
		}
		if plain := plainDelaySearch(x, start); r.States != plain {
			t.Errorf("%s: the search reached %d states, the plain search %d", tc.scenario, r.States, plain)
		}
	}
}

// plainDelaySearch counts the states a breadth-first search of (state,
// time, delays spent) triples reaches from start within x's bounds: it
// also tells apart states reached at different times, which a key
// leaves out.
func plainDelaySearch(x *explorer, start *state) int {
	type pair struct {
		key    uint64
		now    time.Duration
		delays int
	}
	type item struct {
		s      *state
		delays int
	}
	k0, _ := x.key(start, nil)
	seenPairs := map[pair]bool{{k0, start.now, 0}: true}
	states := map[uint64]bool{k0: true}
	level := []item{{start, 0}}
	for depth := 0; depth < x.opts.Depth; depth++ {
		var next []item
		for _, it := range level {
			def, hasDef := x.defaultMove(it.s)
			for _, mv := range x.moves(it.s, nil) {
				d := it.delays
				if !mv.fault() && (!hasDef || mv != def) {
					d++
				}
				if d > x.opts.Delays {
					continue
				}
				c, _ := x.step(it.s, mv, false)
				k, _ := x.key(c, nil)
				if seenPairs[pair{k, c.now, d}] {
					continue
				}
				seenPairs[pair{k, c.now, d}], states[k] = true, true
				next = append(next, item{c, d})
			}
		}
		level = next
	}
	return len(states)
}
