package netrt

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

// listenOnly binds peer 1 of a loopback universe of two without running
// it; the test's cleanup closes its sockets.
func listenOnly(t *testing.T, tweak func(*Options)) *runtime {
	t.Helper()
	opts := Options{ID: 1, Hosts: loopbackHosts(t, 2, freePort(t, 2)), Config: testConfig()}
	if tweak != nil {
		tweak(&opts)
	}
	rt, err := Listen(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		rt.impl.tcpLn.Close()
		rt.impl.udpConn.Close()
	})
	return rt.impl
}

// TestFlush_StopsWhenCancelled: a cancel during the flush of a stopped
// peer is a kill, and ends the flush at once rather than after a dial and
// a write.
func TestFlush_StopsWhenCancelled(t *testing.T) {
	r := listenOnly(t, func(o *Options) { o.DialTimeout = time.Hour })
	// A frame that no goroutine will ever send.
	r.link(2).queue.push([]byte{1})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.flush(ctx)
	}()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatalf("flush still running %v after its context ended", waitTimeout)
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// dropLevels returns the levels of the lines logged, by a slog
// TextHandler, for drops of reason, in order.
func dropLevels(logs string, reason dropReason) []string {
	var levels []string
	for _, line := range strings.Split(logs, "\n") {
		_, rest, ok := strings.Cut(line, " level=")
		if !ok || !strings.Contains(line, " reason="+reason.String()+" ") {
			continue
		}
		level, _, _ := strings.Cut(rest, " ")
		levels = append(levels, level)
	}
	return levels
}

// TestStep_RefusalsLoggedOncePerSender: the peer refuses messages (here
// because it has not started); the first refusal from a sender is a
// warning, the next few from that sender, whatever they hold, are debug
// lines (the drop log's limits are tested in droplog_test.go).
func TestStep_RefusalsLoggedOncePerSender(t *testing.T) {
	var logs lockedBuffer
	r := listenOnly(t, func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	r.start = time.Now()
	for _, view := range []protocol.ViewID{1, 2, 3} {
		r.receive(protocol.Message{Type: protocol.MsgHeartbeat, From: 2, To: 1, ViewID: view, Ballot: protocol.InitialBallot})
	}
	writeDropLog(r)
	if diff := cmp.Diff([]string{"WARN", "DEBUG", "DEBUG"}, dropLevels(logs.String(), dropRefused)); diff != "" {
		t.Errorf("levels of the refusal lines (-want +got):\n%s\nlog:\n%s", diff, logs.String())
	}
	if got := r.met.drops[dropRefused].Load(); got != 3 {
		t.Errorf("refused drops = %d, want 3", got)
	}
}

// TestLink_HeardPeerEndsBackoff: a link backing off after failed dials
// dials again as soon as its peer is heard from, not after the backoff.
func TestLink_HeardPeerEndsBackoff(t *testing.T) {
	r := listenOnly(t, nil)
	l := r.link(2)
	l.mu.Lock()
	l.down = true
	l.mu.Unlock()
	done := make(chan bool)
	go func() { done <- l.pause(context.Background(), time.Hour) }()
	l.heard()
	if !<-done {
		t.Fatal("pause reported an ended context")
	}
	// A link that is up takes no token: its next pause waits in full.
	l.mu.Lock()
	l.down = false
	l.mu.Unlock()
	l.heard()
	select {
	case <-l.redial:
		t.Error("a link that is up was told to redial")
	default:
	}
}
