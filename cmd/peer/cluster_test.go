package main

// This file is the process-cluster harness of the integration tests: it
// builds the peer binary, starts real peer processes on 127.0.0.1..127.0.0.N
// and reads their stderr back with check.ParseLine.

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/check"
	"github.com/memberly/memberly/protocol"
)

var (
	binDir     string // holds the peer binary, removed by TestMain
	buildOnce  sync.Once
	peerBinary string
	buildErr   error
)

func TestMain(m *testing.M) {
	flood() // only when run as the flooder: see floodEnv
	flag.Parse()
	// Cluster tests mostly wait on their processes, not on the CPU, so
	// more of them run at once than -parallel's default (GOMAXPROCS),
	// unless -parallel was given.
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit && runtime.GOMAXPROCS(0) < 4 {
		_ = flag.Set("test.parallel", "4")
	}
	dir, err := os.MkdirTemp("", "peer-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildPeer builds the peer binary once, on first use, so that a run of
// the unit tests alone does not pay for it.
func buildPeer(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		peerBinary = filepath.Join(binDir, "peer")
		out, err := exec.Command("go", "build", "-o", peerBinary, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.Errorf("go build ./cmd/peer: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return peerBinary
}

// fastTiming scales the seed's timing down about tenfold, so that a case
// takes seconds. Every peer of a cluster gets it.
var fastTiming = []string{
	"-heartbeat", "100ms", "-suspect-after", "300ms",
	"-retry", "100ms", "-join-retry", "200ms", "-leave-timeout", "2s",
}

// Each cluster takes a block of ports below Linux's ephemeral range
// (32768+), so that no outgoing connection holds one: a TCP port, a UDP
// port and an HTTP port, shared by its peers on their own addresses.
const (
	portBlock = 3
	portLow   = 20000
	portHigh  = 32000
)

var nextPort atomic.Int32

func init() {
	// A random start keeps concurrent test binaries apart.
	nextPort.Store(int32(portLow + rand.IntN((portHigh-portLow)/portBlock/2)*portBlock))
}

// allocPorts returns the first port of a block free on 127.0.0.1..n.
func allocPorts(tb testing.TB, n int) int {
	tb.Helper()
	for range 100 {
		base := int(nextPort.Add(portBlock)) - portBlock
		if base+portBlock > portHigh {
			nextPort.Store(portLow)
			continue
		}
		if portsFree(n, base) {
			return base
		}
	}
	tb.Fatal("no free block of ports")
	return 0
}

func portsFree(n, base int) bool {
	for i := 1; i <= n; i++ {
		for p := base; p < base+portBlock; p++ {
			addr := fmt.Sprintf("%s:%d", hostIP(i), p)
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return false
			}
			ln.Close()
			pc, err := net.ListenPacket("udp", addr)
			if err != nil {
				return false
			}
			pc.Close()
		}
	}
	return true
}

// hostIP is peer id's address: 127.0.0.id.
func hostIP(id int) string { return fmt.Sprintf("127.0.0.%d", id) }

// cluster is up to n peer processes sharing one hosts file.
type cluster struct {
	t        testing.TB
	n        int
	dir      string
	hosts    string
	tcpPort  int
	udpPort  int
	httpPort int
	args     []string // flags every peer gets

	mu      sync.Mutex
	all     []*proc       // every process started, in order
	current map[int]*proc // the latest process of each id
}

// newCluster writes a hosts file of n lines 127.0.0.1..127.0.0.n and
// returns the cluster, with no process started yet. args are given to
// every peer. Cleanup kills what still runs, checks the logs for S1 and S2,
// and shows every log when the test failed.
func newCluster(t testing.TB, n int, args ...string) *cluster {
	t.Helper()
	buildPeer(t)
	c := &cluster{t: t, n: n, dir: t.TempDir(), args: args, current: map[int]*proc{}}
	base := allocPorts(t, n)
	c.tcpPort, c.udpPort, c.httpPort = base, base+1, base+2
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintln(&b, hostIP(i))
	}
	c.hosts = filepath.Join(c.dir, "hosts")
	if err := os.WriteFile(c.hosts, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.cleanup)
	return c
}

func (c *cluster) cleanup() {
	c.mu.Lock()
	procs := slices.Clone(c.all)
	c.mu.Unlock()
	for _, p := range procs {
		p.kill()
	}
	for _, p := range procs {
		<-p.done
	}
	if !c.t.Failed() {
		if err := c.checkSafety(); err != nil {
			c.t.Error(err)
		}
	}
	if c.t.Failed() {
		for _, p := range procs {
			c.t.Logf("stderr of peer %d (%s, %s):\n%s", p.id, strings.Join(p.args, " "), p.describeExit(), p.text())
		}
	}
}

// start starts peer id with the cluster's flags and extra.
func (c *cluster) start(id int, extra ...string) *proc {
	c.t.Helper()
	args := append([]string{
		"-h", c.hosts, "-id", fmt.Sprint(id),
		"-tcp-port", fmt.Sprint(c.tcpPort), "-udp-port", fmt.Sprint(c.udpPort),
	}, c.args...)
	args = append(args, extra...)
	p := startProc(c.t, id, args)
	c.mu.Lock()
	c.all = append(c.all, p)
	c.current[id] = p
	c.mu.Unlock()
	return p
}

// startAll starts peers 1..n at once, each with extra.
func (c *cluster) startAll(extra ...string) {
	for id := 1; id <= c.n; id++ {
		c.start(id, extra...)
	}
}

// proc returns the latest process of peer id.
func (c *cluster) proc(id int) *proc {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.current[id]
	if p == nil {
		c.t.Fatalf("peer %d was never started", id)
	}
	return p
}

// httpAddr is the -http address for peer id.
func (c *cluster) httpAddr(id int) string {
	return fmt.Sprintf("%s:%d", hostIP(id), c.httpPort)
}

// deadline bounds every wait: generous, as the machine may be busy.
const deadline = 20 * time.Second

// waitFor polls cond until it returns nil; after the deadline the test
// fails with what, and cond's last error.
func (c *cluster) waitFor(what string, cond func() error) {
	c.t.Helper()
	end := time.Now().Add(deadline)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(end) {
			c.t.Fatalf("after %v, still waiting for %s: %v", deadline, what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// atView is a condition: each of ids' latest process is running and its
// last view is members, led by leader, with an id of at least minID (so
// that a view a peer started in cannot pass for one it should reach).
func (c *cluster) atView(ids []int, minID protocol.ViewID, members []protocol.PeerID, leader protocol.PeerID) func() error {
	return func() error {
		agreed := leader // leader 0: any, as long as every peer follows the same one
		for _, id := range ids {
			p := c.proc(id)
			if p.exited() {
				return errors.Errorf("peer %d exited (%s)", id, p.describeExit())
			}
			v, ok := p.lastView()
			if !ok {
				return errors.Errorf("peer %d has no view", id)
			}
			if agreed == 0 {
				agreed = v.Leader
			}
			if !slices.Equal(v.Members, members) || v.Leader != agreed || v.ViewID < minID {
				return errors.Errorf("peer %d is at view %d %v led by %d, want %v led by %d, view id %d or later",
					id, v.ViewID, v.Members, v.Leader, members, leader, minID)
			}
		}
		return nil
	}
}

// waitView waits until every peer of ids is at members led by leader (0:
// by one leader, whichever).
func (c *cluster) waitView(ids []int, members []protocol.PeerID, leader protocol.PeerID) {
	c.t.Helper()
	c.waitViewFrom(ids, 0, members, leader)
}

// waitViewFrom waits until every peer of ids is at members led by leader,
// in a view numbered minID or later.
func (c *cluster) waitViewFrom(ids []int, minID protocol.ViewID, members []protocol.PeerID, leader protocol.PeerID) {
	c.t.Helper()
	what := fmt.Sprintf("peers %v at %v led by %d", ids, members, leader)
	if minID > 0 {
		what += fmt.Sprintf(" (view %d or later)", minID)
	}
	c.waitFor(what, c.atView(ids, minID, members, leader))
}

// status returns GET /status of the peer serving HTTP at addr.
func status(addr string) (statusJSON, error) {
	var s statusJSON
	resp, err := http.Get("http://" + addr + "/status")
	if err != nil {
		return s, errors.Wrap(err, "GET /status")
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return s, errors.Wrap(err, "decoding /status")
	}
	return s, nil
}

// checkSafety checks every process's log: all of it parses as the seed's
// lines (unless -v or -log json was given; the operator lines of a durable
// peer or of one with keys, and a start-up error line, are allowed), each
// line is in the process's own name, and the installs of all processes
// hold S1-S4 as check.CheckInstalls judges them. Each process counts as
// its own incarnation: S1 holds per process, and a restarted peer starts
// over.
func (c *cluster) checkSafety() error {
	c.mu.Lock()
	procs := slices.Clone(c.all)
	c.mu.Unlock()
	var installs []check.Install
	peers := 0
	for process, p := range procs {
		text := p.text()
		lines, skipped := check.ParseLogText(text)
		skipped -= p.allowedExtraLines()
		if skipped != 0 && !slices.Contains(p.args, "-v") && !slices.Contains(p.args, "json") {
			return errors.Errorf("peer %d printed %d lines that are not the seed's:\n%s", p.id, skipped, text)
		}
		for _, l := range lines {
			if l.Peer != protocol.PeerID(p.id) {
				return errors.Errorf("peer %d logged a line as peer %d: %v", p.id, l.Peer, l)
			}
		}
		for _, in := range check.InstallsFromLines(lines) {
			in.Incarnation = uint64(process)
			installs = append(installs, in)
		}
		peers = max(peers, p.id)
	}
	if prop, detail := check.CheckInstalls(peers, installs); prop != "" {
		return errors.Errorf("%s: %s", prop, detail)
	}
	return nil
}

// proc is one peer process and what it printed on stderr.
type proc struct {
	id   int
	args []string
	cmd  *exec.Cmd

	mu     sync.Mutex
	out    []entry
	status int // exit status once done; -1 when killed by a signal

	done chan struct{} // closed once the process exited and its stderr was read
}

// entry is one line of stderr, with when it was read.
type entry struct {
	at   time.Time
	text string
	line protocol.Line
	ok   bool // text parsed as a seed line
}

func startProc(tb testing.TB, id int, args []string) *proc {
	tb.Helper()
	p := &proc{id: id, args: args, done: make(chan struct{})}
	p.cmd = exec.Command(buildPeer(tb), args...)
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go p.read(stderr)
	return p
}

// read collects stderr line by line, then reaps the process.
func (p *proc) read(stderr io.Reader) {
	r := bufio.NewReader(stderr)
	for {
		s, err := r.ReadString('\n')
		if s != "" {
			l, perr := check.ParseLine(s)
			e := entry{at: time.Now(), text: s, line: l, ok: perr == nil}
			p.mu.Lock()
			p.out = append(p.out, e)
			p.mu.Unlock()
		}
		if err != nil {
			break
		}
	}
	err := p.cmd.Wait()
	status := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		status = exit.ExitCode() // -1 when killed by a signal
	}
	p.mu.Lock()
	p.status = status
	p.mu.Unlock()
	close(p.done)
}

// text is everything printed so far.
func (p *proc) text() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, e := range p.out {
		b.WriteString(e.text)
	}
	return b.String()
}

// entries returns the parsed lines printed so far.
func (p *proc) entries() []entry {
	p.mu.Lock()
	defer p.mu.Unlock()
	var es []entry
	for _, e := range p.out {
		if e.ok {
			es = append(es, e)
		}
	}
	return es
}

// views returns the view lines printed so far.
func (p *proc) views() []protocol.Line {
	var vs []protocol.Line
	for _, e := range p.entries() {
		if e.line.IsView() {
			vs = append(vs, e.line)
		}
	}
	return vs
}

// lastView returns the last view line printed.
func (p *proc) lastView() (protocol.Line, bool) {
	vs := p.views()
	if len(vs) == 0 {
		return protocol.Line{}, false
	}
	return vs[len(vs)-1], true
}

// allowedExtraLines counts the lines p may print beside the seed's: the
// operator lines of a durable peer (-data-dir) or of one with keys
// (-key-file: reloads, clock skew), and the one line of a start-up error
// (exit status 2).
func (p *proc) allowedExtraLines() int {
	n := 0
	if slices.Contains(p.args, "-data-dir") || slices.Contains(p.args, "-key-file") {
		n += len(p.opLines())
	}
	if p.exited() && p.exitStatus() == exitStartup {
		for _, e := range p.all() {
			if strings.HasPrefix(e.text, "peer: ") {
				n++
			}
		}
	}
	return n
}

// exitStatus is the exit status of a process that exited.
func (p *proc) exitStatus() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

// all returns every line printed so far.
func (p *proc) all() []entry {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.out)
}

// opLines returns the operator lines printed so far.
func (p *proc) opLines() []check.OperatorLine {
	var ls []check.OperatorLine
	for _, e := range p.all() {
		if l, ok := check.ParseOperatorLine(e.text); ok {
			ls = append(ls, l)
		}
	}
	return ls
}

// opLine returns the first operator line with msg.
func (p *proc) opLine(msg string) (check.OperatorLine, bool) {
	for _, l := range p.opLines() {
		if l.Msg == msg {
			return l, true
		}
	}
	return check.OperatorLine{}, false
}

// printed reports whether p printed a message line with msg.
func (p *proc) printed(msg string) bool {
	for _, e := range p.entries() {
		if !e.line.IsView() && e.line.Message == msg {
			return true
		}
	}
	return false
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *proc) describeExit() string {
	if !p.exited() {
		return "running"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.status < 0 {
		return "killed"
	}
	return fmt.Sprintf("exit status %d", p.status)
}

// signal sends sig to a process still running.
func (p *proc) signal(sig syscall.Signal) {
	if !p.exited() {
		_ = p.cmd.Process.Signal(sig)
	}
}

// kill is kill -9; it returns at once.
func (p *proc) kill() { p.signal(syscall.SIGKILL) }

// killWait kills p and waits for it to be gone.
func (p *proc) killWait() {
	p.kill()
	<-p.done
}

// waitExit waits for p to exit and returns its exit status (-1 when killed
// by a signal).
func (p *proc) waitExit(tb testing.TB) int {
	tb.Helper()
	select {
	case <-p.done:
	case <-time.After(deadline):
		tb.Fatalf("peer %d still running after %v", p.id, deadline)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

// metric returns the sum of the samples of metric name whose labels
// contain labels (all of them when labels is empty) on the /metrics of the
// peer serving HTTP at addr.
func metric(addr, name, labels string) (float64, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, errors.Wrap(err, "GET /metrics")
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, errors.Wrap(err, "reading /metrics")
	}
	sum, found := 0.0, false
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			continue
		}
		sample, sampleLabels, _ := strings.Cut(fields[0], "{")
		if sample != name || !strings.Contains(sampleLabels, labels) {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(fields[1], &v); err != nil {
			return 0, errors.Wrapf(err, "metric %s", line)
		}
		sum, found = sum+v, true
	}
	if !found {
		return 0, errors.Errorf("no metric %s{%s} in /metrics:\n%s", name, labels, body)
	}
	return sum, nil
}

// ids returns the peer ids from..to, as ints for the harness.
func ids(from, to int) []int {
	var s []int
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

// members returns a view's member list.
func members(ids ...int) []protocol.PeerID {
	m := make([]protocol.PeerID, len(ids))
	for i, id := range ids {
		m[i] = protocol.PeerID(id)
	}
	return m
}
