package main

import (
	"fmt"
	"io"
	"time"

	"github.com/memberly/memberly/scenarios"
	"github.com/memberly/memberly/sim/explore"
)

// exploreScenario runs simulate -explore: every order of the next events
// from the scenario's explore_from state, within the bounds. It prints the
// replay that reached the start state, then, on a violation, the shortest
// path found; last the stats line. Exit 1 on a violation, 0 when the
// bounds were exhausted (or max states reached) without one.
func exploreScenario(cfg config, sc scenarios.Scenario, stdout, stderr io.Writer) int {
	fmt.Fprintf(stdout, "explore %s (%s): depth %d, faults %d, max states %d, mutation %s\n",
		sc.Name, sc.File, cfg.depth, cfg.faults, cfg.maxStates, cfg.mutation)
	res, err := explore.Run(sc, explore.Options{Depth: cfg.depth, Faults: cfg.faults, MaxStates: cfg.maxStates,
		Mutation: cfg.mutation, Progress: stderr, ProgressEvery: 3 * time.Second})
	if err != nil {
		fmt.Fprintf(stderr, "simulate: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "start state, replayed up to %v:\n", sc.ExploreFrom)
	for _, l := range res.Start {
		fmt.Fprintf(stdout, "  %s\n", l)
	}
	code := 0
	if v := res.Violation; v != nil {
		fmt.Fprintf(stdout, "violation %s: %s\nshortest path from the start state (%d steps):\n", v.Property, v.Detail, len(v.Path))
		for i, l := range v.Path {
			fmt.Fprintf(stdout, "  %3d %s\n", i+1, l)
		}
		code = 1
	}
	fmt.Fprintln(stdout, res.StatsLine())
	return code
}
