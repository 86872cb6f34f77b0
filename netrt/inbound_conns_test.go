package netrt

import (
	"net"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

func TestInboundConns_UnprovenMakeRoomProvenStay(t *testing.T) {
	s := newInboundConns(2)
	conn := func() net.Conn {
		a, b := net.Pipe()
		t.Cleanup(func() { a.Close(); b.Close() })
		return a
	}
	a, b, c, d, e := conn(), conn(), conn(), conn(), conn()
	type step struct {
		Evicted, OK bool
	}
	add := func(x, wantEvicted net.Conn) step {
		ev, ok := s.add(x)
		return step{Evicted: ev != nil && ev == wantEvicted, OK: ok}
	}
	var got []step
	got = append(got, add(a, nil), add(b, nil))
	s.prove(a, 1)
	got = append(got, add(c, b)) // b, the oldest unproven, makes room
	got = append(got, add(d, c))
	s.prove(d, 2)
	got = append(got, add(e, nil)) // a and d are proven: e is refused
	s.remove(a)
	got = append(got, add(e, nil)) // a closed: room again
	want := []step{{false, true}, {false, true}, {true, true}, {true, true}, {false, false}, {false, true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := b.Write([]byte{0}); err == nil {
		t.Errorf("the displaced connection is still open")
	}
}

// TestInboundConns_NewerFromPeerSupersedes: a peer's newer proven
// connection closes its older one (left open when its end was lost to a
// partition), and only that one.
func TestInboundConns_NewerFromPeerSupersedes(t *testing.T) {
	s := newInboundConns(8)
	conn := func() net.Conn {
		a, b := net.Pipe()
		t.Cleanup(func() { a.Close(); b.Close() })
		s.add(a)
		return a
	}
	oldOf2, of3, newOf2, newestOf2 := conn(), conn(), conn(), conn()
	got := []net.Conn{s.prove(oldOf2, 2), s.prove(of3, 3), s.prove(newOf2, 2)}
	s.remove(newOf2) // closed by its peer: nothing left to supersede
	got = append(got, s.prove(newestOf2, 2))
	want := []net.Conn{nil, nil, oldOf2, nil}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b net.Conn) bool { return a == b })); diff != "" {
		t.Errorf("superseded by each proof (-want +got):\n%s", diff)
	}
	if _, err := oldOf2.Write([]byte{0}); err == nil {
		t.Error("the superseded connection is still open")
	}
	s.mu.Lock()
	_, open3 := s.proven[of3]
	s.mu.Unlock()
	if !open3 {
		t.Error("peer 3's connection was closed by peer 2's")
	}
}

// Idle connections from a stranger fill every inbound slot of the leader;
// a peer that starts afterwards must still join, and the stranger's
// connections are closed.
func TestInput_IdleConnectionsCannotLockPeersOut(t *testing.T) {
	hosts := loopbackHosts(t, 2, freePort(t, 2))
	one := startPeer(t, Options{ID: 1, Hosts: hosts, Config: testConfig()})
	waitView(t, []protocol.PeerID{1}, one)

	idle := make([]net.Conn, maxInbound(len(hosts)))
	for i := range idle {
		idle[i] = dialTCPFrom(t, "127.0.0.9", one.rt.TCPAddr())
	}
	two := startPeer(t, Options{ID: 2, Hosts: hosts, Config: testConfig()})
	waitView(t, []protocol.PeerID{1, 2}, one, two)
	waitClosed(t, idle[0])
	if one.drops(dropConnLimit) == 0 {
		t.Errorf("no conn-limit drop counted")
	}
}
