//go:build chaos

package chaos

import (
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pkg/errors"
)

// These tests check the harness itself, with plain sockets in the peers'
// namespaces: that each fault does what it says, and that heal undoes it.

const probePort = 7000

// listenUDP opens a UDP socket on peer id's address in its namespace.
func listenUDP(t *testing.T, nw *network, id int) *net.UDPConn {
	t.Helper()
	var conn *net.UDPConn
	err := inNamespace(nw.peerNS(id), func() error {
		var err error
		conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(peerAddr(id)), Port: probePort})
		return err
	})
	if err != nil {
		t.Fatal(errors.Wrapf(err, "UDP socket of peer %d", id))
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// udpTo is peer id's probe address.
func udpTo(id int) *net.UDPAddr {
	return &net.UDPAddr{IP: net.ParseIP(peerAddr(id)), Port: probePort}
}

// delivered sends count datagrams from one socket to peer to, and returns
// how many arrived within a second of the last.
func delivered(t *testing.T, from, to *net.UDPConn, toID, count int) int {
	t.Helper()
	for i := range count {
		if _, err := from.WriteToUDP([]byte(strconv.Itoa(i)), udpTo(toID)); err != nil {
			t.Fatal(err)
		}
		// Spaced out, so that no socket buffer overflows.
		time.Sleep(time.Millisecond)
	}
	got := 0
	buf := make([]byte, 64)
	for got < count {
		to.SetReadDeadline(time.Now().Add(time.Second))
		if _, _, err := to.ReadFromUDP(buf); err != nil {
			break
		}
		got++
	}
	return got
}

func TestHarness_CutsSplitsAndHeal(t *testing.T) {
	requireNetwork(t)
	nw := newNetwork(t, 3)
	s1, s2, s3 := listenUDP(t, nw, 1), listenUDP(t, nw, 2), listenUDP(t, nw, 3)
	if got := delivered(t, s1, s2, 2, 20); got != 20 {
		t.Fatalf("before any fault, 1->2 delivered %d of 20", got)
	}

	if err := nw.cut(1, 2); err != nil {
		t.Fatal(err)
	}
	if got := delivered(t, s1, s2, 2, 20); got != 0 {
		t.Errorf("cut 1->2: 1->2 delivered %d of 20, want none", got)
	}
	if got := delivered(t, s2, s1, 1, 20); got != 20 {
		t.Errorf("cut 1->2: 2->1 delivered %d of 20, want all", got)
	}
	if err := nw.heal(); err != nil {
		t.Fatal(err)
	}
	if got := delivered(t, s1, s2, 2, 20); got != 20 {
		t.Errorf("healed: 1->2 delivered %d of 20, want all", got)
	}

	if err := nw.split([]int{1}, []int{2, 3}); err != nil {
		t.Fatal(err)
	}
	for _, link := range []struct {
		from, to *net.UDPConn
		toID     int
		want     int
		name     string
	}{{s1, s2, 2, 0, "1->2"}, {s3, s1, 1, 0, "3->1"}, {s2, s3, 3, 20, "2->3"}, {s3, s2, 2, 20, "3->2"}} {
		if got := delivered(t, link.from, link.to, link.toID, 20); got != link.want {
			t.Errorf("split [1] | [2,3]: %s delivered %d of 20, want %d", link.name, got, link.want)
		}
	}
	if err := nw.heal(); err != nil {
		t.Fatal(err)
	}
	if got := delivered(t, s3, s1, 1, 20); got != 20 {
		t.Errorf("healed: 3->1 delivered %d of 20, want all", got)
	}
}

func TestHarness_LossDropsAFraction(t *testing.T) {
	requireNetwork(t)
	nw := newNetwork(t, 2)
	s1, s2 := listenUDP(t, nw, 1), listenUDP(t, nw, 2)
	if err := nw.loseEverywhere(0.5); err != nil {
		t.Fatal(err)
	}
	// 400 datagrams at 50%: 200 expected, with a standard deviation of
	// 10; outside 120..280 is an eight-sigma event.
	if got := delivered(t, s1, s2, 2, 400); got < 120 || got > 280 {
		t.Errorf("50%% loss: delivered %d of 400, want about 200", got)
	}
	if err := nw.heal(); err != nil {
		t.Fatal(err)
	}
	if err := nw.loseOnLink(2, 1); err != nil {
		t.Fatal(err)
	}
	if got := delivered(t, s2, s1, 1, 20); got != 0 {
		t.Errorf("all lost on 2's link: 2->1 delivered %d of 20, want none", got)
	}
}

// roundTrip sends a datagram from a to peer bID, whose socket b echoes it,
// and returns the time until the echo is back.
func roundTrip(t *testing.T, a, b *net.UDPConn, aID, bID int) time.Duration {
	t.Helper()
	sent := time.Now()
	if _, err := a.WriteToUDP([]byte("ping"), udpTo(bID)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	b.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := b.ReadFromUDP(buf); err != nil {
		t.Fatal(errors.Wrap(err, "echo side"))
	}
	if _, err := b.WriteToUDP([]byte("pong"), udpTo(aID)); err != nil {
		t.Fatal(err)
	}
	a.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := a.ReadFromUDP(buf); err != nil {
		t.Fatal(errors.Wrap(err, "asking side"))
	}
	return time.Since(sent)
}

func TestHarness_DelayHoldsEveryFrame(t *testing.T) {
	requireNetwork(t)
	nw := newNetwork(t, 2)
	s1, s2 := listenUDP(t, nw, 1), listenUDP(t, nw, 2)
	const hold = 150 * time.Millisecond
	if err := nw.delay(1, hold); err != nil {
		t.Fatal(err)
	}
	// The first round trip also waits for ARP, itself delayed.
	roundTrip(t, s1, s2, 1, 2)
	var rtts []time.Duration
	for range 5 {
		rtts = append(rtts, roundTrip(t, s1, s2, 1, 2))
	}
	// Both ways cross peer 1's link: at least twice the hold. Only the
	// lower bound is checked; the upper depends on the machine.
	if m := slices.Min(rtts); m < 2*hold {
		t.Errorf("round trips through a %v delayer: %v, want each at least %v", hold, rtts, 2*hold)
	}
	t.Logf("round trips through a %v delayer: %v", hold, rtts)

	// A bulk TCP transfer goes through too: large writes leave the
	// peer's stack as offloaded super-frames with checksums left to do.
	payload := make([]byte, 4<<20)
	rand.Read(payload)
	var ln net.Listener
	if err := inNamespace(nw.peerNS(2), func() error {
		var err error
		ln, err = net.Listen("tcp4", peerAddr(2)+":7001")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	received := make(chan []byte, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			received <- nil
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		data, _ := io.ReadAll(conn)
		received <- data
	}()
	var conn net.Conn
	if err := inNamespace(nw.peerNS(1), func() error {
		var err error
		conn, err = net.DialTimeout("tcp4", peerAddr(2)+":7001", 10*time.Second)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Write(payload); err != nil {
		t.Fatal(errors.Wrap(err, "bulk write through the delayer"))
	}
	conn.Close()
	if got := <-received; !bytes.Equal(got, payload) {
		t.Errorf("bulk TCP through the delayer: received %d bytes of %d, or different ones", len(got), len(payload))
	}

	if err := nw.heal(); err != nil {
		t.Fatal(err)
	}
	out, err := runCommand("", "ip", "-n", nw.switchNS(), "-o", "link", "show")
	if err != nil {
		t.Fatal(err)
	}
	relay, _ := relayNames(1)
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.Contains(line, " "+switchPort(1)+"@") && !strings.Contains(line, "master "+bridgeName):
			t.Errorf("healed: peer 1's port is not on the bridge: %s", line)
		case strings.Contains(line, " "+relay+"@"):
			t.Errorf("healed: the delayer's link is still there: %s", line)
		}
	}
	roundTrip(t, s1, s2, 1, 2)
}
