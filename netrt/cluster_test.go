package netrt

import (
	"context"
	"errors"
	"fmt"
	goruntime "runtime"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

func TestCluster_FormsView(t *testing.T) {
	base := goruntime.NumGoroutine()
	t.Run("three peers", func(t *testing.T) {
		p := startCluster(t, 3, nil)
		waitView(t, []protocol.PeerID{1, 2, 3}, p[1], p[2], p[3])
		for _, q := range p[1:] {
			if got := q.rt.Status().Leader; got != 1 {
				t.Errorf("peer %d follows leader %d, want 1", q.id, got)
			}
		}
		// Heartbeats flow both ways once the view is up.
		waitFor(t, "heartbeats at every peer", func() bool {
			for _, q := range p[1:] {
				if q.rt.impl.met.in[protocol.MsgHeartbeat].Load() == 0 {
					return false
				}
			}
			return true
		})
	})
	// The subtest's cleanup stopped every peer: nothing may be left running.
	waitFor(t, "goroutines to settle", func() bool { return goruntime.NumGoroutine() <= base })
}

func TestCluster_Leave(t *testing.T) {
	p := startCluster(t, 3, nil)
	waitView(t, []protocol.PeerID{1, 2, 3}, p[1], p[2], p[3])
	p[3].rt.Leave()
	if err := p[3].wait(t); err != nil {
		t.Fatalf("Run after Leave = %v, want nil", err)
	}
	if !p[3].noted(protocol.NoteLeft) {
		t.Error("peer 3 noted no NoteLeft")
	}
	waitView(t, []protocol.PeerID{1, 2}, p[1], p[2])
	if got := p[3].rt.Status().Role; got != "stopped" {
		t.Errorf("peer 3 role after leaving = %q, want stopped", got)
	}
}

func TestCluster_CrashAfter(t *testing.T) {
	p := startCluster(t, 2, func(o *Options) {
		if o.ID == 2 {
			o.CrashAfter = time.Second
		}
	})
	waitView(t, []protocol.PeerID{1, 2}, p[1], p[2])
	if err := p[2].wait(t); !errors.Is(err, ErrCrashed) {
		t.Fatalf("Run of the crashing peer = %v, want ErrCrashed", err)
	}
	if !p[2].noted(protocol.NoteCrashing) {
		t.Error("peer 2 noted no NoteCrashing")
	}
	waitView(t, []protocol.PeerID{1}, p[1])
	if p[1].rt.impl.met.suspicions.Load() == 0 {
		t.Error("peer 1 never suspected the crashed peer 2")
	}
}

// TestCluster_LeaderCrashHook runs the seed's case 4 on three peers: the
// leader crashes as soon as all have joined, and the others carry on.
func TestCluster_LeaderCrashHook(t *testing.T) {
	p := startCluster(t, 3, func(o *Options) { o.LeaderCrashHook = o.ID == 1 })
	if err := p[1].wait(t); !errors.Is(err, ErrCrashed) {
		t.Fatalf("Run of the hooked leader = %v, want ErrCrashed", err)
	}
	waitView(t, []protocol.PeerID{2, 3}, p[2], p[3])
	if got := p[2].rt.Status().Leader; got != 2 {
		t.Errorf("leader after the crash = %d, want 2", got)
	}
}

func TestCluster_WrongKeyCannotJoin(t *testing.T) {
	key := make([]byte, keySize)
	other := make([]byte, keySize)
	other[0] = 1
	for _, tc := range []struct {
		name  string
		keys3 [][]byte
	}{
		{"other key", [][]byte{other}},
		{"no key", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startCluster(t, 3, func(o *Options) {
				o.Keys = [][]byte{key}
				if o.ID == 3 {
					o.Keys = tc.keys3
				}
			})
			waitView(t, []protocol.PeerID{1, 2}, p[1], p[2])
			// Peer 3 keeps asking peer 1 (and, moving on, peer 2) to
			// join: each attempt names a key peer 1 does not hold, or is
			// too short to be sealed at all, and is dropped unopened.
			waitFor(t, "peer 1 to drop several JOINs", func() bool {
				return p[1].drops(dropUnknownKey)+p[1].drops(dropBadSeal) >= 3
			})
			if st := p[3].rt.Status(); st.ViewID != 0 {
				t.Errorf("peer 3 with the wrong key installed view %d %v", st.ViewID, st.Members)
			}
			if diff := cmp.Diff([]protocol.PeerID{1, 2}, p[1].members()); diff != "" {
				t.Errorf("peer 1's view (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCluster_Broadcast runs two peers sharing 127.0.0.1 in broadcast mode,
// each one's broadcast address aimed at the other (a real broadcast cannot
// be confined to a test): heartbeats must flow and the view hold.
func TestCluster_Broadcast(t *testing.T) {
	p1, p2 := freePort(t, 1), freePort(t, 1)
	for p2 == p1 {
		p2 = freePort(t, 1)
	}
	hosts, err := ParseHosts([]byte(fmt.Sprintf("127.0.0.1:%d:%d\n127.0.0.1:%d:%d\n", p1, p1, p2, p2)), "test-hosts", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	peers := []*testPeer{nil}
	for id, to := range []int{p2, p1} {
		peers = append(peers, startPeer(t, Options{
			ID: protocol.PeerID(id + 1), Hosts: hosts, Config: testConfig(),
			Broadcast: true, BroadcastAddr: fmt.Sprintf("127.0.0.1:%d", to),
		}))
	}
	waitView(t, []protocol.PeerID{1, 2}, peers[1], peers[2])
	waitFor(t, "heartbeats at both peers", func() bool {
		return peers[1].rt.impl.met.in[protocol.MsgHeartbeat].Load() >= 5 &&
			peers[2].rt.impl.met.in[protocol.MsgHeartbeat].Load() >= 5
	})
	for _, q := range peers[1:] {
		if n := q.drops(dropIdentity); n != 0 {
			t.Errorf("peer %d dropped %d heartbeats for identity", q.id, n)
		}
	}
}

// TestCluster_RestartedPeerRejoins kills a peer and starts a new process
// in its place: the others must reconnect to it and take it back.
func TestCluster_RestartedPeerRejoins(t *testing.T) {
	p := startCluster(t, 3, nil)
	waitView(t, []protocol.PeerID{1, 2, 3}, p[1], p[2], p[3])
	opts := p[3].rt.impl.opts
	p[3].cancel()
	if err := p[3].wait(t); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel = %v, want context.Canceled", err)
	}
	waitView(t, []protocol.PeerID{1, 2}, p[1], p[2])
	opts.OnNote, opts.Incarnation = nil, 0
	p3 := startPeer(t, opts)
	waitView(t, []protocol.PeerID{1, 2, 3}, p[1], p[2], p3)
}

// TestCluster_HostNames runs peers named by host name rather than IP, so
// that dials, datagrams and identity checks go through name resolution.
func TestCluster_HostNames(t *testing.T) {
	p1, p2 := freePort(t, 1), freePort(t, 1)
	for p2 == p1 {
		p2 = freePort(t, 1)
	}
	hosts, err := ParseHosts([]byte(fmt.Sprintf("localhost:%d:%d\nlocalhost:%d:%d\n", p1, p1, p2, p2)), "test-hosts", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	a := startPeer(t, Options{ID: 1, Hosts: hosts, Config: testConfig()})
	b := startPeer(t, Options{ID: 2, Hosts: hosts, Config: testConfig()})
	waitView(t, []protocol.PeerID{1, 2}, a, b)
	waitFor(t, "heartbeats at both peers", func() bool {
		return a.rt.impl.met.in[protocol.MsgHeartbeat].Load() >= 3 && b.rt.impl.met.in[protocol.MsgHeartbeat].Load() >= 3
	})
	for _, q := range []*testPeer{a, b} {
		if n := q.drops(dropIdentity); n != 0 {
			t.Errorf("peer %d dropped %d messages for identity", q.id, n)
		}
	}
}

// TestCluster_KeyRotationWithoutViewChange rotates the keyring of a
// running cluster from [A] to [B] in the three rolling steps, with
// SetKeys while heartbeats flow: nobody is suspected, no view changes,
// nothing is dropped. Then a peer holding only A can no longer join.
func TestCluster_KeyRotationWithoutViewChange(t *testing.T) {
	a, b := testKey(0xa), testKey(0xb)
	hosts := loopbackHosts(t, 4, freePort(t, 4))
	p := []*testPeer{nil}
	for id := 1; id <= 3; id++ {
		p = append(p, startPeer(t, Options{ID: protocol.PeerID(id), Hosts: hosts, Config: testConfig(), Keys: [][]byte{a}}))
	}
	members := []protocol.PeerID{1, 2, 3}
	waitView(t, members, p[1], p[2], p[3])
	// Joined: from here on, nothing may change.
	baseline := map[protocol.PeerID]int{}
	for _, q := range p[1:] {
		baseline[q.id] = len(q.noteKinds())
	}
	heartbeats := func(q *testPeer) uint64 { return q.rt.impl.met.in[protocol.MsgHeartbeat].Load() }
	for _, ring := range [][][]byte{{a, b}, {b, a}, {b}} {
		for _, q := range p[1:] {
			if err := q.rt.SetKeys(ring); err != nil {
				t.Fatal(err)
			}
		}
		before := map[protocol.PeerID]uint64{}
		for _, q := range p[1:] {
			before[q.id] = heartbeats(q)
		}
		waitFor(t, "heartbeats under the new keyring", func() bool {
			for _, q := range p[1:] {
				if heartbeats(q) < before[q.id]+10 {
					return false
				}
			}
			return true
		})
	}
	for _, q := range p[1:] {
		for _, k := range q.noteKinds()[baseline[q.id]:] {
			if k == protocol.NoteSuspected || k == protocol.NoteViewInstalled {
				t.Errorf("peer %d noted %v during the rotation", q.id, k)
			}
		}
		for _, d := range []dropReason{dropUnknownKey, dropBadSeal, dropStaleStamp, dropFutureStamp, dropReplayed} {
			if n := q.drops(d); n != 0 {
				t.Errorf("peer %d dropped %d messages as %v during the rotation", q.id, n, d)
			}
		}
	}

	old := startPeer(t, Options{ID: 4, Hosts: hosts, Config: testConfig(), Keys: [][]byte{a}})
	waitFor(t, "peer 1 to drop JOINs sealed with the old key", func() bool { return p[1].drops(dropUnknownKey) >= 3 })
	if st := old.rt.Status(); st.ViewID != 0 {
		t.Errorf("peer 4 with the old key installed view %d %v", st.ViewID, st.Members)
	}
	if diff := cmp.Diff(members, p[1].members()); diff != "" {
		t.Errorf("peer 1's view (-want +got):\n%s", diff)
	}
}
