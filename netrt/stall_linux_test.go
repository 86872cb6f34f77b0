//go:build linux && !386

package netrt

import (
	"log/slog"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dialledStream has peer 1's link to a sink dial and deliver one frame,
// and returns the link's connection.
func dialledStream(t *testing.T, r *runtime, sink *frameSink) *stream {
	t.Helper()
	l := r.link(2)
	l.enqueue(seqFrame(0, 64))
	waitFor(t, "frame 0 at the sink", func() bool { return len(sink.received()) == 1 && len(sink.received()[0]) == 1 })
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conn
}

func TestLink_SetsUserTimeout(t *testing.T) {
	sink := newFrameSink(t, "127.0.0.2:0")
	r := linkRuntime(t, sink.ln.Addr().String(), nil)
	s := dialledStream(t, r, sink)
	var got int
	var serr error
	if err := s.raw.Control(func(fd uintptr) {
		got, serr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpUserTimeout)
	}); err != nil || serr != nil {
		t.Fatalf("read TCP_USER_TIMEOUT: %v, %v", err, serr)
	}
	if want := int(r.userTimeout.Milliseconds()); got != want {
		t.Errorf("TCP_USER_TIMEOUT = %d ms, want %d", got, want)
	}
}

// TestReadTCPInfo_AcknowledgedData: the kernel's answer is read where the
// struct has it: once the sink acknowledged the frame, nothing is
// unacknowledged, and the retransmission timeout is Linux's, at least
// 200 ms.
func TestReadTCPInfo_AcknowledgedData(t *testing.T) {
	sink := newFrameSink(t, "127.0.0.2:0")
	r := linkRuntime(t, sink.ln.Addr().String(), nil)
	s := dialledStream(t, r, sink)
	var p tcpProgress
	waitFor(t, "every segment acknowledged", func() bool {
		var err error
		if p, err = readTCPInfo(s.raw); err != nil {
			t.Fatal(err)
		}
		return p.unacked == 0
	})
	if p.rto < 200*time.Millisecond || p.rto > time.Minute {
		t.Errorf("retransmission timeout %v, want Linux's, from 200 ms up", p.rto)
	}
}

// TestLink_RecoversFromDroppedSegments drops, with iptables, every
// segment of the link's connection on its way in, as a partition does:
// the kernel then holds the frame unacknowledged, and the link, told the
// peer was heard from (heartbeats travel apart), finds the connection
// stalled by what the kernel says of it and dials again. Once the drop
// ends, the frame queued meanwhile arrives on the new connection.
func TestLink_RecoversFromDroppedSegments(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to drop segments with iptables; TestLink_RecoversFromBlackHole covers the link without")
	}
	iptables, err := exec.LookPath("iptables")
	if err != nil {
		t.Skipf("needs iptables: %v", err)
	}
	sink := newFrameSink(t, "127.0.0.2:0")
	var logs lockedBuffer
	r := linkRuntime(t, sink.ln.Addr().String(), func(o *Options) {
		o.WriteTimeout = time.Hour
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	r.userTimeout = 0 // see noKernelAbort
	dialledStream(t, r, sink)
	l := r.link(2)
	logOnFailure(t, l, &logs)

	port := strconv.Itoa(sink.ln.Addr().(*net.TCPAddr).Port)
	rule := []string{"INPUT", "-p", "tcp", "-s", "127.0.0.1", "-d", "127.0.0.2", "--dport", port, "-j", "DROP"}
	if out, err := exec.Command(iptables, append([]string{"-w", "-I"}, rule...)...).CombinedOutput(); err != nil {
		t.Skipf("cannot add an iptables rule: %v: %s", err, out)
	}
	dropping := true
	heal := func() {
		if !dropping {
			return
		}
		dropping = false
		if out, err := exec.Command(iptables, append([]string{"-w", "-D"}, rule...)...).CombinedOutput(); err != nil {
			t.Errorf("could not remove the iptables rule %v: %v: %s", rule, err, out)
		}
	}
	t.Cleanup(heal) // also when the test fails before it heals

	l.enqueue(seqFrame(1, 64)) // taken by the kernel, never acknowledged
	waitFor(t, "a stall redial after hearing the peer", func() bool {
		l.heard()
		return r.met.stallRedials.Load() > 0
	})
	// The protocol's retransmission, queued while the link redials into
	// the drop.
	l.enqueue(seqFrame(2, 64))
	heal()
	waitFor(t, "frame 2 on a new connection", func() bool {
		l.heard()
		got := sink.received()
		return len(got) >= 2 && slices.Contains(got[len(got)-1], 2)
	})

	// The kernel's view made the call: data unacknowledged, no write
	// blocked.
	m := regexp.MustCompile(`msg="stream stalled: redialling" peer=1 to=2 heard=true .* writing=0s unacked=(\d+) `).FindStringSubmatch(logs.String())
	if m == nil || m[1] == "0" {
		t.Errorf("no debug line for a stall with unacknowledged data; log:\n%s", logs.String())
	}
}

// fullListener listens on 127.0.0.2 with an accept queue of one, which
// it fills with a connection nobody accepts: the kernel then drops every
// SYN to it, and a dial waits without an answer, as across a partition,
// until something accepts from it.
func fullListener(t *testing.T) net.Listener {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "full listener")
	defer f.Close()
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 2}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil { // room for one
		t.Fatal(err)
	}
	ln, err := net.FileListener(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	filler, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { filler.Close() })
	// A listening socket's tcp_info counts its accept queue in unacked:
	// the queue is full once the filler is in it.
	raw, err := ln.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the accept queue full", func() bool {
		p, err := readTCPInfo(raw)
		return err == nil && p.unacked == 1
	})
	return ln
}

// TestLink_HeardCutsStaleDial: a dial that got no answer for a while is
// cut short when the peer is heard from, and the link dials again at once
// (its SYN was most likely lost to a partition that has healed); it then
// delivers its frame.
func TestLink_HeardCutsStaleDial(t *testing.T) {
	ln := fullListener(t)
	var logs lockedBuffer
	r := linkRuntime(t, ln.Addr().String(), func(o *Options) {
		o.DialTimeout = time.Hour // only hearing the peer ends a dial
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	l := r.link(2)
	logOnFailure(t, l, &logs)
	l.enqueue(seqFrame(0, 64))
	waitFor(t, "a dial cut short", func() bool {
		l.heard()
		return strings.Contains(logs.String(), `msg="dial cut short: the peer was heard" peer=1 to=2`)
	})
	sink := frameSinkOn(t, ln) // accepts the filler: SYNs are answered again
	waitFor(t, "frame 0 at the sink", func() bool {
		l.heard()
		return slices.ContainsFunc(sink.received(), func(c []uint64) bool { return slices.Contains(c, 0) })
	})
}
