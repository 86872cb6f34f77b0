package explore_test

import (
	"testing"

	"github.com/memberly/memberly/scenarios"
	"github.com/memberly/memberly/sim/explore"
)

// BenchmarkExploreFour explores 50,000 distinct states of explore-four
// with a fault budget of 2, and reports states per second.
func BenchmarkExploreFour(b *testing.B) {
	sc, err := scenarios.Load("explore-four")
	if err != nil {
		b.Fatal(err)
	}
	states := 0
	for b.Loop() {
		r, err := explore.Run(sc, explore.Options{Depth: 100, Faults: 2, MaxStates: 50000})
		if err != nil {
			b.Fatal(err)
		}
		states += r.States
	}
	b.ReportMetric(float64(states)/b.Elapsed().Seconds(), "states/s")
}
