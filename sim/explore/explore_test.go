package explore_test

import (
	"slices"
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

// The real protocol breaks nothing within the bounds: every order of the
// first events, and a deeper search one delay and one fault from the
// default schedule.
func TestExplore_RealProtocolWithinBound(t *testing.T) {
	deepShort := deep
	deepShort.MaxStates = short.MaxStates
	for _, tc := range []struct {
		scenario string
		opts     explore.Options
	}{
		{"explore-three", short},
		{"explore-four", short},
		{"explore-four", deepShort},
		{"explore-restart", deepShort},
		{"explore-durable", deepShort},
		{"explore-batch", deepShort},
		{"explore-tags", deepShort},
	} {
		r, err := explore.Run(load(t, tc.scenario), tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s", tc.scenario, r.StatsLine())
		if v := r.Violation; v != nil {
			t.Errorf("%s: %s: %s\n%s", tc.scenario, v.Property, v.Detail, strings.Join(v.Path, "\n"))
		}
		if r.States < tc.opts.MaxStates {
			t.Errorf("%s: explored %d states, want the bound of %d: the start state leads nowhere", tc.scenario, r.States, tc.opts.MaxStates)
		}
	}
}

// deep bounds the searches that reach the mutations needing a leader's
// crash and a new leader's recovery: one delay and one fault from the
// default schedule, as deep as they lie.
var deep = explore.Options{Depth: 120, Faults: 1, Delays: 1}

// The explorer can fail: each mutation of the protocol breaks a property
// on some path within the bounds, and the path it reports replays to the
// same violation. Every mutation the protocol has needs a row.
func TestExplore_CatchesEveryMutation(t *testing.T) {
	rows := []struct {
		mutation, scenario string
		opts               explore.Options
	}{
		// With every set a quorum, two leaders decide different views.
		{"quorum-of-one", "explore-three", short},
		// A candidate that ignores what its promisers accepted decides
		// against a view a leader on the other side of the split decided.
		{"skip-recovery", "explore-four", deep},
		// The candidate of [2,3] recovers ADD 4, then proposes in view 4
		// on the promises of view 3, while 4 accepted a change in view 4
		// from the leader of [1,4], killed just after deciding it.
		{"stale-promises", "explore-four", deep},
		// A restarted peer 1 founds view 1 again and adds the joiner to it.
		{"found-at-once", "explore-restart", deep},
		// A restarted durable acceptor that forgot the acceptance a
		// decision rested on lets the next leader decide against it.
		{"volatile-promise", "explore-durable", deep},
		// A new leader that re-proposes only the first operation of the
		// batch its predecessor decided, and died with, decides the same
		// view id with other members.
		{"split-batch", "explore-batch", deep},
		// A new leader that re-proposes the ADD its predecessor decided,
		// and died with, without the joiner's tags decides the same view
		// id with other tags.
		{"untagged-recovery", "explore-tags", deep},
	}
	// lone-observer breaks no safety property: it removes a live member,
	// which the false-removal check of a scenario catches
	// (TestMutation_LoneObserverCaughtByFalseRemovals in sim).
	covered := []string{"lone-observer"}
	for _, tc := range rows {
		covered = append(covered, tc.mutation)
	}
	slices.SortFunc(covered, func(a, b string) int {
		return slices.Index(protocol.MutationNames(), a) - slices.Index(protocol.MutationNames(), b)
	})
	if diff := cmp.Diff(protocol.MutationNames()[1:], covered); diff != "" {
		t.Errorf("the rows and the protocol's mutations differ (-mutations +rows):\n%s", diff)
	}
	for _, tc := range rows {
		t.Run(tc.mutation, func(t *testing.T) {
			m, ok := protocol.ParseMutation(tc.mutation)
			if !ok {
				t.Fatalf("no mutation %q", tc.mutation)
			}
			sc := load(t, tc.scenario)
			opts := tc.opts
			opts.Mutation = m
			r, err := explore.Run(sc, opts)
			if err != nil {
				t.Fatal(err)
			}
			v := r.Violation
			if v == nil {
				t.Fatalf("%s went unnoticed: %s", tc.mutation, r.StatsLine())
			}
			t.Logf("%s: %s in %d steps", r.StatsLine(), v.Detail, len(v.Path))

			sc.Schedule = v.Steps
			replayed, err := explore.Replay(sc, m)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(v, replayed.Violation); diff != "" {
				t.Errorf("the counterexample replays differently (-explored +replayed):\n%s", diff)
			}
		})
	}
}

// The explorer finds the limit the design states: a restarted peer 1
// that hears from no member within JoinRetryInterval founds a second
// cluster, whose view 2 collides with the first's. No fault is needed,
// only answers slower than the timer.
func TestExplore_FindsTheFoundingLimit(t *testing.T) {
	r, err := explore.Run(load(t, "explore-restart"), explore.Options{Depth: 12, Faults: 0})
	if err != nil {
		t.Fatal(err)
	}
	v := r.Violation
	if v == nil || v.Property != "S2" {
		t.Fatalf("a restarted peer 1 never founded a second cluster: %s", r.StatsLine())
	}
	path := strings.Join(v.Path, "\n")
	restart := strings.Index(path, "restart [1]")
	fires := strings.Index(path, "p1's join timer fires")
	if restart < 0 || fires < restart || strings.Contains(path[restart:fires], "->1 ") {
		t.Errorf("want peer 1 restarted, then its join timer firing before any answer reached it:\n%s", path)
	}
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
