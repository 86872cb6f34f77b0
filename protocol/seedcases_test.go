package protocol_test

import (
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

// The four test cases of the seed (docs/design.md, section 10), replayed in virtual
// time with the seed's timing. Each asserts what every peer installed, in
// order, and where everyone ended.

// seedJoin starts peer 1 at once and peers 2..5 at 2, 4, 6 and 8 seconds.
func seedJoin(c *cluster) {
	for id := 1; id <= 5; id++ {
		c.start(protocol.PeerID(id), sec(2*float64(id-1)))
	}
}

func TestSeedCase1_Join(t *testing.T) {
	c := newCluster(t, 5, protocol.DefaultConfig())
	seedJoin(c)
	c.runUntil(sec(20))
	c.show(t)

	want := map[protocol.PeerID][]string{
		1: {"1[1]", "2[1,2]", "3[1,2,3]", "4[1,2,3,4]", "5[1,2,3,4,5]"},
		2: {"2[1,2]", "3[1,2,3]", "4[1,2,3,4]", "5[1,2,3,4,5]"},
		3: {"3[1,2,3]", "4[1,2,3,4]", "5[1,2,3,4,5]"},
		4: {"4[1,2,3,4]", "5[1,2,3,4,5]"},
		5: {"5[1,2,3,4,5]"},
	}
	if diff := cmp.Diff(want, c.installed()); diff != "" {
		t.Errorf("installed views (-want +got):\n%s\nlog:\n%s", diff, c.dump())
	}
	wantFinal := map[protocol.PeerID]string{}
	for id := protocol.PeerID(1); id <= 5; id++ {
		wantFinal[id] = "view 5[1,2,3,4,5] leader 1"
	}
	if diff := cmp.Diff(wantFinal, c.final()); diff != "" {
		t.Errorf("final state (-want +got):\n%s", diff)
	}
	wantLines := []string{
		"{peer_id:3, view_id: 3, leader: 1, memb_list: [1,2,3]}",
		"{peer_id:3, view_id: 4, leader: 1, memb_list: [1,2,3,4]}",
		"{peer_id:3, view_id: 5, leader: 1, memb_list: [1,2,3,4,5]}",
	}
	if diff := cmp.Diff(wantLines, c.lines(3)); diff != "" {
		t.Errorf("peer 3 log lines (-want +got):\n%s", diff)
	}
}

func TestSeedCase2_OneCrash(t *testing.T) {
	c := newCluster(t, 5, protocol.DefaultConfig())
	seedJoin(c)
	c.crash(5, sec(8+4))
	c.runUntil(sec(30))
	c.show(t)

	joined := []string{"5[1,2,3,4,5]", "6[1,2,3,4]"}
	want := map[protocol.PeerID][]string{
		1: append([]string{"1[1]", "2[1,2]", "3[1,2,3]", "4[1,2,3,4]"}, joined...),
		2: append([]string{"2[1,2]", "3[1,2,3]", "4[1,2,3,4]"}, joined...),
		3: append([]string{"3[1,2,3]", "4[1,2,3,4]"}, joined...),
		4: append([]string{"4[1,2,3,4]"}, joined...),
		5: {"5[1,2,3,4,5]"},
	}
	if diff := cmp.Diff(want, c.installed()); diff != "" {
		t.Errorf("installed views (-want +got):\n%s\nlog:\n%s", diff, c.dump())
	}
	for id := protocol.PeerID(1); id <= 4; id++ {
		if !contains(c.lines(id), "{peer_id:"+itoa(id)+", view_id: 5, leader: 1, message:\"peer 5 unreachable\"}") {
			t.Errorf("peer %d never printed that peer 5 is unreachable; lines:\n%v", id, c.lines(id))
		}
	}
	wantFinal := map[protocol.PeerID]string{}
	for id := protocol.PeerID(1); id <= 4; id++ {
		wantFinal[id] = "view 6[1,2,3,4] leader 1"
	}
	if diff := cmp.Diff(wantFinal, c.final()); diff != "" {
		t.Errorf("final state (-want +got):\n%s", diff)
	}
	if got := c.lines(5); got[len(got)-1] != "{peer_id:5, view_id: 5, leader: 1, message:\"crashing\"}" {
		t.Errorf("peer 5's last line = %q, want crashing", got[len(got)-1])
	}
}

func TestSeedCase3_Crashes(t *testing.T) {
	c := newCluster(t, 5, protocol.DefaultConfig())
	seedJoin(c)
	c.crash(2, sec(2+30))
	c.crash(3, sec(4+20))
	c.crash(4, sec(6+12))
	c.crash(5, sec(8+4))
	c.runUntil(sec(45))
	c.show(t)

	want := []string{"1[1]", "2[1,2]", "3[1,2,3]", "4[1,2,3,4]", "5[1,2,3,4,5]",
		"6[1,2,3,4]", "7[1,2,3]", "8[1,2]", "9[1]"}
	if diff := cmp.Diff(want, c.installed()[1]); diff != "" {
		t.Errorf("peer 1 installed (-want +got):\n%s\nlog:\n%s", diff, c.dump())
	}
	if diff := cmp.Diff(map[protocol.PeerID]string{1: "view 9[1] leader 1"}, c.final()); diff != "" {
		t.Errorf("final state (-want +got):\n%s", diff)
	}
	// Each survivor saw each earlier crash.
	if got := c.installed()[2]; got[len(got)-1] != "8[1,2]" {
		t.Errorf("peer 2 last installed %s, want 8[1,2]", got[len(got)-1])
	}
}

func TestSeedCase4_LeaderCrashWithLoss(t *testing.T) {
	c := newCluster(t, 5, protocol.DefaultConfig())
	seedJoin(c)
	c.hookCase4(1)
	c.runUntil(sec(40))
	c.show(t)

	// Peer 1 crashed holding view 5; 2 recovered DEL 5 from 3 and 4, then
	// removed 1, then added 5 back.
	want := map[protocol.PeerID][]string{
		1: {"1[1]", "2[1,2]", "3[1,2,3]", "4[1,2,3,4]", "5[1,2,3,4,5]"},
		2: {"2[1,2]", "3[1,2,3]", "4[1,2,3,4]", "5[1,2,3,4,5]", "6[1,2,3,4]", "7[2,3,4]", "8[2,3,4,5]"},
		3: {"3[1,2,3]", "4[1,2,3,4]", "5[1,2,3,4,5]", "6[1,2,3,4]", "7[2,3,4]", "8[2,3,4,5]"},
		4: {"4[1,2,3,4]", "5[1,2,3,4,5]", "6[1,2,3,4]", "7[2,3,4]", "8[2,3,4,5]"},
		5: {"5[1,2,3,4,5]", "8[2,3,4,5]"},
	}
	if diff := cmp.Diff(want, c.installed()); diff != "" {
		t.Errorf("installed views (-want +got):\n%s\nlog:\n%s", diff, c.dump())
	}
	wantFinal := map[protocol.PeerID]string{}
	for id := protocol.PeerID(2); id <= 5; id++ {
		wantFinal[id] = "view 8[2,3,4,5] leader 2"
	}
	if diff := cmp.Diff(wantFinal, c.final()); diff != "" {
		t.Errorf("final state (-want +got):\n%s", diff)
	}
	if got := c.lines(1); got[len(got)-1] != "{peer_id:1, view_id: 5, leader: 1, message:\"crashing\"}" {
		t.Errorf("peer 1's last line = %q, want crashing", got[len(got)-1])
	}
	if !contains(c.lines(2), "{peer_id:2, view_id: 5, leader: 1, message:\"peer 1 (leader) unreachable\"}") {
		t.Errorf("peer 2 never reported the leader unreachable:\n%v", c.lines(2))
	}
	if !contains(c.lines(5), "{peer_id:5, view_id: 6, leader: 2, message:\"removed from view\"}") {
		t.Errorf("peer 5 never reported its removal:\n%v", c.lines(5))
	}
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

func itoa(id protocol.PeerID) string { return strconv.FormatUint(uint64(id), 10) }
