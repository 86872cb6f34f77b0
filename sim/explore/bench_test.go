package explore_test

import (
	"testing"

	"github.com/memberly/memberly/scenarios"
	"github.com/memberly/memberly/sim/explore"
)

// BenchmarkExploreFour explores 50,000 distinct states of explore-four in
// every order, with a fault budget of 2, and reports states per second.
func BenchmarkExploreFour(b *testing.B) {
	benchmarkExplore(b, "explore-four", explore.Options{Depth: 100, Faults: 2, MaxStates: 50000})
}

// BenchmarkExploreFourDelays explores 200,000 distinct states of
// explore-four one delay and one fault from the default schedule, the
// search that catches the mutations, and reports states per second.
func BenchmarkExploreFourDelays(b *testing.B) {
	benchmarkExplore(b, "explore-four", explore.Options{Depth: 120, Faults: 1, Delays: 1, MaxStates: 200000})
}

func benchmarkExplore(b *testing.B, name string, opts explore.Options) {
	sc, err := scenarios.Load(name)
	if err != nil {
		b.Fatal(err)
	}
	states := 0
	for b.Loop() {
		r, err := explore.Run(sc, opts)
		if err != nil {
			b.Fatal(err)
		}
		states += r.States
	}
	b.ReportMetric(float64(states)/b.Elapsed().Seconds(), "states/s")
}
