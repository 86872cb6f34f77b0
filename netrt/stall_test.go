package netrt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestStalledTCP_Rule(t *testing.T) {
	const bound = time.Second
	cases := []struct {
		name       string
		p          tcpProgress
		pendingFor time.Duration
		want       bool
	}{
		{"all acknowledged", tcpProgress{unacked: 0, sinceAck: time.Minute}, time.Minute, false},
		{"unacknowledged, silent past the bound", tcpProgress{unacked: 3, sinceAck: 5 * time.Second, retransmits: 4, backoff: 4}, 5 * time.Second, true},
		{"unacknowledged, silent exactly the bound", tcpProgress{unacked: 1, sinceAck: bound}, bound, true},
		{"unacknowledged, silent just below the bound", tcpProgress{unacked: 1, sinceAck: bound - time.Millisecond}, time.Minute, false},
		// An idle connection has heard no ACK for long: data written
		// a moment ago has not waited for one.
		{"idle connection, data just written", tcpProgress{unacked: 1, sinceAck: time.Hour}, 10 * time.Millisecond, false},
		// ACKs keep coming (part of the data, or window probes) while
		// some stays unacknowledged: progress, however slow.
		{"acknowledgements still arriving", tcpProgress{unacked: 8, sinceAck: 20 * time.Millisecond}, time.Minute, false},
	}
	want, got := map[string]bool{}, map[string]bool{}
	for _, c := range cases {
		want[c.name] = c.want
		got[c.name] = stalledTCP(c.p, c.pendingFor, bound)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stalled by case (-want +got):\n%s", diff)
	}
}

func TestStalledWrite_Rule(t *testing.T) {
	const bound = time.Second
	got := map[time.Duration]bool{}
	for _, d := range []time.Duration{0, bound - 1, bound, time.Hour} {
		got[d] = stalledWrite(d, bound)
	}
	want := map[time.Duration]bool{0: false, bound - 1: false, bound: true, time.Hour: true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stalled by time writing (-want +got):\n%s", diff)
	}
}

func TestStallBounds_FromSuspectAfter(t *testing.T) {
	type bounds struct{ StallAfter, Check, UserTimeout time.Duration }
	got := map[time.Duration]bounds{}
	for _, suspectAfter := range []time.Duration{2200 * time.Millisecond, 300 * time.Millisecond, 10 * time.Second} {
		stallAfter := stallAfterFor(suspectAfter)
		got[suspectAfter] = bounds{stallAfter, stallCheckFor(stallAfter), userTimeoutFor(stallAfter)}
	}
	want := map[time.Duration]bounds{
		// The default: half of SuspectAfter, checked twice as often,
		// aborted by the kernel at SuspectAfter.
		2200 * time.Millisecond: {1100 * time.Millisecond, 550 * time.Millisecond, 2200 * time.Millisecond},
		// Below the floor a healthy connection could be taken for
		// stalled: the floor holds.
		300 * time.Millisecond: {minStallAfter, minStallAfter / 2, 2 * minStallAfter},
		10 * time.Second:       {5 * time.Second, 2500 * time.Millisecond, 10 * time.Second},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("bounds by SuspectAfter (-want +got):\n%s", diff)
	}
}

// TestLink_HeardUpgradesBackoffRedial: a connection closed as stalled
// while the peer was silent is redialled at once when the peer is heard
// before the link got to it.
func TestLink_HeardUpgradesBackoffRedial(t *testing.T) {
	r := listenOnly(t, nil)
	l := r.link(2)
	l.mu.Lock()
	l.replace = redialBackoff
	l.mu.Unlock()
	l.heard()
	l.mu.Lock()
	got := l.replace
	l.mu.Unlock()
	if got != redialNow {
		t.Errorf("replacement after hearing the peer = %d, want redialNow (%d)", got, redialNow)
	}
	select {
	case <-l.wake:
	default:
		t.Error("the link's goroutine was not woken to redial")
	}
}

// frameSink accepts connections and records the sequence number (the
// first 8 bytes) of every frame it reads, by connection in accept order.
type frameSink struct {
	ln net.Listener

	mu    sync.Mutex
	conns [][]uint64
}

func newFrameSink(t *testing.T, addr string) *frameSink {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return frameSinkOn(t, ln)
}

// frameSinkOn is a frameSink accepting from ln, which its cleanup closes.
func frameSinkOn(t *testing.T, ln net.Listener) *frameSink {
	s := &frameSink{ln: ln}
	var wg sync.WaitGroup
	var open sync.Map
	t.Cleanup(func() {
		ln.Close()
		open.Range(func(c, _ any) bool { c.(net.Conn).Close(); return true })
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			open.Store(c, true)
			s.mu.Lock()
			i := len(s.conns)
			s.conns = append(s.conns, nil)
			s.mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				frames := newFrameReader(c)
				for {
					p, err := frames.next()
					if err != nil || len(p) < 8 {
						return
					}
					s.mu.Lock()
					s.conns[i] = append(s.conns[i], binary.BigEndian.Uint64(p))
					s.mu.Unlock()
				}
			})
		}
	})
	return s
}

// received returns the sequence numbers read, by connection.
func (s *frameSink) received() [][]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([][]uint64, len(s.conns))
	for i, c := range s.conns {
		out[i] = slices.Clone(c)
	}
	return out
}

// seqFrame is a frame of size bytes whose payload starts with seq.
func seqFrame(seq uint64, size int) []byte {
	payload := make([]byte, size)
	binary.BigEndian.PutUint64(payload, seq)
	return appendFrame(nil, payload)
}

// blackHoleProxy forwards connections to a target until it swallows them:
// from then on it neither reads what they bring nor forwards it, so the
// kernel's buffers fill and the sender's writes block, as behind a
// network that drops everything. Connections accepted after restore are
// forwarded again; those it swallowed stay swallowed, as a connection
// deep in retransmission backoff stays silent long after the network
// healed.
type blackHoleProxy struct {
	ln     net.Listener
	target string
	done   chan struct{} // closed by the test's cleanup

	mu         sync.Mutex
	swallowing bool
	swallowed  []*proxied // connections that swallow from now on
}

// proxied is one connection the proxy carries.
type proxied struct {
	mu         sync.Mutex
	swallowing bool
}

func newBlackHoleProxy(t *testing.T, addr, target string) *blackHoleProxy {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p := &blackHoleProxy{ln: ln, target: target, done: make(chan struct{})}
	var wg sync.WaitGroup
	var open sync.Map
	t.Cleanup(func() {
		close(p.done)
		ln.Close()
		open.Range(func(c, _ any) bool { c.(net.Conn).Close(); return true })
		wg.Wait()
	})
	wg.Go(func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			open.Store(in, true)
			open.Store(out, true)
			pc := &proxied{}
			p.mu.Lock()
			pc.swallowing = p.swallowing
			p.swallowed = append(p.swallowed, pc)
			p.mu.Unlock()
			wg.Go(func() { p.pump(pc, in, out) })
		}
	})
	return p
}

// pump copies in to out until pc swallows; then it reads no more and
// waits for the test to end.
func (p *blackHoleProxy) pump(pc *proxied, in, out net.Conn) {
	defer in.Close()
	defer out.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := in.Read(buf)
		pc.mu.Lock()
		swallowing := pc.swallowing
		pc.mu.Unlock()
		if swallowing {
			<-p.done
			return
		}
		if n > 0 {
			if _, werr := out.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// swallow makes every connection open now, and every one accepted until
// restore, swallow what it is sent.
func (p *blackHoleProxy) swallow() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.swallowing = true
	for _, pc := range p.swallowed {
		pc.mu.Lock()
		pc.swallowing = true
		pc.mu.Unlock()
	}
}

// restore forwards the connections accepted from now on.
func (p *blackHoleProxy) restore() {
	p.mu.Lock()
	p.swallowing = false
	p.mu.Unlock()
}

// linkRuntime binds peer 1 of a universe of two on loopback whose peer 2
// is reached at peer2TCP, and readies it to run links without running its
// event loop: the test stands in for the loop. The cleanup ends the
// links' goroutines.
func linkRuntime(t *testing.T, peer2TCP string, tweak func(*Options)) *runtime {
	t.Helper()
	p := freePort(t, 1)
	// Nothing listens at peer 2's UDP port: the tests send no datagram.
	hosts, err := ParseHosts([]byte(fmt.Sprintf("127.0.0.1:%d:%d\n%s:%d\n", p, p, peer2TCP, p)), "test-hosts", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{ID: 1, Hosts: hosts, Config: testConfig()}
	if tweak != nil {
		tweak(&opts)
	}
	rt, err := Listen(opts)
	if err != nil {
		t.Fatal(err)
	}
	r := rt.impl
	ctx, cancel := context.WithCancel(context.Background())
	r.ctx = ctx
	t.Cleanup(func() {
		cancel()
		r.tcpLn.Close()
		r.udpConn.Close()
		r.wg.Wait()
	})
	return r
}

// blackHoleFrameSize and blackHoleFrames: what the link is given while
// the proxy swallows, more than the kernel buffers of a loopback
// connection hold (Linux grows a send buffer to 4 MiB by default), so
// that a write blocks and frames stay queued.
const (
	blackHoleFrameSize = 512 << 10
	blackHoleFrames    = 24
)

// linkState describes l, for a failing test's log.
func linkState(l *link) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := fmt.Sprintf("down=%v writing=%v queued=%d replace=%d", l.down, l.writing, l.queue.len(), l.replace)
	if s := l.conn; s != nil {
		p, err := s.progress()
		st += fmt.Sprintf(" pending_since=%v write_since=%v progress=%+v err=%v", s.pendingSince, s.writeSince, p, err)
	}
	return st
}

// logOnFailure has a failing test log l's state and, when logs is not
// nil, what the runtime logged.
func logOnFailure(t *testing.T, l *link, logs *lockedBuffer) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		t.Logf("link: %s", linkState(l))
		if logs != nil {
			t.Logf("log:\n%s", logs.String())
		}
	})
}

// noKernelAbort: tests of the link's own stall check set no
// TCP_USER_TIMEOUT (the runtime's userTimeout 0). Otherwise the kernel
// aborts the connection one stall bound after the link could first find it
// stalled, and on a machine busy enough to hold the test's goroutine up
// that long, the abort comes first: the link then redials as after any
// broken connection, and the check the test is about never runs.

// queueFrames queues frames first..last for the link, of
// blackHoleFrameSize bytes each, and wakes it. It bypasses enqueue, whose
// stall check would otherwise race the test's own: the test decides when
// the link looks.
func queueFrames(l *link, first, last uint64) {
	l.mu.Lock()
	for seq := first; seq <= last; seq++ {
		l.queue.push(seqFrame(seq, blackHoleFrameSize))
	}
	l.mu.Unlock()
	l.poke()
}

// TestLink_RecoversFromBlackHole: a connection whose peer takes nothing
// any more is found stalled when the peer is heard from again, and
// replaced at once; the frames still queued go out on the new
// connection, in order, starting with the one whose write was cut.
func TestLink_RecoversFromBlackHole(t *testing.T) {
	sink := newFrameSink(t, "127.0.0.3:0")
	proxy := newBlackHoleProxy(t, "127.0.0.2:0", sink.ln.Addr().String())
	var logs lockedBuffer
	r := linkRuntime(t, proxy.ln.Addr().String(), func(o *Options) {
		o.WriteTimeout = time.Hour // only the stall rule may cut a write
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	r.userTimeout = 0 // see noKernelAbort
	l := r.link(2)

	l.enqueue(seqFrame(0, 64))
	waitFor(t, "frame 0 at the sink", func() bool { return len(sink.received()) == 1 && len(sink.received()[0]) == 1 })

	proxy.swallow()
	last := uint64(blackHoleFrames)
	queueFrames(l, 1, last)
	proxy.restore()
	// Heard from, as the event loop tells the link for every message:
	// nothing else ends the blocked write.
	logOnFailure(t, l, &logs)
	waitFor(t, "a stall redial after hearing the peer", func() bool {
		l.heard()
		return r.met.stallRedials.Load() > 0
	})
	waitFor(t, "the last frame on a new connection", func() bool {
		got := sink.received()
		return len(got) == 2 && slices.Contains(got[1], last)
	})

	got := sink.received()
	if diff := cmp.Diff([]uint64{0}, got[0]); diff != "" {
		t.Errorf("frames on the first connection (-want +got):\n%s", diff)
	}
	// What the first connection's kernel buffers held is lost; the rest
	// follows in order, from the frame whose write was cut.
	first := got[1][0]
	if first == 0 {
		t.Fatalf("the new connection carried frame 0 again: %v", got[1])
	}
	var want []uint64
	for seq := first; seq <= last; seq++ {
		want = append(want, seq)
	}
	if diff := cmp.Diff(want, got[1]); diff != "" {
		t.Errorf("frames on the new connection (-want +got):\n%s", diff)
	}
	if got := r.met.stallRedials.Load(); got != 1 {
		t.Errorf("stall redials = %d, want 1", got)
	}
	if !strings.Contains(logs.String(), `msg="stream stalled: redialling" peer=1 to=2 heard=true`) {
		t.Errorf("no debug line for the stall redial naming peer 2; log:\n%s", logs.String())
	}
}

// TestLink_StallCheckWithoutHearing: the event loop's periodic check
// replaces a stalled connection even while the peer stays silent, and the
// link redials after its usual backoff.
func TestLink_StallCheckWithoutHearing(t *testing.T) {
	sink := newFrameSink(t, "127.0.0.3:0")
	proxy := newBlackHoleProxy(t, "127.0.0.2:0", sink.ln.Addr().String())
	var logs lockedBuffer
	r := linkRuntime(t, proxy.ln.Addr().String(), func(o *Options) {
		o.WriteTimeout = time.Hour
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	r.userTimeout = 0 // see noKernelAbort
	l := r.link(2)
	logOnFailure(t, l, &logs)

	l.enqueue(seqFrame(0, 64))
	waitFor(t, "frame 0 at the sink", func() bool { return len(sink.received()) == 1 && len(sink.received()[0]) == 1 })
	proxy.swallow()
	last := uint64(blackHoleFrames)
	queueFrames(l, 1, last)
	proxy.restore()
	waitFor(t, "a stall redial from the periodic check", func() bool {
		r.checkStalls() // what the event loop does every stallCheck
		return r.met.stallRedials.Load() > 0
	})
	waitFor(t, "the last frame on a new connection", func() bool {
		got := sink.received()
		return len(got) == 2 && slices.Contains(got[1], last)
	})
	if got := r.met.reconnects.Load(); got != 1 {
		t.Errorf("reconnects = %d, want 1", got)
	}
}

// TestLink_StalledConnClosedOnceOnly: a stall check closes a connection
// once; checks until the link took note find nothing more to do.
func TestLink_StalledConnClosedOnceOnly(t *testing.T) {
	r := listenOnly(t, nil)
	l := r.link(2)
	client, server := net.Pipe()
	defer server.Close()
	s := newStream(client)
	s.writeSince = time.Now().Add(-time.Hour) // a write blocked for an hour
	l.use(s)
	if !l.checkStall(time.Now(), false) {
		t.Fatal("a write blocked for an hour was not found stalled")
	}
	if l.checkStall(time.Now(), true) {
		t.Error("a connection already closed as stalled was closed again")
	}
	if _, err := client.Write([]byte{1}); !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("write on the stalled connection = %v, want it closed", err)
	}
	got, how := l.current()
	if got != nil || how != redialBackoff {
		t.Errorf("current() = %v, %d; want nil, redialBackoff (%d)", got, how, redialBackoff)
	}
}
