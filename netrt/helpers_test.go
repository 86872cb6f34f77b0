package netrt

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/memberly/memberly/protocol"
)

// waitTimeout is how long a test waits for a condition before failing:
// generous, as the race detector on a busy machine is slow.
const waitTimeout = 10 * time.Second

// testConfig is fast protocol timing for loopback clusters.
func testConfig() protocol.Config {
	return protocol.Config{
		HeartbeatInterval: 50 * time.Millisecond,
		SuspectAfter:      300 * time.Millisecond,
		RetryInterval:     100 * time.Millisecond,
		JoinRetryInterval: 100 * time.Millisecond,
		LeaveTimeout:      2 * time.Second,
		Rejoin:            true,
		Observers:         protocol.DefaultObservers,
		MaxChangesPerView: 1,
	}
}

// waitFor polls cond until it holds, failing the test after waitTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", waitTimeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freePort returns a port free for TCP and UDP on 127.0.0.1 to 127.0.0.n,
// below Linux's ephemeral range (32768+), so that no outgoing connection
// takes it between this check and the bind.
func freePort(t *testing.T, n int) int {
	t.Helper()
	for range 100 {
		p := 20000 + rand.N(12000)
		if portFree(p, n) {
			return p
		}
	}
	t.Fatal("no free port found")
	return 0
}

func portFree(p, n int) bool {
	var closers []func() error
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	for i := 1; i <= n; i++ {
		addr := fmt.Sprintf("127.0.0.%d:%d", i, p)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return false
		}
		closers = append(closers, ln.Close)
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		closers = append(closers, pc.Close)
	}
	return true
}

// loopbackHosts is a universe of n peers on 127.0.0.1..127.0.0.n, all on
// port p for TCP and UDP alike.
func loopbackHosts(t *testing.T, n, p int) Hosts {
	t.Helper()
	var sb strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&sb, "127.0.0.%d:%d:%d\n", i, p, p)
	}
	hosts, err := ParseHosts([]byte(sb.String()), "test-hosts", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return hosts
}

// testPeer is one Runtime of a test cluster, running.
type testPeer struct {
	id     protocol.PeerID
	rt     *Runtime
	cancel context.CancelFunc
	done   chan struct{}
	err    error // Run's result, once done is closed

	mu    sync.Mutex
	notes []protocol.Note
}

func (p *testPeer) noted(kind protocol.NoteKind) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.ContainsFunc(p.notes, func(n protocol.Note) bool { return n.Kind == kind })
}

// exited reports whether Run returned.
func (p *testPeer) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for Run to return and returns its error.
func (p *testPeer) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-p.done:
		return p.err
	case <-time.After(waitTimeout):
		t.Fatalf("peer %d: Run did not return within %v", p.id, waitTimeout)
		return nil
	}
}

// members is the peer's installed view.
func (p *testPeer) members() []protocol.PeerID { return p.rt.Status().Members }

// drops is the peer's count of drops for reason.
func (p *testPeer) drops(reason dropReason) uint64 { return p.rt.impl.met.drops[reason].Load() }

// startPeer listens and runs one peer; the test's cleanup stops it.
func startPeer(t *testing.T, opts Options) *testPeer {
	t.Helper()
	p := &testPeer{id: opts.ID, done: make(chan struct{})}
	opts.OnNote = func(n protocol.Note) {
		p.mu.Lock()
		p.notes = append(p.notes, n)
		p.mu.Unlock()
	}
	rt, err := Listen(opts)
	if err != nil {
		t.Fatalf("peer %d: %v", opts.ID, err)
	}
	p.rt = rt
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() {
		defer close(p.done)
		p.err = rt.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-p.done:
		case <-time.After(waitTimeout):
			t.Errorf("peer %d: Run did not return after cancel", p.id)
		}
	})
	return p
}

// startCluster starts peers 1..n of a loopback universe of n; tweak, when
// not nil, adjusts each peer's options.
func startCluster(t *testing.T, n int, tweak func(*Options)) []*testPeer {
	t.Helper()
	hosts := loopbackHosts(t, n, freePort(t, n))
	peers := make([]*testPeer, n+1)
	for id := 1; id <= n; id++ {
		opts := Options{ID: protocol.PeerID(id), Hosts: hosts, Config: testConfig()}
		if tweak != nil {
			tweak(&opts)
		}
		peers[id] = startPeer(t, opts)
	}
	return peers
}

// waitView waits until every listed peer has installed members.
func waitView(t *testing.T, members []protocol.PeerID, peers ...*testPeer) {
	t.Helper()
	waitFor(t, fmt.Sprintf("view %v at every peer", members), func() bool {
		for _, p := range peers {
			if !slices.Equal(p.members(), members) {
				return false
			}
		}
		return true
	})
}

// noteKinds returns the kinds of the notes the peer produced so far.
func (p *testPeer) noteKinds() []protocol.NoteKind {
	p.mu.Lock()
	defer p.mu.Unlock()
	kinds := make([]protocol.NoteKind, len(p.notes))
	for i, n := range p.notes {
		kinds[i] = n.Kind
	}
	return kinds
}
