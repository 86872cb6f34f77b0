package sim_test

import (
	"testing"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
	"github.com/memberly/memberly/sim"
)

// The checkers must be able to fail. Each mutation breaks the protocol on
// purpose; the swarm must catch it as a safety violation within a bounded
// number of seeds, while the unbroken protocol passes the same seeds
// (TestSwarm_Seeds).
func TestMutation_CheckersCatchBrokenProtocol(t *testing.T) {
	const maxSeeds = 400
	cases := []struct {
		name     string
		mutation protocol.Mutation
		scenario func(seed uint64) scenarios.Scenario
	}{
		{"quorum-of-one", protocol.MutationQuorumOfOne, sim.RandomScenario},
		// Skipping recovery only shows when a leader decides a view and
		// dies before anyone learns it: lost-decision stages exactly that,
		// and the swarm draws it as a kill set off by a NEWVIEW.
		{"skip-recovery staged", protocol.MutationSkipRecovery, func(uint64) scenarios.Scenario { return load("lost-decision") }},
		{"skip-recovery", protocol.MutationSkipRecovery, sim.RandomScenario},
		// Proposing in a new view on the promises of the previous one
		// needs a leader's decision in the new view that the next leader
		// never hears of: the cross-view scenarios stage it, adding and
		// removing.
		{"stale-promises staged", protocol.MutationStalePromises, func(seed uint64) scenarios.Scenario {
			return load([]string{"cross-view-add", "cross-view-del"}[seed%2])
		}},
		{"stale-promises", protocol.MutationStalePromises, sim.RandomScenario},
		// Founding without asking shows when peer 1 restarts beside a
		// running cluster, which restart-founder stages and the swarm
		// draws.
		{"found-at-once staged", protocol.MutationFoundAtOnce, func(uint64) scenarios.Scenario { return load("restart-founder") }},
		{"found-at-once", protocol.MutationFoundAtOnce, sim.RandomScenario},
		// A durable acceptor that forgets what it accepted shows when a
		// decision rests on its acceptance, the decider dies, and it
		// restarts before the next leader asks: durable-accept-kept
		// stages it, and the swarm draws it among its durable faults.
		{"volatile-promise staged", protocol.MutationVolatilePromise, func(uint64) scenarios.Scenario { return load("durable-accept-kept") }},
		{"volatile-promise", protocol.MutationVolatilePromise, sim.RandomScenario},
		// Proposing part of a recovered batch shows when a leader decides
		// a batch and dies before anyone else learns it:
		// batch-lost-decision stages it, and the swarm draws it for the
		// half of its runs that batch (batchLost).
		{"split-batch staged", protocol.MutationSplitBatch, func(uint64) scenarios.Scenario { return load("batch-lost-decision") }},
		{"split-batch", protocol.MutationSplitBatch, sim.RandomScenario},
		// Re-proposing a recovered ADD without its tags shows when a
		// leader decides a tagged joiner's view and dies before the
		// others learn it: tags-recovery stages it, and the swarm draws
		// it in the third of its runs that tag their peers.
		{"untagged-recovery staged", protocol.MutationUntaggedRecovery, func(uint64) scenarios.Scenario { return load("tags-recovery") }},
		{"untagged-recovery", protocol.MutationUntaggedRecovery, sim.RandomScenario},
	}
	for _, c := range cases {
		m := c.mutation
		t.Run(c.name, func(t *testing.T) {
			for seed := uint64(1); seed <= maxSeeds; seed++ {
				r := sim.Run(c.scenario(seed), sim.Options{Seed: seed, Mutation: m})
				if r.Verdict == sim.SafetyViolation {
					t.Logf("caught at seed %d: %s: %s", seed, r.Property, r.Detail)
					return
				}
			}
			t.Errorf("mutation %s went unnoticed for %d seeds: the checkers cannot fail", m, maxSeeds)
		})
	}
}

// load returns an embedded scenario.
func load(name string) scenarios.Scenario {
	sc, err := scenarios.Load(name)
	if err != nil {
		panic(err)
	}
	return sc
}

// Removing a member on one observer's word breaks no safety property: it
// removes a live member, which the false-removal check of a staged
// scenario catches. observers-bad-link cuts one link into a member
// watched by three; the protocol as designed removes nobody, every seed.
func TestMutation_LoneObserverCaughtByFalseRemovals(t *testing.T) {
	sc := load("observers-bad-link")
	for seed := uint64(1); seed <= 20; seed++ {
		if r := sim.Run(sc, sim.Options{Seed: seed}); r.Verdict != sim.Pass {
			t.Fatalf("seed %d, unbroken: %s %s: %s", seed, r.Verdict, r.Property, r.Detail)
		}
		r := sim.Run(sc, sim.Options{Seed: seed, Mutation: protocol.MutationLoneObserver})
		if r.Verdict != sim.LivenessFailure || r.FalseRemovals == 0 {
			t.Fatalf("seed %d, lone-observer: %s with %d false removals, want a liveness failure for them", seed, r.Verdict, r.FalseRemovals)
		}
	}
}
