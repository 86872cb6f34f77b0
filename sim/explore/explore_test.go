package explore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
	"github.com/memberly/memberly/sim/explore"
)

func load(t *testing.T, name string) scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// short bounds the exploration that make test runs: a few seconds.
var short = explore.Options{Depth: 30, Faults: 2, MaxStates: 30000}

// The real protocol breaks nothing within the bound.
func TestExplore_RealProtocolWithinBound(t *testing.T) {
	for _, name := range []string{"explore-three", "explore-four"} {
		r, err := explore.Run(load(t, name), short)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s", name, r.StatsLine())
		if v := r.Violation; v != nil {
			t.Errorf("%s: %s: %s\n%s", name, v.Property, v.Detail, strings.Join(v.Path, "\n"))
		}
		if r.States < short.MaxStates {
			t.Errorf("%s: explored %d states, want the bound of %d: the start state leads nowhere", name, r.States, short.MaxStates)
		}
	}
}

// The explorer can fail: with every set a quorum, two leaders decide
// different views, and the shortest path to it is short.
func TestExplore_CatchesQuorumOfOne(t *testing.T) {
	opts := short
	opts.Mutation = protocol.MutationQuorumOfOne
	r, err := explore.Run(load(t, "explore-three"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.Violation == nil || r.Violation.Property != "S2" {
		t.Fatalf("quorum-of-one went unnoticed: %s", r.StatsLine())
	}
	t.Logf("%s: %s in %d steps", r.StatsLine(), r.Violation.Detail, len(r.Violation.Path))
}

// Two explorations of one scenario take the same path through the same
// states: the stats and any counterexample are reproducible.
func TestExplore_Deterministic(t *testing.T) {
	opts := explore.Options{Depth: 30, Faults: 2, MaxStates: 5000, Mutation: protocol.MutationQuorumOfOne}
	a, _ := explore.Run(load(t, "explore-four"), opts)
	b, _ := explore.Run(load(t, "explore-four"), opts)
	type run struct {
		States, Transitions, Depth int
		Violation                  *explore.Violation
		Start                      []string
	}
	if diff := cmp.Diff(run{a.States, a.Transitions, a.Depth, a.Violation, a.Start},
		run{b.States, b.Transitions, b.Depth, b.Violation, b.Start}); diff != "" {
		t.Errorf("two explorations differ (-first +second):\n%s", diff)
	}
}

func TestExplore_NeedsExploreFrom(t *testing.T) {
	_, err := explore.Run(load(t, "join"), short)
	if err == nil || !strings.Contains(err.Error(), "explore_from") {
		t.Errorf("err = %v, want one naming explore_from", err)
	}
}

// Partitions and targeted drops of the timeline shape the start state: in
// cross-view-add, leader 1's NEWVIEW 4 is dropped on its way to 3 (and
// to 2), and reaches only the joiner.
func TestExplore_ReplayKeepsPartitionsAndDrops(t *testing.T) {
	sc := load(t, "cross-view-add")
	sc.ExploreFrom = 9600 * time.Millisecond
	r, err := explore.Run(sc, explore.Options{Depth: 1, Faults: 0})
	if err != nil {
		t.Fatal(err)
	}
	log := strings.Join(r.Start, "\n")
	if !strings.Contains(log, "deliver NEWVIEW 1->4 b=(0,1) v=4") {
		t.Errorf("the joiner never got view 4:\n%s", log)
	}
	for _, to := range []string{"2", "3"} {
		if strings.Contains(log, "deliver NEWVIEW 1->"+to+" b=(0,1) v=4") {
			t.Errorf("view 4 reached p%s through the drop:\n%s", to, log)
		}
	}
}

// What the explorer does not model is refused, naming it and its line.
func TestExplore_RefusesUnmodelled(t *testing.T) {
	sc := load(t, "pause-leader")
	sc.ExploreFrom = time.Second
	_, err := explore.Run(sc, short)
	if err == nil || !strings.Contains(err.Error(), "does not model pause") {
		t.Errorf("err = %v, want one naming the pause", err)
	}
}
