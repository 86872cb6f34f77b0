package main

// Durable peers (-data-dir) as real processes: kill -9 and restart, a
// corrupt state file, -reset-state, -force-view.

import (
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/protocol"
)

// dataDir is peer id's data directory in the cluster.
func (c *cluster) dataDir(id int) string {
	return filepath.Join(c.dir, fmt.Sprintf("data-%d", id))
}

// startDurable starts peer id with its data directory, serving HTTP, and
// extra.
func (c *cluster) startDurable(id int, extra ...string) *proc {
	c.t.Helper()
	return c.start(id, append([]string{"-data-dir", c.dataDir(id), "-http", c.httpAddr(id)}, extra...)...)
}

// startDurableJoined starts peers 1..n, durable, and waits until all are
// in one view led by 1; it returns that view's id.
func startDurableJoined(t *testing.T, n int) (*cluster, protocol.ViewID) {
	t.Helper()
	c := newCluster(t, n, fastTiming...)
	for id := 1; id <= n; id++ {
		c.startDurable(id)
	}
	c.waitView(ids(1, n), members(ids(1, n)...), 1)
	v, _ := c.proc(1).lastView()
	return c, v.ViewID
}

// incarnations returns the incarnation each of ids shows on /status.
func (c *cluster) incarnations(t *testing.T, ids []int) map[int]uint64 {
	t.Helper()
	inc := map[int]uint64{}
	for _, id := range ids {
		s, err := status(c.httpAddr(id))
		if err != nil {
			t.Fatal(err)
		}
		inc[id] = s.Incarnation
	}
	return inc
}

// checkResumed checks that p said it resumed holding view id with members,
// and that it installed no view at or below id since: a resumed peer's
// view ids go on from where they were.
func checkResumed(t *testing.T, p *proc, id protocol.ViewID, want []protocol.PeerID) {
	t.Helper()
	l, ok := p.opLine("resumed")
	switch {
	case !ok:
		t.Errorf("peer %d printed no resumed line", p.id)
		return
	case l.Fields["view_id"] != fmt.Sprint(id) || l.Fields["members"] != protocol.FormatMembers(want):
		t.Errorf("peer %d resumed at view %s %s, want view %d %s", p.id, l.Fields["view_id"], l.Fields["members"], id, protocol.FormatMembers(want))
	case l.Fields["peer_id"] != fmt.Sprint(p.id):
		t.Errorf("peer %d resumed as peer %s", p.id, l.Fields["peer_id"])
	}
	for _, v := range p.views() {
		if v.ViewID <= id {
			t.Errorf("peer %d installed view %d %v after resuming at view %d", p.id, v.ViewID, v.Members, id)
		}
	}
}

// inOneView is a condition: every peer of ids runs and its /status shows
// members, in one view id (at least minID), under one leader that is a
// member, and no peer joining.
func (c *cluster) inOneView(ids []int, minID protocol.ViewID, want []protocol.PeerID) func() error {
	return func() error {
		var first statusJSON
		for i, id := range ids {
			if p := c.proc(id); p.exited() {
				return errors.Errorf("peer %d exited (%s)", id, p.describeExit())
			}
			s, err := status(c.httpAddr(id))
			if err != nil {
				return err
			}
			if i == 0 {
				first = s
			}
			switch {
			case s.ViewID < minID || !slices.Equal(s.Members, want) || s.Role == "joining":
				return errors.Errorf("peer %d is at view %d %v (%s), want %v at view %d or later", id, s.ViewID, s.Members, s.Role, want, minID)
			case s.ViewID != first.ViewID || s.Leader != first.Leader || !slices.Contains(want, s.Leader):
				return errors.Errorf("peer %d is at view %d led by %d, peer %d at view %d led by %d",
					id, s.ViewID, s.Leader, ids[0], first.ViewID, first.Leader)
			case len(s.Suspects) != 0:
				return errors.Errorf("peer %d suspects %v", id, s.Suspects)
			}
		}
		return nil
	}
}

// Five durable peers killed at once and started again on their data
// directories resume as the same members: each starts in the view it held
// (never founding view 1 again), under its old incarnation, and they end
// in one view of five.
func TestDurable_AllKilledResume(t *testing.T) {
	skipShort(t)
	t.Parallel()
	c, held := startDurableJoined(t, 5)
	inc := c.incarnations(t, ids(1, 5))
	for id := 1; id <= 5; id++ {
		c.proc(id).kill()
	}
	for id := 1; id <= 5; id++ {
		c.proc(id).killWait()
	}
	for id := 1; id <= 5; id++ {
		c.startDurable(id)
	}
	c.waitFor("one view of five after the restart", c.inOneView(ids(1, 5), held, members(ids(1, 5)...)))
	for id := 1; id <= 5; id++ {
		checkResumed(t, c.proc(id), held, members(ids(1, 5)...))
	}
	if got := c.incarnations(t, ids(1, 5)); !maps.Equal(got, inc) {
		t.Errorf("incarnations after the restart %v, before %v: want them kept", got, inc)
	}
}

// The leader killed and started again on its data directory comes back as
// the same member, incarnation included, and the cluster ends in one view
// of five.
func TestDurable_LeaderKilledResumes(t *testing.T) {
	skipShort(t)
	t.Parallel()
	c, held := startDurableJoined(t, 5)
	inc := c.incarnations(t, []int{1})[1]
	c.proc(1).killWait()
	// The others notice before it is back: it returns to a cluster that
	// has moved on without it, or is about to.
	c.waitFor("peer 2 to suspect the leader", func() error {
		if !c.proc(2).printed(protocol.UnreachableMessage(1, true)) {
			return errors.New("peer 1 not suspected yet")
		}
		return nil
	})
	one := c.startDurable(1)
	c.waitFor("one view of five after the restart", c.inOneView(ids(1, 5), held, members(ids(1, 5)...)))
	checkResumed(t, one, held, members(ids(1, 5)...))
	if got := c.incarnations(t, []int{1})[1]; got != inc {
		t.Errorf("the restarted leader shows incarnation %d, want %d, the one it stored", got, inc)
	}
}

// A corrupt state file stops the peer at start with one line naming the
// file, and the file stays; -reset-state discards it, and the peer joins
// as a new member.
func TestDurable_CorruptStateFile(t *testing.T) {
	skipShort(t)
	t.Parallel()
	c, held := startDurableJoined(t, 5)
	inc := c.incarnations(t, []int{3})[3]
	c.proc(3).killWait()
	path := filepath.Join(c.dataDir(3), "state")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x40
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}

	refused := c.startDurable(3)
	if status := refused.waitExit(t); status != exitStartup {
		t.Fatalf("peer 3 on a corrupt state file: exit status %d, want %d", status, exitStartup)
	}
	text := refused.text()
	if strings.Count(text, "\n") != 1 || !strings.HasPrefix(text, "peer: state file "+path+": state file is corrupt") ||
		!strings.Contains(text, "-reset-state") {
		t.Errorf("stderr %q, want one line naming %s as corrupt and saying -reset-state", text, path)
	}
	if after, err := os.ReadFile(path); err != nil || string(after) != string(data) {
		t.Errorf("the refused state file was changed: %v", err)
	}

	reset := c.startDurable(3, "-reset-state")
	c.waitViewFrom(ids(1, 5), held+1, members(ids(1, 5)...), 0)
	c.waitFor("one view of five", c.inOneView(ids(1, 5), held+1, members(ids(1, 5)...)))
	if l, ok := reset.opLine("state file removed: this peer starts as a new member under a new incarnation; the view, promises and incarnation it held are lost"); !ok || l.Level != "WARN" || l.Fields["path"] != path {
		t.Errorf("peer 3 with -reset-state: reset line %+v (found %v), want a warning naming %s", l, ok, path)
	}
	if _, ok := reset.opLine("resumed"); ok {
		t.Error("peer 3 resumed though its state was reset")
	}
	if got := c.incarnations(t, []int{3})[3]; got == inc {
		t.Errorf("peer 3 kept incarnation %d after -reset-state, want a new one", got)
	}
}

// -force-view on a survivor of a lost majority: three of five are killed
// for good, one survivor is restarted with -force-view, and the two
// survivors end in a view of two whose id is at least 1000 above the old.
func TestDurable_ForceView(t *testing.T) {
	skipShort(t)
	t.Parallel()
	c, held := startDurableJoined(t, 5)
	// The leader among the lost: the survivors have no one to follow.
	for _, id := range []int{1, 3, 5} {
		c.proc(id).kill()
	}
	for _, id := range []int{1, 3, 5} {
		c.proc(id).killWait()
	}
	// Two of five decide nothing: they keep the view and wait.
	c.waitFor("peer 2 to suspect the lost", func() error {
		for _, id := range []protocol.PeerID{3, 5} {
			if !c.proc(2).printed(protocol.UnreachableMessage(id, false)) {
				return errors.Errorf("peer %d not suspected yet", id)
			}
		}
		return nil
	})
	if v, _ := c.proc(2).lastView(); v.ViewID != held {
		t.Fatalf("peer 2 moved to view %d %v without a majority", v.ViewID, v.Members)
	}

	c.proc(4).killWait()
	four := c.startDurable(4, "-force-view")
	c.waitViewFrom([]int{2, 4}, held+protocol.ForceViewJump, members(2, 4), 0)
	c.waitFor("one view of two", c.inOneView([]int{2, 4}, held+protocol.ForceViewJump, members(2, 4)))
	checkResumed(t, four, held, members(ids(1, 5)...))
	l, ok := four.opLine("forced-view")
	if !ok || l.Level != "WARN" || l.Fields["members"] != "[2,4]" {
		t.Errorf("peer 4's forced-view line %+v (found %v), want a warning for members [2,4]", l, ok)
	}
}

// SIGTERM stops a durable peer as a member: it exits 0 without leaving,
// and started again it resumes where it was.
func TestDurable_SignalStopsWithoutLeaving(t *testing.T) {
	skipShort(t)
	t.Parallel()
	c, held := startDurableJoined(t, 5)
	three := c.proc(3)
	three.signal(syscall.SIGTERM)
	if status := three.waitExit(t); status != exitOK {
		t.Fatalf("peer 3 on SIGTERM: exit status %d, want %d", status, exitOK)
	}
	if l, ok := three.opLine("stopping on a signal without leaving: restart on the same -data-dir to resume as the same member"); !ok || l.Level != "INFO" {
		t.Errorf("peer 3 printed no line saying it stops as a member")
	}
	for _, v := range three.views() {
		if v.ViewID > held {
			t.Errorf("peer 3 installed view %d %v while stopping: it left", v.ViewID, v.Members)
		}
	}
	again := c.startDurable(3)
	c.waitFor("one view of five after the restart", c.inOneView(ids(1, 5), held, members(ids(1, 5)...)))
	checkResumed(t, again, held, members(ids(1, 5)...))
}

// A signal makes a peer leave the group by default, but not with
// -data-dir, unless -leave-on-signal says so.
func TestFlags_LeaveOnSignal(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{nil, true},
		{[]string{"-data-dir", "d"}, false},
		{[]string{"-data-dir", "d", "-leave-on-signal"}, true},
		{[]string{"-data-dir", "d", "-leave-on-signal=false"}, false},
		{[]string{"-leave-on-signal=false"}, false},
	} {
		cfg, err := parseFlags(append([]string{"-h", "hosts"}, tc.args...), io.Discard)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if cfg.leaveOnSignal != tc.want {
			t.Errorf("%v: leave on a signal %v, want %v", tc.args, cfg.leaveOnSignal, tc.want)
		}
	}
}
