package main

// The seed's four test cases (docs/design.md, section 10) replayed with real peer
// processes on loopback, at about a fifth of the seed's timing.

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/check"
	"github.com/memberly/memberly/protocol"
)

// seedDelays are the seed's -d 2, 4, 6, 8 of peers 2..5, scaled down.
var seedDelays = map[int]string{2: "0.4", 3: "0.8", 4: "1.2", 5: "1.6"}

// startSeed starts the five peers as the seed does, peer 1 at once and the
// others after their delays, each also with extra[id].
func startSeed(c *cluster, extra map[int][]string) {
	for id := 1; id <= 5; id++ {
		var args []string
		if d, ok := seedDelays[id]; ok {
			args = append(args, "-d", d)
		}
		c.start(id, append(args, extra[id]...)...)
	}
}

// skipShort skips a test that runs a cluster of processes under -short.
// checkCrashed checks that each of ids crashed as the seed's -c and -t
// make a peer crash: it printed "crashing" and exited with status 1.
func checkCrashed(t *testing.T, c *cluster, ids ...int) {
	t.Helper()
	for _, id := range ids {
		p := c.proc(id)
		if status := p.waitExit(t); status != exitCrashed {
			t.Errorf("peer %d exit status %d, want %d", id, status, exitCrashed)
		}
		if !p.printed(protocol.MessageCrashing) {
			t.Errorf("peer %d did not print %q", id, protocol.MessageCrashing)
		}
	}
}

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts peer processes; skipped with -short")
	}
}

// view is one installed view as a log line shows it.
type view struct {
	ID      protocol.ViewID
	Members []protocol.PeerID
	Leader  protocol.PeerID
}

func (v view) String() string {
	return fmt.Sprintf("%d%v@%d", v.ID, v.Members, v.Leader)
}

// history returns the views p printed, in order.
func history(p *proc) []view {
	var vs []view
	for _, l := range p.views() {
		vs = append(vs, view{ID: l.ViewID, Members: l.Members, Leader: l.Leader})
	}
	return vs
}

// memberHistory returns the member lists of the views p printed.
func memberHistory(p *proc) [][]protocol.PeerID {
	var ms [][]protocol.PeerID
	for _, v := range history(p) {
		ms = append(ms, v.Members)
	}
	return ms
}

// joinViews are the views of the seed join: view v is [1..v], led by 1.
func joinViews(from, to int) []view {
	var vs []view
	for v := from; v <= to; v++ {
		vs = append(vs, view{ID: protocol.ViewID(v), Members: members(ids(1, v)...), Leader: 1})
	}
	return vs
}

// Case 1: the peers join one by one; every member prints every view it
// installs, and the cluster ends at [1,2,3,4,5] led by 1.
func TestSeedCase1_Join(t *testing.T) {
	skipShort(t)
	t.Parallel()
	c := newCluster(t, 5, fastTiming...)
	startSeed(c, nil)
	c.waitView(ids(1, 5), members(1, 2, 3, 4, 5), 1)
	for id := 1; id <= 5; id++ {
		if diff := cmp.Diff(joinViews(id, 5), history(c.proc(id))); diff != "" {
			t.Errorf("views of peer %d (-want +got):\n%s", id, diff)
		}
	}
}

// Case 2: peer 5 crashes after joining; the survivors remove it and end at
// [1,2,3,4].
func TestSeedCase2_OneCrash(t *testing.T) {
	skipShort(t)
	t.Parallel()
	c := newCluster(t, 5, fastTiming...)
	startSeed(c, map[int][]string{5: {"-c", "0.8"}})
	c.waitViewFrom(ids(1, 4), 6, members(1, 2, 3, 4), 1)

	checkCrashed(t, c, 5)
	// Every survivor detects the crash itself: a follower whose suspect
	// timer is late still raises the suspicion before it handles the
	// leader's REQ or NEWVIEW removing 5.
	unreachable := protocol.UnreachableMessage(5, false)
	for id := 1; id <= 4; id++ {
		if !c.proc(id).printed(unreachable) {
			t.Errorf("peer %d did not print %q", id, unreachable)
		}
		checkOnlySuspected(t, c.proc(id), 5)
		want := append(joinViews(id, 5), view{ID: 6, Members: members(1, 2, 3, 4), Leader: 1})
		if diff := cmp.Diff(want, history(c.proc(id))); diff != "" {
			t.Errorf("views of peer %d (-want +got):\n%s", id, diff)
		}
	}
}

// checkOnlySuspected fails the test if p printed a suspicion of anyone but
// the peers in crashed.
func checkOnlySuspected(t *testing.T, p *proc, crashed ...protocol.PeerID) {
	t.Helper()
	for _, e := range p.entries() {
		if q, _, ok := check.Unreachable(e.line); ok && !slices.Contains(crashed, q) {
			t.Errorf("peer %d suspected peer %d, which never crashed: %s", p.id, q, e.text)
		}
	}
}

// Case 3: peers 5, 4, 3 and 2 crash in turn and are removed in that order;
// peer 1 ends alone at [1].
func TestSeedCase3_Crashes(t *testing.T) {
	skipShort(t)
	t.Parallel()
	c := newCluster(t, 5, fastTiming...)
	// The seed's -c 30, 20, 12, 4, scaled like the delays: the crashes
	// come at 6.4 s, 4.8 s, 3.6 s and 2.4 s.
	crashAfter := map[int]string{2: "6", 3: "4", 4: "2.4", 5: "0.8"}
	extra := map[int][]string{}
	for id, s := range crashAfter {
		extra[id] = []string{"-c", s}
	}
	startSeed(c, extra)
	c.waitViewFrom([]int{1}, 9, members(1), 1)

	checkCrashed(t, c, 2, 3, 4, 5)
	want := [][]protocol.PeerID{
		members(1), members(1, 2), members(1, 2, 3), members(1, 2, 3, 4), members(1, 2, 3, 4, 5),
		members(1, 2, 3, 4), members(1, 2, 3), members(1, 2), members(1),
	}
	if diff := cmp.Diff(want, memberHistory(c.proc(1))); diff != "" {
		t.Errorf("views of peer 1 (-want +got):\n%s", diff)
	}
	checkOnlySuspected(t, c.proc(1), 2, 3, 4, 5)
}

// Case 4: once all five have joined, leader 1 (-t) sends DEL 5 to 3 and 4
// only and crashes; peer 2 takes over, completes DEL 5, removes 1, and
// peer 5 rejoins: [2,3,4,5] led by 2.
func TestSeedCase4_LeaderCrashWithLoss(t *testing.T) {
	skipShort(t)
	t.Parallel()
	c := newCluster(t, 5, fastTiming...)
	startSeed(c, map[int][]string{1: {"-t"}})
	c.waitViewFrom(ids(2, 5), 8, members(2, 3, 4, 5), 2)

	checkCrashed(t, c, 1)
	if msg := protocol.UnreachableMessage(1, true); !c.proc(2).printed(msg) {
		t.Errorf("peer 2 did not print %q", msg)
	}
	if !c.proc(5).printed(protocol.MessageRemoved) {
		t.Errorf("peer 5 did not print %q", protocol.MessageRemoved)
	}
	// DEL 5 is recovered and completed before 1 is removed, all by 2.
	for id := 2; id <= 4; id++ {
		want := append(joinViews(id, 5),
			view{ID: 6, Members: members(1, 2, 3, 4), Leader: 2},
			view{ID: 7, Members: members(2, 3, 4), Leader: 2},
			view{ID: 8, Members: members(2, 3, 4, 5), Leader: 2})
		if diff := cmp.Diff(want, history(c.proc(id))); diff != "" {
			t.Errorf("views of peer %d (-want +got):\n%s", id, diff)
		}
	}
	want := append(joinViews(5, 5), view{ID: 8, Members: members(2, 3, 4, 5), Leader: 2})
	if diff := cmp.Diff(want, history(c.proc(5))); diff != "" {
		t.Errorf("views of peer 5 (-want +got):\n%s", diff)
	}
}
