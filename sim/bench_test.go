package sim_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
	"github.com/memberly/memberly/sim"
)

// steady is n peers started together that then only beat for the rest of
// the run: the simulator's steady state.
func steady(n int, runFor time.Duration) scenarios.Scenario {
	sc := scenarios.Scenario{Name: fmt.Sprintf("steady-%d", n), File: "(bench)", Peers: n,
		Timing: protocol.DefaultConfig(), Network: scenarios.DefaultNetwork(),
		Expect: scenarios.Expect{Within: runFor}, RunFor: runFor}
	for id := 1; id <= n; id++ {
		sc.Timeline = append(sc.Timeline, scenarios.Action{Kind: scenarios.ActStart, Peers: []protocol.PeerID{protocol.PeerID(id)}})
	}
	return sc
}

// runBench runs sc b.N times and reports delivered events per second and
// how much faster than real time the virtual time went.
func runBench(b *testing.B, sc scenarios.Scenario) {
	b.ReportAllocs()
	var events uint64
	var virtual time.Duration
	start := time.Now()
	for i := range b.N {
		r := sim.Run(sc, sim.Options{Seed: uint64(i + 1)})
		if r.Verdict != sim.Pass {
			b.Fatalf("seed %d: %s %s: %s", i+1, r.Verdict, r.Property, r.Detail)
		}
		events += r.Events
		virtual += r.Virtual
	}
	wall := time.Since(start)
	b.ReportMetric(float64(events)/wall.Seconds(), "events/s")
	b.ReportMetric(virtual.Seconds()/wall.Seconds(), "x-realtime")
}

// BenchmarkSteadyFive: 5 peers beating for 60 virtual seconds. Target:
// >= 1,000,000 events/s on one core.
func BenchmarkSteadyFive(b *testing.B) { runBench(b, steady(5, time.Minute)) }

// BenchmarkMultiCrash: the seed's case 3 (about 40 virtual seconds).
// Target: >= 10,000x real time.
func BenchmarkMultiCrash(b *testing.B) {
	sc, err := scenarios.Load("multi-crash")
	if err != nil {
		b.Fatal(err)
	}
	runBench(b, sc)
}

// BenchmarkHundredPeers: 100 peers joining, then beating, for 60 virtual
// seconds.
func BenchmarkHundredPeers(b *testing.B) { runBench(b, steady(100, time.Minute)) }
