package protocol_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

func durableConfig() protocol.Config {
	cfg := protocol.DefaultConfig()
	cfg.Durable = true
	return cfg
}

// resumeFrom starts durable peer 3 of a universe of 7 from s, and
// returns the peer and what Step said.
func resumeFrom(t *testing.T, s protocol.DurableState) (*protocol.Peer, error) {
	t.Helper()
	p, err := protocol.NewPeer(durableConfig(), 3, 7)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Step(protocol.Event{Type: protocol.EventStart, State: &s, Tags: sampleTags("role=other")})
	return p, err
}

// allInOneView wants every peer of ids to hold members and follow leader
// (0: any one leader, the same at every peer).
func allInOneView(t *testing.T, c *cluster, members string, ids ...protocol.PeerID) {
	t.Helper()
	want, got := map[protocol.PeerID]string{}, map[protocol.PeerID]string{}
	for _, id := range ids {
		n := c.nodes[id]
		if !n.alive {
			got[id] = "down"
		} else {
			got[id] = n.peer.View().String()
		}
		want[id] = members
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("views (-want +got):\n%s\nlog:\n%s", diff, c.dump())
	}
}

// A majority of a durable view that is killed and restarted comes back
// as the same members: same incarnations, same view, and the cluster goes
// on, where crash-stop peers would wait forever for a quorum of the old
// view.
func TestDurable_MajorityKilledAndResumed(t *testing.T) {
	c := newCluster(t, 5, durableConfig())
	seedJoin(c)
	c.runUntil(sec(12))
	allInOneView(t, c, "5[1,2,3,4,5]", 1, 2, 3, 4, 5)
	before := map[protocol.PeerID]uint64{}
	for _, id := range []protocol.PeerID{1, 2, 3} {
		before[id] = c.nodes[id].disk.Incarnation
		c.kill(id, sec(12))
		c.resume(id, sec(20))
	}
	c.runUntil(sec(40))
	allInOneView(t, c, "5[1,2,3,4,5]", 1, 2, 3, 4, 5)
	after := map[protocol.PeerID]uint64{}
	for id := range before {
		after[id] = c.nodes[id].peer.Status().Incarnation
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("incarnations after the restart (-before +after):\n%s", diff)
	}
	for id := protocol.PeerID(1); id <= 5; id++ {
		if views := c.nodes[id].views; len(views) > 0 && views[len(views)-1].ID != 5 {
			t.Errorf("peer %d installed %v", id, views)
		}
	}
}

// A view of two that loses its leader is stuck (no quorum of two without
// it); the leader, restarted from its state, leads again, and the view
// takes in a third peer.
func TestDurable_ViewOfTwoLeaderResumes(t *testing.T) {
	c := newCluster(t, 3, durableConfig())
	c.start(1, 0)
	c.start(2, sec(1))
	c.runUntil(sec(4))
	allInOneView(t, c, "2[1,2]", 1, 2)
	c.kill(1, sec(4))
	c.runUntil(sec(12))
	allInOneView(t, c, "2[1,2]", 2) // stuck: 2 alone is no quorum of [1,2]
	c.resume(1, sec(12))
	c.start(3, sec(13))
	c.runUntil(sec(25))
	allInOneView(t, c, "3[1,2,3]", 1, 2, 3)
}

// A whole cluster killed and restarted from its state comes back as the
// same cluster: no view 1 again, and the views go on from where they were.
func TestDurable_WholeClusterResumes(t *testing.T) {
	c := newCluster(t, 5, durableConfig())
	seedJoin(c)
	c.runUntil(sec(12))
	for id := protocol.PeerID(1); id <= 5; id++ {
		c.kill(id, sec(12))
		c.resume(id, sec(15)+sec(0.1*float64(id)))
	}
	c.crash(5, sec(25))
	c.runUntil(sec(40))
	allInOneView(t, c, "6[1,2,3,4]", 1, 2, 3, 4)
	for id := protocol.PeerID(1); id <= 4; id++ {
		views := c.nodes[id].views
		wantOnes := 0
		if id == 1 {
			wantOnes = 1 // founded once, never again
		}
		if countID(views, 1) != wantOnes || views[len(views)-1].ID != 6 {
			t.Errorf("peer %d installed %v: view 1 %d times, then on to view 6", id, views, wantOnes)
		}
	}
}

func countID(views []protocol.View, id protocol.ViewID) int {
	n := 0
	for _, v := range views {
		if v.ID == id {
			n++
		}
	}
	return n
}

// A durable peer stores its state before anything that depends on it
// leaves: the Node calls Save first, and a failed Save sends nothing and
// stops the node.
func TestDurable_SaveComesFirst(t *testing.T) {
	rec := &recorder{}
	n, err := protocol.NewNode(durableConfig(), 1, 1, rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(0, 7); err != nil {
		t.Fatal(err)
	}
	calls := rec.take()
	if len(calls) == 0 || calls[0] != "save view=1 promise=(0,1)" {
		t.Fatalf("first call %q, want the save of view 1", calls)
	}

	rec = &recorder{saveErr: errors.New("disk full")}
	n, err = protocol.NewNode(durableConfig(), 2, 2, rec)
	if err != nil {
		t.Fatal(err)
	}
	err = n.Start(0, 7)
	if !errors.Is(err, protocol.ErrSave) {
		t.Fatalf("start with a failing disk: %v, want ErrSave", err)
	}
	want := []string{"save view=0 promise=(0,1)", "stop"}
	if diff := cmp.Diff(want, rec.take()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if !n.Peer().Stopped() {
		t.Error("the node runs on after its state could not be stored")
	}
}

// A start from a state that cannot be this peer's is refused, and leaves
// the peer unstarted.
func TestDurable_ResumeRefusesBadState(t *testing.T) {
	good := protocol.DurableState{ID: 2, Incarnation: 9, Promise: protocol.InitialBallot,
		View: protocol.View{ID: 3, Members: []protocol.PeerID{1, 2}}, Incarnations: []uint64{1, 9}, HeardAs: []uint64{0, 0}, LatestViewID: 3}
	bad := map[string]func(s *protocol.DurableState){
		"another peer's":       func(s *protocol.DurableState) { s.ID = 3 },
		"view without it":      func(s *protocol.DurableState) { s.View.Members = []protocol.PeerID{1, 3} },
		"members unsorted":     func(s *protocol.DurableState) { s.View.Members = []protocol.PeerID{2, 1} },
		"outside the universe": func(s *protocol.DurableState) { s.View.Members = []protocol.PeerID{2, 9} },
		"incarnations short":   func(s *protocol.DurableState) { s.Incarnations = s.Incarnations[:1] },
		"latest below view":    func(s *protocol.DurableState) { s.LatestViewID = 2 },
		"pending elsewhere":    func(s *protocol.DurableState) { s.HasPending, s.PendingViewID = true, 2 },
		"round below promise":  func(s *protocol.DurableState) { s.Promise = protocol.Ballot{Round: 4, Leader: 1} },
	}
	for name, breakIt := range bad {
		t.Run(name, func(t *testing.T) {
			s := good
			s.View.Members = append([]protocol.PeerID(nil), good.View.Members...)
			s.Incarnations = append([]uint64(nil), good.Incarnations...)
			breakIt(&s)
			rec := &recorder{}
			n, err := protocol.NewNode(durableConfig(), 2, 3, rec)
			if err != nil {
				t.Fatal(err)
			}
			if err := n.Resume(0, s); !errors.Is(err, protocol.ErrBadState) {
				t.Fatalf("resume: %v, want ErrBadState", err)
			}
			if len(rec.calls) != 0 || n.Peer().Status().Role != "joining" || n.Peer().View().ID != 0 {
				t.Errorf("a refused resume acted: %v, status %+v", rec.calls, n.Peer().Status())
			}
		})
	}
	n, _ := protocol.NewNode(durableConfig(), 2, 3, &recorder{})
	if err := n.Resume(0, good); err != nil {
		t.Fatalf("the good state: %v", err)
	}
}

// A forced view holds the survivor and the members it hears from, lies
// ForceViewJump above every view id it knew, and is led by the survivor.
// The members that were gone, coming back with their state, are told
// they are out and join again.
func TestDurable_ForceViewAfterLostMajority(t *testing.T) {
	c := newCluster(t, 5, durableConfig())
	seedJoin(c)
	c.runUntil(sec(12))
	for _, id := range []protocol.PeerID{3, 4, 5} {
		c.kill(id, sec(12))
	}
	c.runUntil(sec(20))
	allInOneView(t, c, "5[1,2,3,4,5]", 1, 2) // no quorum: nothing changes
	c.at(sec(20), func() { c.check(2, "force", c.nodes[2].proc.ForceView(c.now)) })
	c.runUntil(sec(25))
	allInOneView(t, c, "1005[1,2]", 1, 2)
	if l := c.nodes[1].peer.Leader(); l != 2 {
		t.Errorf("peer 1 follows %d, want 2, which forced the view", l)
	}
	for _, id := range []protocol.PeerID{3, 4, 5} {
		c.resume(id, sec(25))
	}
	c.runUntil(sec(45))
	allInOneView(t, c, "1008[1,2,3,4,5]", 1, 2, 3, 4, 5)

	// Forcing needs a view.
	n, _ := protocol.NewNode(durableConfig(), 2, 3, &recorder{})
	_ = n.Start(0, 1)
	if err := n.ForceView(sec(1)); !errors.Is(err, protocol.ErrForceView) {
		t.Errorf("forcing without a view: %v, want ErrForceView", err)
	}
}

// A durable change costs each member two stores, as docs/design.md says:
// one as it accepts the REQ (the leader, as it proposes), one as it
// installs the view. Heartbeats and suspicions store nothing.
func TestDurable_TwoStoresPerChange(t *testing.T) {
	c := newCluster(t, 5, durableConfig())
	seedJoin(c)
	c.runUntil(sec(12))
	before := map[protocol.PeerID]int{}
	for id := protocol.PeerID(1); id <= 4; id++ {
		before[id] = c.nodes[id].saves
	}
	c.runUntil(sec(20))
	for id := protocol.PeerID(1); id <= 4; id++ {
		if n := c.nodes[id].saves - before[id]; n != 0 {
			t.Errorf("peer %d stored %d times while nothing changed", id, n)
		}
	}
	c.crash(5, sec(20))
	c.runUntil(sec(30))
	allInOneView(t, c, "6[1,2,3,4]", 1, 2, 3, 4)
	got, want := map[protocol.PeerID]int{}, map[protocol.PeerID]int{}
	for id := protocol.PeerID(1); id <= 4; id++ {
		got[id], want[id] = c.nodes[id].saves-before[id], 2
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stores for one change (-want +got):\n%s\n%s", diff, c.dump())
	}
}
