package explore

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/scenarios"
)

// Sleep sets prune transitions, never states: an exhausted search reaches
// the same states with them as without, in fewer transitions.
func TestSleep_SameStatesFewerTransitions(t *testing.T) {
	for _, tc := range []struct {
		scenario string
		opts     Options
	}{
		{"explore-three", Options{Depth: 7, Faults: 1}},
		{"explore-four", Options{Depth: 5, Faults: 1}},
		{"explore-four", Options{Depth: 7, Faults: 0}},
	} {
		sc, err := scenarios.Load(tc.scenario)
		if err != nil {
			t.Fatal(err)
		}
		run := func(unreduced bool) Result {
			x := &explorer{opts: tc.opts, cfg: sc.Timing, unreduced: unreduced}
			start, _ := x.replay(sc)
			var r Result
			x.bfs(start, &r)
			if !r.Exhausted || r.Violation != nil {
				t.Fatalf("%s: %s, want an exhausted pass", tc.scenario, r.StatsLine())
			}
			return r
		}
		reduced, full := run(false), run(true)
		if diff := cmp.Diff(full.States, reduced.States); diff != "" {
			t.Errorf("%s: states differ (-unreduced +reduced):\n%s", tc.scenario, diff)
		}
		if reduced.Transitions >= full.Transitions {
			t.Errorf("%s: %d transitions with sleep sets, %d without: nothing pruned", tc.scenario, reduced.Transitions, full.Transitions)
		}
		t.Logf("%s: %d states, %d transitions with sleep sets, %d without", tc.scenario, reduced.States, reduced.Transitions, full.Transitions)
	}
}
