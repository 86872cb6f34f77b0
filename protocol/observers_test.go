package protocol_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

// ringCluster starts n peers watched by observers members each: 1 founds,
// the others join a second later, all at once; by 20 s they share one view.
func ringCluster(t *testing.T, n, observers int, mutation protocol.Mutation) *cluster {
	t.Helper()
	cfg := protocol.DefaultConfig()
	cfg.Observers = observers
	cfg.Mutation = mutation
	c := newCluster(t, n, cfg)
	c.start(1, 0)
	for id := 2; id <= n; id++ {
		c.start(protocol.PeerID(id), time.Second)
	}
	c.runUntil(20 * time.Second)
	all := fmt.Sprint(c.nodes[1].peer.View().Members)
	for id := 2; id <= n; id++ {
		if got := fmt.Sprint(c.nodes[id].peer.View().Members); got != all {
			t.Fatalf("by 20 s peer %d holds %s, peer 1 %s", id, got, all)
		}
	}
	return c
}

// heartbeatTargets returns to whom each peer sends heartbeats over span,
// and how many.
func heartbeatTargets(c *cluster, span time.Duration) map[protocol.PeerID]map[protocol.PeerID]int {
	sent := map[protocol.PeerID]map[protocol.PeerID]int{}
	c.drop = func(m protocol.Message) bool {
		if m.Type == protocol.MsgHeartbeat {
			if sent[m.From] == nil {
				sent[m.From] = map[protocol.PeerID]int{}
			}
			sent[m.From][m.To]++
		}
		return false
	}
	c.runUntil(c.now + span)
	c.drop = nil
	return sent
}

// Outside the line of succession (the lowest members: a majority of the
// view, at most 2*observers+1), a member heartbeats its observers alone;
// the members of the line also heartbeat one another.
func TestObservers_HeartbeatsGoToObserversOnly(t *testing.T) {
	for _, tc := range []struct{ peers, observers, wantTargets, line int }{
		{peers: 9, observers: 8, wantTargets: 8},             // small: everyone
		{peers: 40, observers: 8, wantTargets: 8, line: 17},  // ring: eight
		{peers: 40, observers: 3, wantTargets: 3, line: 7},   // ring: three
		{peers: 100, observers: 8, wantTargets: 8, line: 17}, // the same at any size
		{peers: 200, observers: 8, wantTargets: 8, line: 17}, // and the same line
	} {
		t.Run(fmt.Sprintf("peers=%d,observers=%d", tc.peers, tc.observers), func(t *testing.T) {
			c := ringCluster(t, tc.peers, tc.observers, protocol.MutationNone)
			sent := heartbeatTargets(c, 11*time.Second)
			for id := 1; id <= tc.peers; id++ {
				targets := sent[protocol.PeerID(id)]
				if id <= tc.line {
					for other := 1; other <= tc.line; other++ {
						if other != id && targets[protocol.PeerID(other)] == 0 {
							t.Errorf("peer %d, in the line, never heartbeats %d, also in it: %v", id, other, targets)
						}
					}
					if len(targets) > tc.line-1+tc.wantTargets {
						t.Errorf("peer %d, in the line, heartbeats %d peers, want at most %d: %v", id, len(targets), tc.line-1+tc.wantTargets, targets)
					}
				} else if len(targets) != tc.wantTargets {
					t.Errorf("peer %d heartbeats %d peers, want %d: %v", id, len(targets), tc.wantTargets, targets)
				}
				for to, n := range targets {
					if n < 9 || n > 11 { // ten rounds in 11 s, give or take the edges
						t.Errorf("peer %d sent %d heartbeats to %d in 11 s, want about 10", id, n, to)
					}
				}
			}
		})
	}
}

// unreachableAt returns the peers that logged that q is unreachable.
func unreachableAt(c *cluster, q protocol.PeerID) []protocol.PeerID {
	var at []protocol.PeerID
	for id := 1; id < len(c.nodes); id++ {
		for _, l := range c.lines(protocol.PeerID(id)) {
			if strings.Contains(l, fmt.Sprintf(`"peer %d unreachable"`, q)) || strings.Contains(l, fmt.Sprintf(`"peer %d (leader) unreachable"`, q)) {
				at = append(at, protocol.PeerID(id))
				break
			}
		}
	}
	return at
}

// viewsOfLive returns, by live peer, its view's members and its leader.
func viewsOfLive(c *cluster) map[protocol.PeerID]string {
	got := map[protocol.PeerID]string{}
	for id := 1; id < len(c.nodes); id++ {
		if n := c.nodes[id]; n.alive {
			got[protocol.PeerID(id)] = fmt.Sprintf("%v leader %d", n.peer.View().Members, n.peer.Leader())
		}
	}
	return got
}

// allBut returns, for peers 1..n but gone, the same view and leader.
func allBut(n int, gone protocol.PeerID, leader protocol.PeerID) map[protocol.PeerID]string {
	var members []protocol.PeerID
	for id := protocol.PeerID(1); int(id) <= n; id++ {
		if id != gone {
			members = append(members, id)
		}
	}
	want := map[protocol.PeerID]string{}
	for _, id := range members {
		want[id] = fmt.Sprintf("%v leader %d", members, leader)
	}
	return want
}

func TestObservers_CrashSeenByItsObserversAndRemoved(t *testing.T) {
	c := ringCluster(t, 20, 3, protocol.MutationNone)
	c.crash(7, c.now)
	c.runUntil(c.now + 15*time.Second)
	if got := unreachableAt(c, 7); len(got) != 3 {
		t.Errorf("peer 7 logged unreachable at %v, want its three observers", got)
	}
	if diff := cmp.Diff(allBut(20, 7, 1), viewsOfLive(c)); diff != "" {
		t.Errorf("views after 7 crashed (-want +got):\n%s", diff)
	}
}

func TestObservers_LeaderCrashElectsTheNextInLine(t *testing.T) {
	c := ringCluster(t, 20, 3, protocol.MutationNone)
	c.crash(1, c.now)
	c.runUntil(c.now + 15*time.Second)
	if diff := cmp.Diff(allBut(20, 1, 2), viewsOfLive(c)); diff != "" {
		t.Errorf("views after leader 1 crashed (-want +got):\n%s", diff)
	}
}

// oneBadLink cuts peer 7 off from one of its observers for 30 s and
// reports whether any view leader 1 installed meanwhile left 7 out.
func oneBadLink(t *testing.T, mutation protocol.Mutation) (removed bool) {
	c := ringCluster(t, 20, 3, mutation)
	var observer protocol.PeerID
	for to := range heartbeatTargets(c, 2*time.Second)[7] {
		observer = max(observer, to)
	}
	before := len(c.nodes[1].views)
	c.drop = func(m protocol.Message) bool { return m.From == 7 && m.To == observer }
	c.runUntil(c.now + 30*time.Second)
	for _, v := range c.nodes[1].views[before:] {
		if !v.Contains(7) {
			return true
		}
	}
	return false
}

func TestObservers_OneBadLinkRemovesNobody(t *testing.T) {
	if oneBadLink(t, protocol.MutationNone) {
		t.Error("one observer of 7 lost it for 30 s, and 7 was removed")
	}
}

// The mutation shows the test can fail: with one observer's word enough,
// the same bad link removes 7.
func TestObservers_OneBadLinkRemovesWithLoneObserver(t *testing.T) {
	if !oneBadLink(t, protocol.MutationLoneObserver) {
		t.Error("with lone-observer, one bad link removed nobody")
	}
}
