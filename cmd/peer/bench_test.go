package main

// Benchmarks of real peer processes on loopback. They only report numbers;
// nothing here asserts a time.

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/protocol"
)

// benchTiming is the fast timing the crash benchmark measures.
var benchTiming = []string{
	"-heartbeat", "100ms", "-suspect-after", "250ms",
	"-retry", "100ms", "-join-retry", "200ms", "-leave-timeout", "2s",
}

// BenchmarkCrashToAgreement measures the time from kill -9 of a member to
// the moment every survivor has printed a view without it. Each iteration
// kills another member (never the leader), then restarts it and waits for
// it to rejoin, off the clock.
func BenchmarkCrashToAgreement(b *testing.B) {
	for _, n := range []int{5, 25} {
		b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) { benchCrash(b, n) })
	}
}

func benchCrash(b *testing.B, n int) {
	c := newCluster(b, n, benchTiming...)
	c.startAll()
	all := members(ids(1, n)...)
	c.waitView(ids(1, n), all, 1)

	var samples []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		victim := 2 + i%(n-1)
		var survivors []int
		for id := 1; id <= n; id++ {
			if id != victim {
				survivors = append(survivors, id)
			}
		}
		killed := time.Now()
		c.proc(victim).killWait()
		var agreed time.Time
		c.waitFor(fmt.Sprintf("survivors to remove peer %d", victim), func() error {
			agreed = time.Time{}
			for _, id := range survivors {
				at, ok := firstViewWithout(c.proc(id), protocol.PeerID(victim), killed)
				if !ok {
					return errors.Errorf("peer %d has not removed %d", id, victim)
				}
				if at.After(agreed) {
					agreed = at
				}
			}
			return nil
		})
		samples = append(samples, float64(agreed.Sub(killed).Microseconds())/1000)

		b.StopTimer()
		c.start(victim)
		c.waitView(ids(1, n), all, 1)
		b.StartTimer()
	}
	b.ReportMetric(median(samples), "ms/crash-to-agreement")
}

// firstViewWithout returns when p first printed, after since, a view
// without peer gone.
func firstViewWithout(p *proc, gone protocol.PeerID, since time.Time) (time.Time, bool) {
	for _, e := range p.entries() {
		if e.at.After(since) && e.line.IsView() && !slices.Contains(e.line.Members, gone) {
			return e.at, true
		}
	}
	return time.Time{}, false
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// idleWindow is how long each iteration of BenchmarkIdle25 samples.
const idleWindow = 2 * time.Second

// BenchmarkIdle25 measures what 25 idle joined peers with the default
// timing cost: CPU (percent of one core per peer, from /proc/<pid>/stat)
// and resident memory (from /proc/<pid>/status).
func BenchmarkIdle25(b *testing.B) {
	const n = 25
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		b.Skip("needs /proc")
	}
	c := newCluster(b, n)
	c.startAll()
	c.waitView(ids(1, n), members(ids(1, n)...), 1)
	// Idle means settled, as in BenchmarkHundredPeers.
	time.Sleep(2 * protocol.DefaultConfig().SuspectAfter)

	var cpu, rss []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cpuNow, rssNow := sampleIdle(b, c, n, idleWindow)
		cpu, rss = append(cpu, cpuNow...), append(rss, rssNow...)
	}
	b.ReportMetric(mean(cpu), "cpu-%/peer")
	b.ReportMetric(mean(rss), "rss-MB/peer")
}

// sampleIdle measures, over window, the CPU each of peers 1..n takes (in
// percent of one core) and, at its end, each one's resident memory (MB).
func sampleIdle(b *testing.B, c *cluster, n int, window time.Duration) (cpu, rss []float64) {
	b.Helper()
	before, err := cpuTicks(c, n)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	time.Sleep(window)
	after, err := cpuTicks(c, n)
	if err != nil {
		b.Fatal(err)
	}
	wall := time.Since(start).Seconds()
	for id := 1; id <= n; id++ {
		cpu = append(cpu, float64(after[id]-before[id])/clockTicks/wall*100)
		kb, err := rssKB(c.proc(id).cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		rss = append(rss, float64(kb)/1024)
	}
	return cpu, rss
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// cpuTicks returns each peer's utime+stime.
func cpuTicks(c *cluster, n int) (map[int]uint64, error) {
	ticks := map[int]uint64{}
	for id := 1; id <= n; id++ {
		pid := c.proc(id).cmd.Process.Pid
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return nil, errors.Wrap(err, "cpu time")
		}
		// Fields after the command name, which is in parentheses and
		// may hold spaces: state is field 3, utime 14, stime 15.
		s := string(data)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) < 13 {
			return nil, errors.Errorf("/proc/%d/stat: %q", pid, s)
		}
		utime, err1 := strconv.ParseUint(fields[11], 10, 64)
		stime, err2 := strconv.ParseUint(fields[12], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, errors.Errorf("/proc/%d/stat: %q", pid, s)
		}
		ticks[id] = utime + stime
	}
	return ticks, nil
}

// rssKB returns a process's resident set size in kB.
func rssKB(pid int) (uint64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, errors.Wrap(err, "memory")
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb, errors.Wrapf(err, "/proc/%d/status VmRSS", pid)
		}
	}
	return 0, errors.Errorf("/proc/%d/status: no VmRSS", pid)
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

// BenchmarkHundredPeers runs 100 peer processes on loopback at the default
// timing: all join peer 1, then idle for a while (CPU, percent of one core
// per peer, and resident memory per peer), then 5 members that do not lead
// are killed at once and the 95 must agree on a view without them. It
// reports how long the joins took, the idle costs, and the time from the
// kill to the last survivor's view without the five.
func BenchmarkHundredPeers(b *testing.B) {
	const n, killed = 100, 5
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		b.Skip("needs /proc")
	}
	for i := 0; i < b.N; i++ {
		c := newCluster(b, n)
		start := time.Now()
		c.startAll()
		c.waitView(ids(1, n), members(ids(1, n)...), 1)
		joined := time.Since(start)

		// Idle means settled: the last joiners' watchers have had their
		// grace, and the views' answers and retries are over.
		time.Sleep(2 * protocol.DefaultConfig().SuspectAfter)
		cpu, rss := sampleIdle(b, c, n, 5*idleWindow)

		victims := ids(n-killed+1, n)
		kill := time.Now()
		for _, id := range victims {
			c.proc(id).kill()
		}
		survivors := ids(1, n-killed)
		c.waitView(survivors, members(survivors...), 1)
		agreed := time.Since(kill)

		b.ReportMetric(joined.Seconds(), "s-to-join")
		b.ReportMetric(mean(cpu), "idle-cpu-%/peer")
		b.ReportMetric(mean(rss), "rss-MB/peer")
		b.ReportMetric(agreed.Seconds(), "s-kill-5-to-agreement")
	}
}
