package main

import (
	"cmp"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/memberly/memberly/sim"
)

// swarm runs random scenarios for seeds first..first+runs-1 on jobs
// workers, printing progress and every failing seed with the command that
// replays it. Each seed alone determines its run.
func swarm(cfg config, stdout io.Writer) int {
	jobs := cfg.jobs
	if jobs == 0 {
		jobs = runtime.NumCPU()
	}
	fmt.Fprintf(stdout, "swarm: seeds %d..%d, %d jobs, mutation %s\n", cfg.firstSeed, cfg.firstSeed+uint64(cfg.runs)-1, jobs, cfg.mutation)
	type outcome struct {
		seed uint64
		res  sim.Result
	}
	seeds := make(chan uint64)
	results := make(chan outcome)
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seed := range seeds {
				results <- outcome{seed, sim.Run(sim.RandomScenario(seed), sim.Options{Seed: seed, Mutation: cfg.mutation})}
			}
		}()
	}
	go func() {
		for i := range cfg.runs {
			seeds <- cfg.firstSeed + uint64(i)
		}
		close(seeds)
		wg.Wait()
		close(results)
	}()

	start := time.Now()
	lastProgress := start
	done, safety, liveness := 0, 0, 0
	var events uint64
	var failures []outcome
	for o := range results {
		done++
		events += o.res.Events
		switch o.res.Verdict {
		case sim.SafetyViolation:
			safety++
			failures = append(failures, o)
		case sim.LivenessFailure:
			liveness++
			failures = append(failures, o)
		}
		if time.Since(lastProgress) > time.Second || done == cfg.runs {
			lastProgress = time.Now()
			fmt.Fprintf(stdout, "swarm: %d/%d runs, %d safety violations, %d liveness failures, %.0f events/s\n",
				done, cfg.runs, safety, liveness, float64(events)/time.Since(start).Seconds())
		}
	}
	// Report failures in seed order, whatever order the workers finished in.
	slices.SortFunc(failures, func(a, b outcome) int { return cmp.Compare(a.seed, b.seed) })
	for _, f := range failures {
		mut := ""
		if cfg.mutation.String() != "none" {
			mut = " -mutation " + cfg.mutation.String()
		}
		fmt.Fprintf(stdout, "FAIL seed %d: %s %s at %.3fs: %s\n  replay: simulate -swarm-seed %d%s\n",
			f.seed, f.res.Verdict, f.res.Property, f.res.At.Seconds(), f.res.Detail, f.seed, mut)
	}
	fmt.Fprintf(stdout, "swarm: %d runs, %d failed, wall %.1fs\n", done, len(failures), time.Since(start).Seconds())
	switch {
	case safety > 0:
		return sim.SafetyViolation.ExitCode()
	case liveness > 0:
		return sim.LivenessFailure.ExitCode()
	}
	return 0
}
