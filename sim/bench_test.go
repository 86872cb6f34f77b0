package sim_test

import (
	"flag"
	"fmt"
	"runtime"
	"runtime/metrics"
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

// joinAll is peer 1 starting alone and n-1 peers joining it, started one
// by one over the first joinSpread of virtual time, after which the
// cluster only beats until runFor. It expects the full view by runFor.
func joinAll(n int, runFor time.Duration) scenarios.Scenario {
	const joinSpread = 10 * time.Second
	sc := scenarios.Scenario{Name: fmt.Sprintf("join-all-%d", n), File: "(bench)", Peers: n,
		Timing: protocol.DefaultConfig(), Network: scenarios.DefaultNetwork(),
		Expect: scenarios.Expect{Within: runFor}, RunFor: runFor}
	sc.Timeline = append(sc.Timeline, scenarios.Action{Kind: scenarios.ActStart, Peers: []protocol.PeerID{1}})
	for id := 2; id <= n; id++ {
		at := 100*time.Millisecond + joinSpread*time.Duration(id-2)/time.Duration(max(n-1, 1))
		sc.Timeline = append(sc.Timeline, scenarios.Action{At: at, Kind: scenarios.ActStart, Peers: []protocol.PeerID{protocol.PeerID(id)}})
	}
	for id := 1; id <= n; id++ {
		sc.Expect.View = append(sc.Expect.View, protocol.PeerID(id))
	}
	return sc
}

// peakHeap samples the heap's live and not yet collected objects every
// 20 ms (runtime/metrics, which does not stop the world) until stop is
// closed, and sends the most it saw, in bytes.
func peakHeap(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-stop:
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// runScaleBench is runBench for large clusters: it also reports the
// messages delivered per peer per virtual second and the peak heap
// (objects, live or not yet collected) during a run, in MB.
func runScaleBench(b *testing.B, sc scenarios.Scenario) {
	b.ReportAllocs()
	var events, delivered uint64
	var virtual time.Duration
	var heapMB float64
	var wall time.Duration
	for i := range b.N {
		runtime.GC()
		stop := make(chan struct{})
		peak := peakHeap(stop)
		start := time.Now()
		r := sim.Run(sc, sim.Options{Seed: uint64(i + 1)})
		wall += time.Since(start)
		close(stop)
		heapMB = max(heapMB, float64(<-peak)/(1<<20))
		if r.Verdict != sim.Pass {
			b.Fatalf("seed %d: %s %s: %s", i+1, r.Verdict, r.Property, r.Detail)
		}
		events += r.Events
		delivered += r.Delivered
		virtual += r.Virtual
		runtime.KeepAlive(r)
	}
	b.ReportMetric(float64(events)/wall.Seconds(), "events/s")
	b.ReportMetric(virtual.Seconds()/wall.Seconds(), "x-realtime")
	b.ReportMetric(float64(delivered)/float64(sc.Peers)/virtual.Seconds(), "msgs/peer/s")
	b.ReportMetric(heapMB, "MB")
}

// BenchmarkScale: peer 1 starts, the others join it over the first 10
// virtual seconds, and the cluster beats until 120 virtual seconds, at
// default timing. The curve over n shows what each event costs the
// simulator as the cluster grows (the protocol's own messages grow as n²
// while every member beats every other). peers=1000 takes minutes.
func BenchmarkScale(b *testing.B) {
	for _, n := range []int{200, 500, 1000} {
		b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) {
			skipAboveScale(b, n)
			runScaleBench(b, joinAll(n, 2*time.Minute))
		})
	}
}

// BenchmarkThousandPeers is BenchmarkScale/peers=1000.
func BenchmarkThousandPeers(b *testing.B) {
	skipAboveScale(b, 1000)
	runScaleBench(b, joinAll(1000, 2*time.Minute))
}

// scalePeers bounds the sizes the scale benchmarks run: with all-to-all
// heartbeats, 500 and 1000 peers take far longer than make bench should.
var scalePeers = flag.Int("scale.peers", 200, "the largest cluster BenchmarkScale and BenchmarkThousandPeers run")

func skipAboveScale(b *testing.B, n int) {
	if n > *scalePeers {
		b.Skipf("%d peers: above -scale.peers=%d (go test ./sim -run '^$' -bench Scale -scale.peers=%d to run it)", n, *scalePeers, n)
	}
}
