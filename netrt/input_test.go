package netrt

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

// dialTCPFrom connects to addr from the local IP from.
func dialTCPFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: waitTimeout}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// sendUDPFrom sends payload to addr from the local address from.
func sendUDPFrom(t *testing.T, from, addr string, payload []byte) {
	t.Helper()
	la, err := net.ResolveUDPAddr("udp", from)
	if err != nil {
		t.Fatal(err)
	}
	ra, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialUDP("udp", la, ra)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(payload); err != nil {
		t.Fatal(err)
	}
}

// waitClosed waits until the peer closes c: a read ends.
func waitClosed(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(waitTimeout))
	if _, err := io.Copy(io.Discard, c); err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("the peer did not close the connection")
		}
	}
}

func encode(t *testing.T, m protocol.Message) []byte {
	t.Helper()
	b, err := protocol.Encode(&m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInput_GarbageIsDroppedAndCounted(t *testing.T) {
	p := startCluster(t, 3, nil)
	members := []protocol.PeerID{1, 2, 3}
	waitView(t, members, p[1], p[2], p[3])
	tcp, udp := p[1].rt.TCPAddr(), p[1].rt.UDPAddr()

	// An HTTP request: its first four bytes read as a huge length.
	c := dialTCPFrom(t, "127.0.0.9", tcp)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	waitClosed(t, c)

	// A frame of garbage, then a frame cut short.
	c = dialTCPFrom(t, "127.0.0.9", tcp)
	c.Write(appendFrame(nil, []byte("hello, world")))
	waitClosed(t, c)
	c = dialTCPFrom(t, "127.0.0.9", tcp)
	c.Write(binary.BigEndian.AppendUint32(nil, 100))
	c.Write([]byte{protocol.WireVersion, byte(protocol.MsgJoin)})
	c.(*net.TCPConn).CloseWrite()
	waitClosed(t, c)

	// A valid message of an unknown type, then a frame announcing zero
	// bytes.
	c = dialTCPFrom(t, "127.0.0.9", tcp)
	c.Write(appendFrame(nil, []byte{protocol.WireVersion, 99, 1, 2}))
	waitClosed(t, c)
	c = dialTCPFrom(t, "127.0.0.9", tcp)
	c.Write([]byte{0, 0, 0, 0})
	waitClosed(t, c)

	// Datagrams: garbage, empty, too long.
	sendUDPFrom(t, "127.0.0.9:0", udp, []byte("garbage"))
	sendUDPFrom(t, "127.0.0.9:0", udp, nil)
	sendUDPFrom(t, "127.0.0.9:0", udp, make([]byte, maxDatagramSize+1))

	waitFor(t, "the drops to be counted", func() bool {
		return p[1].drops(dropMalformed) >= 6 && p[1].drops(dropOversized) >= 2
	})
	for _, q := range p[1:] {
		if q.exited() {
			t.Fatalf("peer %d stopped: %v", q.id, q.err)
		}
	}
	waitView(t, members, p[1], p[2], p[3])

	var buf bytes.Buffer
	if err := p[1].rt.WriteMetrics(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf("memberly_drops_total{reason=\"malformed\"} %d\n", p[1].drops(dropMalformed)),
		fmt.Sprintf("memberly_drops_total{reason=\"oversized\"} %d\n", p[1].drops(dropOversized)),
	} {
		if !bytes.Contains(buf.Bytes(), []byte(want)) {
			t.Errorf("metrics lack %q:\n%s", want, buf.String())
		}
	}
}

func TestInput_ForgedSenderIsDropped(t *testing.T) {
	p := startCluster(t, 3, nil)
	waitView(t, []protocol.PeerID{1, 2, 3}, p[1], p[2], p[3])
	tcp, udp := p[1].rt.TCPAddr(), p[1].rt.UDPAddr()
	_, port, _ := net.SplitHostPort(udp)
	hb := encode(t, protocol.Message{Type: protocol.MsgHeartbeat, From: 2, To: 1, ViewID: 1000, Ballot: protocol.Ballot{Round: 50, Leader: 2}})

	// Heartbeats claiming to be peer 2: from peer 2's IP but another
	// port, and from peer 2's port on another IP.
	sendUDPFrom(t, "127.0.0.2:0", udp, hb)
	sendUDPFrom(t, "127.0.0.9:"+port, udp, hb)
	// A stream message claiming to be peer 2, from another IP.
	c := dialTCPFrom(t, "127.0.0.9", tcp)
	c.Write(appendFrame(nil, encode(t, protocol.Message{Type: protocol.MsgLeave, From: 2, To: 1})))
	// One from an id outside the hosts file, one for another peer.
	c.Write(appendFrame(nil, encode(t, protocol.Message{Type: protocol.MsgLeave, From: 9, To: 1})))
	c.Write(appendFrame(nil, encode(t, protocol.Message{Type: protocol.MsgLeave, From: 3, To: 2})))

	waitFor(t, "the drops to be counted", func() bool {
		return p[1].drops(dropIdentity) >= 3 && p[1].drops(dropUnknownSender) >= 1 && p[1].drops(dropMisaddressed) >= 1
	})
	// None of it reached the peer: no view change, and the ballot the
	// forged heartbeat carried was never seen.
	waitView(t, []protocol.PeerID{1, 2, 3}, p[1], p[2], p[3])
	if got := p[1].rt.Status().Promise; got != protocol.InitialBallot {
		t.Errorf("peer 1's promise = %v, want %v", got, protocol.InitialBallot)
	}
}

// TestInput_BroadcastIgnoresOthersHeartbeats checks that a peer in
// broadcast mode drops heartbeats addressed to other peers silently.
func TestInput_BroadcastIgnoresOthersHeartbeats(t *testing.T) {
	port := freePort(t, 1)
	hosts, err := ParseHosts([]byte(fmt.Sprintf("127.0.0.1:%d:%d\n127.0.0.1:%d:%d\n127.0.0.1:%d:%d\n",
		port, port, port+1, port+1, port+2, port+2)), "test-hosts", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	p := startPeer(t, Options{ID: 1, Hosts: hosts, Config: testConfig(), Broadcast: true, BroadcastAddr: "127.0.0.1:9"})
	udp := fmt.Sprintf("127.0.0.1:%d", port)
	sendUDPFrom(t, fmt.Sprintf("127.0.0.1:%d", port+1), udp,
		encode(t, protocol.Message{Type: protocol.MsgHeartbeat, From: 2, To: 3, ViewID: 1, Ballot: protocol.InitialBallot}))
	// The reader takes datagrams in order: once this one is counted, the
	// one before was handled.
	sendUDPFrom(t, "127.0.0.9:0", udp, []byte("garbage"))
	waitFor(t, "the marker datagram to be dropped", func() bool { return p.drops(dropMalformed) >= 1 })
	if diff := cmp.Diff(uint64(0), p.drops(dropMisaddressed)); diff != "" {
		t.Errorf("misaddressed drops (-want +got):\n%s", diff)
	}
}

// TestInput_DatagramDropsLoggedOncePerHost: junk from one host is one
// warning, whatever source ports it comes from.
func TestInput_DatagramDropsLoggedOncePerHost(t *testing.T) {
	var logs lockedBuffer
	hosts := loopbackHosts(t, 1, freePort(t, 1))
	p := startPeer(t, Options{ID: 1, Hosts: hosts, Config: testConfig(),
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	for range 3 {
		sendUDPFrom(t, "127.0.0.9:0", p.rt.UDPAddr(), []byte("garbage"))
	}
	// The drop is counted before it is logged: wait for the lines.
	waitFor(t, "the junk to be dropped and logged", func() bool {
		return p.drops(dropMalformed) >= 3 && len(dropLevels(logs.String(), dropMalformed)) >= 3
	})
	if diff := cmp.Diff([]string{"WARN", "DEBUG", "DEBUG"}, dropLevels(logs.String(), dropMalformed)); diff != "" {
		t.Errorf("levels of the drop lines (-want +got):\n%s\nlog:\n%s", diff, logs.String())
	}
}

// keyedReceiver binds, without running it, peer 1 of a loopback universe
// of two with keys, its wall clock reading *clock. src is peer 2's UDP
// address, where its heartbeats come from.
func keyedReceiver(t *testing.T, clock *time.Time, keys ...[]byte) (r *runtime, src netip.AddrPort) {
	t.Helper()
	r = listenOnly(t, func(o *Options) { o.Keys = keys })
	r.fresh.now = func() time.Time { return *clock }
	a := r.addrs[2]
	return r, netip.AddrPortFrom(netip.MustParseAddr(a.udpHost), a.udpPort)
}

// sealedAt seals plain with keys as a sender whose clock reads at.
func sealedAt(t *testing.T, at time.Time, plain []byte, keys ...[]byte) []byte {
	t.Helper()
	s, err := newSealer(keys)
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return at }
	return mustSeal(t, s, plain)
}

// heartbeat is an encoded heartbeat from one peer to another.
func heartbeat(t *testing.T, from, to protocol.PeerID) []byte {
	return encode(t, protocol.Message{Type: protocol.MsgHeartbeat, From: from, To: to, Ballot: protocol.InitialBallot, ViewID: 1})
}

// admitReason admits payload as a datagram from src and says why it was
// dropped, dropNone's name when it was not.
func admitReason(r *runtime, payload []byte, src netip.AddrPort) string {
	_, reason, _ := r.admit(context.Background(), payload, make([]byte, 0, maxDatagramSize), src, protocol.Datagram)
	return reason.String()
}

// accepted is what admitReason returns for a message let through.
var accepted = dropNone.String()

// A sealed message stamped above any clock reading, 2^64-1 say, is
// dropped as no clock's. The sender's next message still gets through.
func TestInput_StampAboveAnyClockIsDropped(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	r, src := keyedReceiver(t, &now, testKey(7))
	forger, err := newSealer([][]byte{testKey(7)})
	if err != nil {
		t.Fatal(err)
	}
	hb := heartbeat(t, 2, 1)
	// seal makes no such stamp: seal by hand.
	primary := forger.ring.Load().keys[0]
	header := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint32(nil, uint32(primary.id)), math.MaxUint64)
	largest := primary.aead.Seal(bytes.Clone(header), nil, hb, header)
	next := sealedAt(t, now, hb, testKey(7))

	var got []string
	for _, payload := range [][]byte{largest, next} {
		got = append(got, admitReason(r, payload, src))
	}
	if diff := cmp.Diff([]string{"bad-stamp", accepted}, got); diff != "" {
		t.Errorf("admitting a heartbeat stamped 2^64-1, then one stamped by a clock (-want +got):\n%s", diff)
	}
}

// A sealed heartbeat replayed from its sender's address is dropped and
// counted, however well it opens.
func TestInput_ReplayedSealedInputIsDropped(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	r, src := keyedReceiver(t, &now, testKey(7))
	payload := sealedAt(t, now, heartbeat(t, 2, 1), testKey(7))
	var got []string
	for range 2 {
		got = append(got, admitReason(r, payload, src))
	}
	if diff := cmp.Diff([]string{accepted, "replayed"}, got); diff != "" {
		t.Errorf("admitting one sealed heartbeat twice (-want +got):\n%s", diff)
	}
}
