// Command simulate runs Memberly's protocol in the deterministic simulator.
//
//	simulate -scenario leader-crash-loss -seed 7     one scenario, one seed
//	simulate -list                                    the scenarios, with what they show
//	simulate -swarm -runs 2000 -jobs 2                random scenarios across seeds
//	simulate -swarm-seed 1234                          replay one swarm run
//	simulate -explore -scenario explore-four          every order of the next events
//	simulate -explore -scenario explore-four -delays 1 -depth 120
//	                                                  paths one stray from a default schedule
//
// It prints the seed and every option first, then every peer's log lines with
// virtual time, then a verdict line and a stats line. The exit status is 0
// for a pass, 1 for a safety violation, 2 for a liveness failure and 64 for
// a usage error.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
	"github.com/memberly/memberly/sim"
)

const exitUsage = 64

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// config is the parsed command line.
type config struct {
	scenario   string
	seed       uint64
	list       bool
	verbose    bool
	trace      string
	shiviz     string
	mutation   protocol.Mutation
	swarm      bool
	swarmSeed  uint64
	runs       int
	jobs       int
	firstSeed  uint64
	explore    bool
	depth      int
	faults     int
	delays     int
	maxStates  int
	exploreOut string
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "simulate: %v\n", err)
		return exitUsage
	}
	switch {
	case cfg.list:
		return list(stdout, stderr)
	case cfg.swarm:
		return swarm(cfg, stdout)
	}
	var sc scenarios.Scenario
	replay := ""
	if cfg.swarmSeed != 0 {
		sc = sim.RandomScenario(cfg.swarmSeed)
		cfg.seed = cfg.swarmSeed
		replay = fmt.Sprintf("simulate -swarm-seed %d", cfg.swarmSeed)
	} else {
		if sc, err = scenarios.Load(cfg.scenario); err != nil {
			fmt.Fprintf(stderr, "simulate: %v\n", err)
			return exitUsage
		}
		replay = fmt.Sprintf("simulate -scenario %s -seed %d", cfg.scenario, cfg.seed)
	}
	switch {
	case cfg.explore:
		return exploreScenario(cfg, sc, stdout, stderr)
	case len(sc.Schedule) > 0:
		return replaySchedule(cfg, sc, stdout, stderr)
	}
	if cfg.mutation != protocol.MutationNone {
		replay += " -mutation " + cfg.mutation.String()
	}
	start := time.Now()
	res := sim.Run(sc, sim.Options{Seed: cfg.seed, Out: stdout, Verbose: cfg.verbose,
		Trace: cfg.trace != "" || cfg.shiviz != "", Mutation: cfg.mutation, Replay: replay})
	printStats(stdout, res, time.Since(start))
	if err := writeTraces(cfg, sc, res, stdout); err != nil {
		fmt.Fprintf(stderr, "simulate: %v\n", err)
		return exitUsage
	}
	return res.Verdict.ExitCode()
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	var mutation string
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.scenario, "scenario", "", "scenario to run: a name from -list, or a path to a .yaml file")
	fs.Uint64Var(&cfg.seed, "seed", 1, "seed of the run's random source")
	fs.BoolVar(&cfg.list, "list", false, "list the scenarios and what each shows")
	fs.BoolVar(&cfg.verbose, "v", false, "also print every delivered and dropped message")
	fs.StringVar(&cfg.trace, "trace", "", "write a space-time diagram of the run to this HTML file")
	fs.StringVar(&cfg.shiviz, "shiviz", "", "write a ShiViz log (vector clocks) of the run to this file")
	fs.StringVar(&mutation, "mutation", "none", "break the protocol on purpose, to see the checkers fail: "+strings.Join(protocol.MutationNames(), ", "))
	fs.BoolVar(&cfg.swarm, "swarm", false, "run random scenarios across seeds")
	fs.IntVar(&cfg.runs, "runs", 1000, "with -swarm: how many seeds to run")
	fs.IntVar(&cfg.jobs, "jobs", 0, "with -swarm: runs in parallel (default: the number of CPUs)")
	fs.Uint64Var(&cfg.firstSeed, "first-seed", 1, "with -swarm: the first seed")
	fs.Uint64Var(&cfg.swarmSeed, "swarm-seed", 0, "replay the swarm run of this seed")
	fs.BoolVar(&cfg.explore, "explore", false, "with -scenario: explore every order of the events after the scenario's explore_from")
	fs.IntVar(&cfg.depth, "depth", 12, "with -explore: the longest path explored, in transitions")
	fs.IntVar(&cfg.faults, "faults", 1, "with -explore: the faults (losses, duplications, resets, crashes, kills, early timers) one path may hold")
	fs.IntVar(&cfg.delays, "delays", 0, "with -explore: how often one path may stray from the default schedule (0: no bound, every order)")
	fs.StringVar(&cfg.exploreOut, "explore-out", "", "with -explore: write the counterexample found as a scenario file, which -scenario replays")
	fs.IntVar(&cfg.maxStates, "max-states", 1000000, "with -explore: stop after this many distinct states (0: no bound)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: simulate -scenario NAME [-seed N] [-v] [-trace run.html] [-shiviz run.log]\n"+
			"       simulate -list\n       simulate -swarm [-runs N] [-jobs J]\n       simulate -swarm-seed N\n"+
			"       simulate -explore -scenario NAME [-depth D] [-faults F] [-delays K] [-max-states N] [-mutation M] [-explore-out FILE]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q (flags only; see -h)", fs.Arg(0))
	}
	m, ok := protocol.ParseMutation(mutation)
	if !ok {
		return cfg, fmt.Errorf("-mutation %q: want one of %s", mutation, strings.Join(protocol.MutationNames(), ", "))
	}
	cfg.mutation = m
	modes := 0
	for _, on := range []bool{cfg.list, cfg.swarm, cfg.swarmSeed != 0, cfg.scenario != ""} {
		if on {
			modes++
		}
	}
	switch {
	case modes == 0:
		return cfg, errors.New("say what to run: -scenario NAME, -list, -swarm or -swarm-seed N (see -h)")
	case modes > 1:
		return cfg, errors.New("-scenario, -list, -swarm and -swarm-seed do not go together")
	case cfg.swarm && cfg.runs < 1:
		return cfg, fmt.Errorf("-runs %d: want at least 1", cfg.runs)
	case cfg.jobs < 0:
		return cfg, fmt.Errorf("-jobs %d: want 0 (all CPUs) or more", cfg.jobs)
	case cfg.explore && cfg.scenario == "":
		return cfg, errors.New("-explore needs -scenario NAME, a scenario with explore_from")
	case cfg.explore && (cfg.depth < 1 || cfg.faults < 0 || cfg.delays < 0 || cfg.maxStates < 0):
		return cfg, fmt.Errorf("-depth %d, -faults %d, -delays %d, -max-states %d: want depth 1 or more, the others 0 or more",
			cfg.depth, cfg.faults, cfg.delays, cfg.maxStates)
	case cfg.exploreOut != "" && !cfg.explore:
		return cfg, errors.New("-explore-out goes with -explore")
	case cfg.explore && (cfg.trace != "" || cfg.shiviz != ""):
		return cfg, errors.New("-trace and -shiviz record one simulated run: not with -explore")
	case cfg.swarm && (cfg.trace != "" || cfg.shiviz != ""):
		return cfg, errors.New("-trace and -shiviz record one run: use them with -scenario or -swarm-seed")
	}
	return cfg, nil
}

// list prints every scenario with its description.
func list(stdout, stderr io.Writer) int {
	all, err := scenarios.All()
	if err != nil {
		fmt.Fprintf(stderr, "simulate: %v\n", err)
		return 1
	}
	for _, sc := range all {
		fmt.Fprintf(stdout, "%-26s %s\n", sc.Name, strings.Join(strings.Fields(sc.Description), " "))
	}
	return 0
}

// printStats prints the stats line: the only line that depends on the wall
// clock.
func printStats(w io.Writer, r sim.Result, wall time.Duration) {
	rate := 0.0
	if wall > 0 {
		rate = float64(r.Events) / wall.Seconds()
	}
	fmt.Fprintf(w, "stats: events=%d virtual=%.3fs wall=%.3fs events/s=%.0f steps=%d delivered=%d dropped=%d false_removals=%d\n",
		r.Events, r.Virtual.Seconds(), wall.Seconds(), rate, r.Steps, r.Delivered, r.Dropped, r.FalseRemovals)
}
