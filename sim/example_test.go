package sim_test

import (
	"fmt"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
	"github.com/memberly/memberly/sim"
)

// ExampleRun runs an embedded scenario from Go and prints where each peer
// ended: five peers join, peer 5 crashes, and the others remove it. A run
// is determined by its scenario and seed alone, so its result is the same
// on every machine; Options.Out would also print the run as the simulate
// command does.
func ExampleRun() {
	sc, err := scenarios.Load("single-crash")
	if err != nil {
		panic(err)
	}
	r := sim.Run(sc, sim.Options{Seed: 1})
	fmt.Println("verdict:", r.Verdict)
	for _, p := range r.Final {
		if !p.Alive {
			fmt.Printf("peer %d: down\n", p.ID)
			continue
		}
		fmt.Printf("peer %d: view %d %s, leader %d\n", p.ID, p.View.ID, protocol.FormatMembers(p.View.Members), p.Leader)
	}
	// Output:
	// verdict: pass
	// peer 1: view 6 [1,2,3,4], leader 1
	// peer 2: view 6 [1,2,3,4], leader 1
	// peer 3: view 6 [1,2,3,4], leader 1
	// peer 4: view 6 [1,2,3,4], leader 1
	// peer 5: down
}

// ExampleRun_mutation breaks the protocol on purpose to show a checker
// failing. With MutationSkipRecovery a new leader ignores what its
// promisers accepted; lost-decision stages the case where that matters
// (the old leader decided view 6 and died before anyone learned it), so
// the new leader decides view 6 differently and the agreement check, S2,
// fails.
func ExampleRun_mutation() {
	sc, err := scenarios.Load("lost-decision")
	if err != nil {
		panic(err)
	}
	r := sim.Run(sc, sim.Options{Seed: 1, Mutation: protocol.MutationSkipRecovery})
	fmt.Println("verdict:", r.Verdict)
	fmt.Println("property:", r.Property)
	// Output:
	// verdict: safety violation
	// property: S2
}
