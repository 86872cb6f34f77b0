package explore_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/sim/explore"
)

// A counterexample's steps, set as a scenario's schedule, replay to the
// same violation; without the mutation the same steps break nothing.
func TestReplay_CounterexampleReplays(t *testing.T) {
	sc := load(t, "explore-three")
	opts := short
	opts.Mutation = protocol.MutationQuorumOfOne
	found, err := explore.Run(sc, opts)
	if err != nil || found.Violation == nil {
		t.Fatalf("no counterexample to replay: %v %s", err, found.StatsLine())
	}
	sc.Schedule = found.Violation.Steps
	again, err := explore.Replay(sc, protocol.MutationQuorumOfOne)
	if err != nil {
		t.Fatal(err)
	}
	if again.Violation == nil {
		t.Fatalf("the schedule %v replayed without a violation", sc.Schedule)
	}
	if diff := cmp.Diff(found.Violation, again.Violation); diff != "" {
		t.Errorf("replayed violation differs (-found +replayed):\n%s", diff)
	}
	clean, err := explore.Replay(sc, protocol.MutationNone)
	if err != nil {
		t.Fatal(err)
	}
	if clean.Violation != nil {
		t.Errorf("the unbroken protocol fails the schedule: %s", clean.Violation.Detail)
	}
}

// A step that is not possible where it comes, or not a step at all, is an
// error naming it and its place.
func TestReplay_BadSteps(t *testing.T) {
	for _, c := range []struct{ step, want string }{
		{"deliver p2->p3", `schedule step 1 "deliver p2->p3" is not possible there`},
		{"fire p9 heartbeat", `schedule step 1 "fire p9 heartbeat" is not possible there`},
		{"jump", `step "jump": want one of deliver pA->pB`},
		{"deliver datagram -1", `step "deliver datagram -1": want one of`},
		{"fire p2 naptime", `step "fire p2 naptime": want one of`},
	} {
		sc := load(t, "explore-three")
		sc.Schedule = []string{c.step}
		_, err := explore.Replay(sc, protocol.MutationNone)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("step %q: err = %v, want one containing %q", c.step, err, c.want)
		}
	}
}
