package main

// A flood of random datagrams at one member of a keyed cluster at the
// default timing. The flooder is this test binary run again as a separate
// process (floodEnv), so that it has a core of its own to send from, as an
// attacker would, rather than sharing the test's.

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pkg/errors"
)

const (
	// floodEnv, set to "target,duration" (a UDP host:port and a Go
	// duration), makes the test binary a flooder: it sends random
	// datagrams to target from one goroutine, as fast as it can, for
	// duration, prints floodReport and exits.
	floodEnv = "MEMBERLY_FLOOD"
	// floodSource is the address the flood comes from: no host of any
	// cluster.
	floodSource = "127.0.0.200"
	// floodDuration is how long a flood lasts.
	floodDuration = 10 * time.Second
	// floodPool is how many random datagrams the flooder draws before it
	// starts and sends in turn, so that drawing costs nothing during the
	// flood.
	floodPool = 4096
	// floodMaxLen bounds a flood datagram's length; lengths are drawn
	// uniformly from 1 to it. Most are as long as a sealed heartbeat or
	// longer, so they reach whatever check comes after the length.
	floodMaxLen = 512
)

// floodReport is the flooder's one line on stdout.
const floodReport = "flood: sent %d datagrams in %d ns\n"

// flood runs the flooder when floodEnv is set; it never returns then.
func flood() {
	spec := os.Getenv(floodEnv)
	if spec == "" {
		return
	}
	target, d, _ := strings.Cut(spec, ",")
	dur, err := time.ParseDuration(d)
	if err != nil {
		fmt.Fprintln(os.Stderr, "flooder:", err)
		os.Exit(2)
	}
	runtime.GOMAXPROCS(1)
	sent, took, err := sendFlood(target, dur)
	if err != nil {
		fmt.Fprintln(os.Stderr, "flooder:", err)
		os.Exit(2)
	}
	fmt.Printf(floodReport, sent, took.Nanoseconds())
	os.Exit(0)
}

// sendFlood sends random datagrams to target for dur, from floodSource, and
// returns how many it sent and how long that took.
func sendFlood(target string, dur time.Duration) (int, time.Duration, error) {
	raddr, err := net.ResolveUDPAddr("udp", target)
	if err != nil {
		return 0, 0, err
	}
	conn, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(floodSource)}, raddr)
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	pool := make([][]byte, floodPool)
	for i := range pool {
		b := make([]byte, 1+rng.IntN(floodMaxLen))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		pool[i] = b
	}
	sent := 0
	start := time.Now()
	end := start.Add(dur)
	for i := 0; ; i++ {
		// Reading the clock costs little next to a send, but not
		// nothing: look every 256 datagrams.
		if i%256 == 0 && time.Now().After(end) {
			break
		}
		// A refusal (nobody listening, for a moment) is not a send.
		if _, err := conn.Write(pool[i%floodPool]); err == nil {
			sent++
		}
	}
	return sent, time.Since(start), nil
}

// floodResult is what one flood achieved.
type floodResult struct {
	sent int
	took time.Duration
}

func (r floodResult) rate() float64 { return float64(r.sent) / r.took.Seconds() }

// runFlooder floods target for dur from a separate process and returns
// what it reports.
func runFlooder(tb testing.TB, target string, dur time.Duration) (floodResult, error) {
	tb.Helper()
	self, err := os.Executable()
	if err != nil {
		return floodResult{}, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), floodEnv+"="+target+","+dur.String())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return floodResult{}, errors.Errorf("flooder: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		var sent int
		var ns int64
		if _, err := fmt.Sscanf(sc.Text(), floodReport, &sent, &ns); err == nil {
			return floodResult{sent: sent, took: time.Duration(ns)}, nil
		}
	}
	return floodResult{}, errors.Errorf("flooder printed no report: %q", stdout.String())
}

// floodCluster starts five keyed peers at the default timing, each serving
// HTTP, peer target also with -v, and waits until all are in one view.
func floodCluster(tb testing.TB, target int) *cluster {
	tb.Helper()
	c := newCluster(tb, 5)
	key := filepath.Join(c.dir, "key")
	if err := os.WriteFile(key, []byte(testKeyHex+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	for id := 1; id <= 5; id++ {
		args := []string{"-key-file", key, "-http", c.httpAddr(id)}
		if id == target {
			args = append(args, "-v")
		}
		c.start(id, args...)
	}
	c.waitView(ids(1, 5), members(ids(1, 5)...), 1)
	return c
}

// floodOutcome is what a flood did to a cluster.
type floodOutcome struct {
	floodResult
	read     float64 // datagrams the target counted as dropped
	logBytes int     // what the target printed during the flood and after
	views    []string
	suspects []string
}

// floodAndCheck floods peer target of c for floodDuration, waits a further
// suspect-after and a heartbeat, and reports what happened.
func floodAndCheck(tb testing.TB, c *cluster, target int) floodOutcome {
	tb.Helper()
	drops0, err := metric(c.httpAddr(target), "memberly_drops_total", "")
	if err != nil {
		tb.Fatal(err)
	}
	logged0 := len(c.proc(target).text())
	start := time.Now()
	res, err := runFlooder(tb, fmt.Sprintf("%s:%d", hostIP(target), c.udpPort), floodDuration)
	if err != nil {
		tb.Fatal(err)
	}
	// A suspicion raised by the flood shows by then.
	time.Sleep(3300 * time.Millisecond)
	drops1, err := metric(c.httpAddr(target), "memberly_drops_total", "")
	if err != nil {
		tb.Fatal(err)
	}
	out := floodOutcome{floodResult: res, read: drops1 - drops0, logBytes: len(c.proc(target).text()) - logged0}
	for id := 1; id <= 5; id++ {
		for _, e := range c.proc(id).entries() {
			if !e.at.After(start) {
				continue
			}
			switch {
			case e.line.IsView():
				out.views = append(out.views, strings.TrimSpace(e.text))
			case strings.Contains(e.line.Message, "unreachable"):
				out.suspects = append(out.suspects, strings.TrimSpace(e.text))
			}
		}
	}
	return out
}

// floodTarget is the peer flooded: a member that is not the leader, so
// that the heartbeats it hears from the other members travel on streams
// that nothing but heartbeats opened.
const floodTarget = 3

// A flood of random datagrams, as fast as one core sends them, at a member
// of a keyed cluster of five at the default timing: nobody suspects
// anybody and the view stays. The flooded peer runs with -v, and its log
// stays small.
func TestCluster_FloodChangesNothing(t *testing.T) {
	skipShort(t)
	// Not parallel: the flooder takes a core, which the fast timing of
	// the other cluster tests would feel.
	const target = floodTarget
	c := floodCluster(t, target)
	out := floodAndCheck(t, c, target)
	t.Logf("flood: %d datagrams in %v (%.0f/s) at peer %d, which read %.0f (%.0f/s) and logged %d bytes",
		out.sent, out.took.Round(time.Millisecond), out.rate(), target, out.read, out.read/out.took.Seconds(), out.logBytes)
	if len(out.views) > 0 {
		t.Errorf("views installed during the flood:\n%s", strings.Join(out.views, "\n"))
	}
	if len(out.suspects) > 0 {
		t.Errorf("suspicions during the flood:\n%s", strings.Join(out.suspects, "\n"))
	}
	// 10 s of flood is one first warning, a summary or two, and a few
	// -v lines per interval; per-packet lines would be megabytes.
	if out.logBytes > 16<<10 {
		t.Errorf("peer %d logged %d bytes during the flood, want at most 16 KiB:\n%s", target, out.logBytes, tail(c.proc(target).text(), 4096))
	}
}

// BenchmarkFlood floods a member of a keyed cluster of five at the
// default timing for 10 s per iteration, and reports the rate sent, the
// rate the peer read, and the views and suspicions it caused (want 0).
func BenchmarkFlood(b *testing.B) {
	const target = floodTarget
	c := floodCluster(b, target)
	var sent, read, secs float64
	var views, suspects int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := floodAndCheck(b, c, target)
		sent += float64(out.sent)
		read += out.read
		secs += out.took.Seconds()
		views += len(out.views)
		suspects += len(out.suspects)
	}
	b.ReportMetric(sent/secs, "datagrams/s")
	b.ReportMetric(read/secs, "read/s")
	b.ReportMetric(float64(views)/float64(b.N), "views/flood")
	b.ReportMetric(float64(suspects)/float64(b.N), "suspicions/flood")
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
