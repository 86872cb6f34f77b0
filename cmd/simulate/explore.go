package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/memberly/memberly/protocol"

	"github.com/memberly/memberly/scenarios"
	"github.com/memberly/memberly/sim/explore"
)

// exploreScenario runs simulate -explore: every order of the next events
// from the scenario's explore_from state, within the bounds. It prints the
// replay that reached the start state, then, on a violation, the shortest
// path found; last the stats line. Exit 1 on a violation, 0 when the
// bounds were exhausted (or max states reached) without one.
func exploreScenario(cfg config, sc scenarios.Scenario, stdout, stderr io.Writer) int {
	fmt.Fprintf(stdout, "explore %s (%s): depth %d, faults %d, delays %d, max states %d, mutation %s\n",
		sc.Name, sc.File, cfg.depth, cfg.faults, cfg.delays, cfg.maxStates, cfg.mutation)
	res, err := explore.Run(sc, explore.Options{Depth: cfg.depth, Faults: cfg.faults, Delays: cfg.delays, MaxStates: cfg.maxStates,
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
		printPath(stdout, v)
		code = 1
		if cfg.exploreOut != "" {
			if err := writeCounterexample(cfg, sc, v); err != nil {
				fmt.Fprintf(stderr, "simulate: %v\n", err)
				return exitUsage
			}
			replay := "simulate -scenario " + cfg.exploreOut + " -seed 1"
			if cfg.mutation != protocol.MutationNone {
				replay += " -mutation " + cfg.mutation.String()
			}
			fmt.Fprintf(stdout, "counterexample: %s (replay: %s)\n", cfg.exploreOut, replay)
		}
	}
	fmt.Fprintln(stdout, res.StatsLine())
	return code
}

func printPath(w io.Writer, v *explore.Violation) {
	for i, l := range v.Path {
		fmt.Fprintf(w, "  %3d %-26s %s\n", i+1, v.Steps[i], l)
	}
}

// writeCounterexample writes sc with the violation's steps as its
// schedule: simulate -scenario replays it to the same violation.
func writeCounterexample(cfg config, sc scenarios.Scenario, v *explore.Violation) error {
	out := sc
	out.Schedule = v.Steps
	out.Description = fmt.Sprintf("A counterexample found by simulate -explore on %s (mutation %s): %s %s, %d steps after %v. "+
		"simulate -scenario replays this exact interleaving.", sc.Name, cfg.mutation, v.Property, v.Detail, len(v.Steps), sc.ExploreFrom)
	if err := os.WriteFile(cfg.exploreOut, scenarios.Format(out), 0o644); err != nil {
		return fmt.Errorf("-explore-out: %w", err)
	}
	return nil
}

// replaySchedule runs a scenario that carries a schedule: the replay up to
// explore_from, then its steps, judged as the explorer judges them. Exit
// 1 on a violation, 0 without one.
func replaySchedule(cfg config, sc scenarios.Scenario, stdout, stderr io.Writer) int {
	fmt.Fprintf(stdout, "scenario %s (%s): a schedule of %d steps from %v, mutation %s\n",
		sc.Name, sc.File, len(sc.Schedule), sc.ExploreFrom, cfg.mutation)
	res, err := explore.Replay(sc, cfg.mutation)
	if err != nil {
		fmt.Fprintf(stderr, "simulate: %v\n", err)
		return exitUsage
	}
	for _, l := range res.Start {
		fmt.Fprintf(stdout, "  %s\n", l)
	}
	if v := res.Violation; v != nil {
		printPath(stdout, v)
		fmt.Fprintf(stdout, "verdict: SAFETY VIOLATION %s: %s\n", v.Property, v.Detail)
		return 1
	}
	fmt.Fprintln(stdout, "verdict: pass (the schedule breaks nothing)")
	return 0
}
