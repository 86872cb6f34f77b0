//go:build chaos

package chaos

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/check"
	"github.com/memberly/memberly/protocol"
)

const (
	// stopTimeout bounds the wait for a killed peer's process and its
	// output pipe.
	stopTimeout = 10 * time.Second
)

// entry is one line a peer printed.
type entry struct {
	peer int
	// at is the peer's own time for the line (JSON lines carry it, to
	// the millisecond), else when the test read it.
	at     time.Time
	text   string
	line   protocol.Line
	parsed bool // text is one of the seed's log lines, as JSON or as text
}

// peerProc is one running peer process.
type peerProc struct {
	id   int
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and its output is read

	mu      sync.Mutex
	entries []entry
	partial []byte // the start of a line not yet ended
	killed  bool   // the test killed it: an exit is expected
	exitErr error
}

// Write collects the process's output (stdout and stderr share it) line by
// line.
func (p *peerProc) Write(b []byte) (int, error) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.partial = append(p.partial, b...)
	for {
		i := slices.Index(p.partial, '\n')
		if i < 0 {
			break
		}
		p.entries = append(p.entries, parseEntry(p.id, string(p.partial[:i]), now))
		p.partial = p.partial[i+1:]
	}
	return len(b), nil
}

// lines returns a copy of what p printed so far.
func (p *peerProc) lines() []entry {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.entries)
}

// unexpectedExit reports whether p has exited without the test killing it,
// and how.
func (p *peerProc) unexpectedExit() (bool, string) {
	select {
	case <-p.done:
	default:
		return false, ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.killed {
		return false, ""
	}
	return true, fmt.Sprintf("peer %d exited by itself: %v", p.id, p.exitErr)
}

// kill stops p at once, as kill -9 does, and waits for it.
func (p *peerProc) kill() error {
	p.mu.Lock()
	p.killed = true
	p.mu.Unlock()
	// The process group holds ip netns exec's peer (one process: ip
	// execs it) and anything it might start.
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
		return nil
	case <-time.After(stopTimeout):
		return errors.Errorf("peer %d (pid %d) still runs %v after SIGKILL", p.id, p.cmd.Process.Pid, stopTimeout)
	}
}

// jsonNote is a line of -log json: slog's JSON with the seed line's fields.
type jsonNote struct {
	Time    time.Time `json:"time"`
	PeerID  *uint64   `json:"peer_id"`
	ViewID  *uint64   `json:"view_id"`
	Leader  *uint64   `json:"leader"`
	Members []uint64  `json:"memb_list"`
	Message *string   `json:"message"`
}

// parseEntry reads one line of peer id's output. A JSON note is rendered as
// the seed's line and read back with check.ParseLine, so that it meets
// exactly the rules of a seed line (ids in range, members ascending, a
// message without quotes); a line in the seed's text format is read as it
// is.
func parseEntry(id int, text string, readAt time.Time) entry {
	e := entry{peer: id, at: readAt, text: text}
	seedText := text
	if strings.HasPrefix(strings.TrimSpace(text), `{"`) {
		var n jsonNote
		if err := json.Unmarshal([]byte(text), &n); err != nil || n.PeerID == nil || n.ViewID == nil || n.Leader == nil {
			return e
		}
		if !n.Time.IsZero() {
			e.at = n.Time
		}
		head := fmt.Sprintf("{peer_id:%d, view_id: %d, leader: %d, ", *n.PeerID, *n.ViewID, *n.Leader)
		switch {
		case n.Members != nil && n.Message == nil:
			ids := make([]string, len(n.Members))
			for i, m := range n.Members {
				ids[i] = strconv.FormatUint(m, 10)
			}
			seedText = head + "memb_list: [" + strings.Join(ids, ",") + "]}"
		case n.Members == nil && n.Message != nil:
			seedText = head + `message:"` + *n.Message + `"}`
		default:
			return e
		}
	}
	l, err := check.ParseLine(seedText)
	if err != nil {
		return e
	}
	e.line, e.parsed = l, true
	return e
}

// looksLikeNote reports whether e was meant as a log line: JSON with a
// peer_id, or text starting like a seed line. Such a line that did not
// parse is a garbled note.
func (e entry) looksLikeNote() bool {
	t := strings.TrimSpace(e.text)
	return strings.Contains(t, `"peer_id"`) || strings.HasPrefix(t, "{peer_id")
}

// cluster is the peer processes of one test, on its network.
type cluster struct {
	t     testing.TB
	nw    *network
	bin   string
	hosts string
	args  []string // flags every peer gets besides -h, -id and -log
	procs map[int]*peerProc
}

// startCluster writes the hosts file and starts peers 1..n of nw at once,
// each in its namespace with args. They are killed when the test ends.
func startCluster(t testing.TB, nw *network, bin string, args ...string) *cluster {
	t.Helper()
	c := &cluster{t: t, nw: nw, bin: bin, args: args, procs: map[int]*peerProc{}}
	var b strings.Builder
	for id := 1; id <= nw.peers; id++ {
		fmt.Fprintln(&b, peerAddr(id))
	}
	// Beside the binary rather than in t.TempDir: an interrupted run
	// removes that directory, and never runs t.Cleanup.
	c.hosts = filepath.Join(binDir, nw.prefix+"hosts")
	if err := os.WriteFile(c.hosts, []byte(b.String()), 0o600); err != nil {
		t.Fatal(errors.Wrap(err, "hosts file"))
	}
	t.Cleanup(func() { os.Remove(c.hosts) })
	t.Cleanup(c.stop)
	for id := 1; id <= nw.peers; id++ {
		if err := c.start(id); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// start starts peer id in its namespace.
func (c *cluster) start(id int) error {
	args := append([]string{"netns", "exec", c.nw.peerNS(id), c.bin,
		"-h", c.hosts, "-id", strconv.Itoa(id), "-log", "json"}, c.args...)
	p := &peerProc{id: id, done: make(chan struct{})}
	p.cmd = exec.Command("ip", args...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	// A group of its own, so that killing the group kills the peer and
	// nothing else; the parent-death signal kills it if the test process
	// dies without cleaning up.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p.cmd.WaitDelay = stopTimeout
	if err := p.cmd.Start(); err != nil {
		return errors.Wrapf(err, "starting peer %d", id)
	}
	c.procs[id] = p
	go func() {
		err := p.cmd.Wait()
		p.mu.Lock()
		p.exitErr = err
		p.mu.Unlock()
		close(p.done)
	}()
	return nil
}

// stop kills every peer still running.
func (c *cluster) stop() {
	for _, id := range c.ids() {
		if err := c.procs[id].kill(); err != nil {
			c.t.Error(err)
		}
	}
}

// ids returns the peers' ids in order.
func (c *cluster) ids() []int {
	ids := make([]int, 0, len(c.procs))
	for id := range c.procs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// entries returns what every peer printed so far, peer by peer.
func (c *cluster) entries() [][]entry {
	var all [][]entry
	for _, id := range c.ids() {
		all = append(all, c.procs[id].lines())
	}
	return all
}

// exits returns why peers exited by themselves, if any did.
func (c *cluster) exits() []string {
	var why []string
	for _, id := range c.ids() {
		if gone, how := c.procs[id].unexpectedExit(); gone {
			why = append(why, how)
		}
	}
	return why
}

// dump renders every peer's output, for a failed test.
func dump(all [][]entry, start time.Time) string {
	var b strings.Builder
	for _, lines := range all {
		if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(&b, "--- peer %d, %d lines:\n", lines[0].peer, len(lines))
		for _, e := range lines {
			fmt.Fprintf(&b, "  %8.3fs %s\n", e.at.Sub(start).Seconds(), e.text)
		}
	}
	return b.String()
}
