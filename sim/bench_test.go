package sim_test

import (
	"bytes"
	"flag"
	"fmt"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
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
// messages delivered per peer per virtual second, over the whole run and
// over its second half alone (idle-msgs/peer/s: the cluster formed, what
// a member costs while nothing changes), and the peak heap (objects, live
// or not yet collected) during a run, in MB. The second half is measured
// off the clock, by running the same seed again to half time.
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
	b.StopTimer()
	half := sc
	half.RunFor = sc.RunFor / 2
	firstHalf := sim.Run(half, sim.Options{Seed: uint64(b.N)})
	last := sim.Run(sc, sim.Options{Seed: uint64(b.N)})
	idle := float64(last.Delivered-firstHalf.Delivered) / float64(sc.Peers) / (sc.RunFor - half.RunFor).Seconds()
	b.ReportMetric(float64(events)/wall.Seconds(), "events/s")
	b.ReportMetric(virtual.Seconds()/wall.Seconds(), "x-realtime")
	b.ReportMetric(float64(delivered)/float64(sc.Peers)/virtual.Seconds(), "msgs/peer/s")
	b.ReportMetric(idle, "idle-msgs/peer/s")
	b.ReportMetric(heapMB, "MB")
}

// BenchmarkScale: peer 1 starts, the others join it over the first 10
// virtual seconds, and the cluster beats until 120 virtual seconds, at
// default timing (one change per view, eight observers). The curve over n
// shows what each event costs the simulator as the cluster grows. The
// joins cost O(n²) messages (n views, each sent to every member); once
// formed, a member's messages per second do not grow with n.
func BenchmarkScale(b *testing.B) {
	for _, n := range []int{200, 500, 1000} {
		b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) {
			skipAboveScale(b, n)
			runScaleBench(b, joinAll(n, 2*time.Minute))
		})
	}
}

// BenchmarkThousandPeers is BenchmarkScale/peers=1000 (batch=1), and the
// same with the leader deciding up to 64 joins per view, letting them
// queue for 100 ms after each decision (batch=64): the joins then cost
// little beside the beats, and the run's messages per peer per second
// stay near the formed cluster's.
func BenchmarkThousandPeers(b *testing.B) {
	skipAboveScale(b, 1000)
	for _, batch := range []int{1, protocol.MaxChangesPerViewLimit} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			sc := joinAll(1000, 2*time.Minute)
			sc.Timing.MaxChangesPerView = batch
			if batch > 1 {
				// Joins come 10 ms apart, and a view takes a few ms
				// at 1 ms latency: without a wait few would queue.
				sc.Timing.BatchWait = 100 * time.Millisecond
			}
			runScaleBench(b, sc)
		})
	}
}

// scalePeers bounds the sizes the scale benchmarks run: with all-to-all
// heartbeats, 500 and 1000 peers take far longer than make bench should.
var scalePeers = flag.Int("scale.peers", 200, "the largest cluster BenchmarkScale and BenchmarkThousandPeers run")

func skipAboveScale(b *testing.B, n int) {
	if n > *scalePeers {
		b.Skipf("%d peers: above -scale.peers=%d (go test ./sim -run '^$' -bench Scale -scale.peers=%d to run it)", n, *scalePeers, n)
	}
}

// bootstrap is peer 1 starting alone and n-1 peers starting together
// 500 ms later, every message taking latency, the leader deciding up to
// maxChanges operations per view. It expects the full view by runFor.
func bootstrap(n int, latency time.Duration, maxChanges int, runFor time.Duration) scenarios.Scenario {
	sc := joinAll(n, runFor)
	sc.Name = fmt.Sprintf("bootstrap-%d", n)
	sc.Timing.MaxChangesPerView = maxChanges
	sc.Network.LatencyMin, sc.Network.LatencyMean = latency, latency
	rest := make([]protocol.PeerID, 0, n-1)
	for id := 2; id <= n; id++ {
		rest = append(rest, protocol.PeerID(id))
	}
	sc.Timeline = []scenarios.Action{
		{Kind: scenarios.ActStart, Peers: []protocol.PeerID{1}},
		{At: 500 * time.Millisecond, Kind: scenarios.ActStart, Peers: rest},
	}
	return sc
}

// joinedAt reads a run's log lines as they are printed and keeps the
// virtual time at which the last peer installed a view of all n peers.
type joinedAt struct {
	full []byte // the members of that view, as a line ends with them
	seen map[string]bool
	n    int
	at   time.Duration
}

func newJoinedAt(n int) *joinedAt {
	ids := make([]protocol.PeerID, n)
	for i := range ids {
		ids[i] = protocol.PeerID(i + 1)
	}
	return &joinedAt{full: []byte("memb_list: " + protocol.FormatMembers(ids) + "}\n"), seen: map[string]bool{}, n: n}
}

// Write takes one printed line: "   0.521s p7 {peer_id:7, ... memb_list: [...]}".
func (j *joinedAt) Write(line []byte) (int, error) {
	if !bytes.HasSuffix(line, j.full) {
		return len(line), nil
	}
	f := bytes.Fields(line)
	if len(f) < 2 || j.seen[string(f[1])] {
		return len(line), nil
	}
	j.seen[string(f[1])] = true
	if len(j.seen) == j.n {
		secs, err := strconv.ParseFloat(strings.TrimSuffix(string(f[0]), "s"), 64)
		if err != nil {
			return 0, err
		}
		j.at = time.Duration(secs * float64(time.Second))
	}
	return len(line), nil
}

// BenchmarkBootstrap: -scale.peers peers (200 by default) bootstrap a
// cluster, all but peer 1 starting at once, at a LAN's latency and a
// WAN's, deciding one operation per view or batching up to 32. It reports
// the virtual seconds until every peer holds the full view (joined-s)
// and the simulator's events/s, which includes printing the log lines it
// reads that time from.
func BenchmarkBootstrap(b *testing.B) {
	n := *scalePeers
	for _, latency := range []time.Duration{time.Millisecond, 50 * time.Millisecond} {
		for _, batch := range []int{1, 32} {
			b.Run(fmt.Sprintf("latency=%v/batch=%d", latency, batch), func(b *testing.B) {
				// Room for one change per peer at several round trips each,
				// and for elections should a burst of answers delay beats.
				runFor := 20*time.Second + time.Duration(n)*8*latency
				sc := bootstrap(n, latency, batch, runFor)
				var events uint64
				var joined, wall time.Duration
				for i := range b.N {
					j := newJoinedAt(n)
					start := time.Now()
					r := sim.Run(sc, sim.Options{Seed: uint64(i + 1), Out: j})
					wall += time.Since(start)
					if r.Verdict != sim.Pass || j.at == 0 {
						b.Fatalf("seed %d: %s %s: %s (all joined at %v)", i+1, r.Verdict, r.Property, r.Detail, j.at)
					}
					events += r.Events
					joined += j.at
				}
				b.ReportMetric(joined.Seconds()/float64(b.N), "joined-s")
				b.ReportMetric(float64(events)/wall.Seconds(), "events/s")
			})
		}
	}
}
