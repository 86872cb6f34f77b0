package sim_test

import (
	"strings"
	"testing"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/sim"
)

// Every live peer ends holding, for each member of its view, the tags the
// scenario gives that member: through restarts (tags) and through a new
// leader's recovery of a tagged joiner's ADD (tags-recovery).
func TestTags_EveryMemberEndsWithItsTags(t *testing.T) {
	for _, name := range []string{"tags", "tags-recovery", "explore-tags"} {
		sc := load(name)
		for seed := uint64(1); seed <= 20; seed++ {
			r := sim.Run(sc, sim.Options{Seed: seed})
			if r.Verdict != sim.Pass {
				t.Fatalf("%s seed %d: %s %s: %s", name, seed, r.Verdict, r.Property, r.Detail)
			}
			for _, st := range r.Final {
				if !st.Alive {
					continue
				}
				for _, q := range st.View.Members {
					if got, want := st.View.TagsOf(q), sc.Tags[q]; got != want {
						t.Errorf("%s seed %d: p%d ends holding view %s with tags %q for p%d, want %q",
							name, seed, st.ID, st.View, got, q, want)
					}
				}
			}
		}
	}
}

// With the untagged-recovery mutation, tags-recovery's new leader decides
// view 5 again without the joiner's tags, while the old leader and the
// joiner hold it with them: S2, on every seed, reported with both sets of
// tags.
func TestTags_UntaggedRecoveryBreaksAgreement(t *testing.T) {
	sc := load("tags-recovery")
	for seed := uint64(1); seed <= 20; seed++ {
		r := sim.Run(sc, sim.Options{Seed: seed, Mutation: protocol.MutationUntaggedRecovery})
		if r.Verdict != sim.SafetyViolation || r.Property != "S2" || !strings.Contains(r.Detail, "5:role=db,zone=b") {
			t.Errorf("seed %d: %s %s: %s; want S2 with and without p5's tags", seed, r.Verdict, r.Property, r.Detail)
		}
	}
}
