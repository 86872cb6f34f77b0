package check_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/check"
	"github.com/memberly/memberly/protocol"
)

// verdict is what CheckInstalls returns, as one value for cmp.Diff.
type verdict struct{ Property, Detail string }

// checkLog parses a combined log of a five-peer run and checks its installs.
func checkLog(t *testing.T, log string) verdict {
	t.Helper()
	lines, skipped := check.ParseLogText(log)
	if skipped != 0 {
		t.Fatalf("the test log has %d lines that do not parse", skipped)
	}
	p, d := check.CheckInstalls(5, check.InstallsFromLines(lines))
	return verdict{p, d}
}

// seedJoin is the log of the seed's case 1 followed by case 2's crash,
// with docker compose prefixes and a message line or two in between.
const seedJoin = `
one_1    | {peer_id:1, view_id: 1, leader: 1, memb_list: [1]}
one_1    | {peer_id:1, view_id: 2, leader: 1, memb_list: [1,2]}
two_1    | {peer_id:2, view_id: 2, leader: 1, memb_list: [1,2]}
one_1    | {peer_id:1, view_id: 3, leader: 1, memb_list: [1,2,3]}
three_1  | {peer_id:3, view_id: 3, leader: 1, memb_list: [1,2,3]}
two_1    | {peer_id:2, view_id: 3, leader: 1, memb_list: [1,2,3]}
four_1   | {peer_id:4, view_id: 4, leader: 1, memb_list: [1,2,3,4]}
two_1    | {peer_id:2, view_id: 4, leader: 1, memb_list: [1,2,3,4]}
one_1    | {peer_id:1, view_id: 4, leader: 1, memb_list: [1,2,3,4]}
three_1  | {peer_id:3, view_id: 4, leader: 1, memb_list: [1,2,3,4]}
five_1   | {peer_id:5, view_id: 5, leader: 1, memb_list: [1,2,3,4,5]}
one_1    | {peer_id:1, view_id: 5, leader: 1, memb_list: [1,2,3,4,5]}
two_1    | {peer_id:2, view_id: 5, leader: 1, memb_list: [1,2,3,4,5]}
three_1  | {peer_id:3, view_id: 5, leader: 1, memb_list: [1,2,3,4,5]}
four_1   | {peer_id:4, view_id: 5, leader: 1, memb_list: [1,2,3,4,5]}
five_1   | {peer_id:5, view_id: 5, leader: 1, message:"crashing"}
two_1    | {peer_id:2, view_id: 5, leader: 1, message:"peer 5 unreachable"}
one_1    | {peer_id:1, view_id: 6, leader: 1, memb_list: [1,2,3,4]}
two_1    | {peer_id:2, view_id: 6, leader: 1, memb_list: [1,2,3,4]}
`

func TestCheckInstalls_CleanLogPasses(t *testing.T) {
	if diff := cmp.Diff(verdict{}, checkLog(t, seedJoin)); diff != "" {
		t.Errorf("verdict (-want +got):\n%s", diff)
	}
}

func TestCheckInstalls_ViewIDBackwardsFailsS1(t *testing.T) {
	log := seedJoin + `{peer_id:2, view_id: 5, leader: 1, memb_list: [1,2,3,4,5]}`
	want := verdict{"S1", "p2 installed view 5 after view 6"}
	if diff := cmp.Diff(want, checkLog(t, log)); diff != "" {
		t.Errorf("verdict (-want +got):\n%s", diff)
	}
}

func TestCheckInstalls_DisagreementFailsS2(t *testing.T) {
	log := `
{peer_id:1, view_id: 1, leader: 1, memb_list: [1]}
{peer_id:1, view_id: 2, leader: 1, memb_list: [1,2]}
{peer_id:1, view_id: 3, leader: 1, memb_list: [1,2,3]}
{peer_id:2, view_id: 3, leader: 1, memb_list: [1,2,4]}
`
	want := verdict{"S2", "p2 installed view 3 as [1,2,4], but p1 installed it as [1,2,3] at 0s"}
	if diff := cmp.Diff(want, checkLog(t, log)); diff != "" {
		t.Errorf("verdict (-want +got):\n%s", diff)
	}
}

func TestCheckInstalls_TwoChangesFailS3(t *testing.T) {
	log := `
{peer_id:1, view_id: 1, leader: 1, memb_list: [1]}
{peer_id:1, view_id: 2, leader: 1, memb_list: [1,2,3]}
`
	want := verdict{"S3", "view 1 [1] and view 2 [1,2,3] differ by 2 peers"}
	if diff := cmp.Diff(want, checkLog(t, log)); diff != "" {
		t.Errorf("verdict (-want +got):\n%s", diff)
	}
}

// A pair of views is judged once both are known, in whichever order the
// peers' logs bring them.
func TestCheckInstalls_TwoChangesFailS3InAnyOrder(t *testing.T) {
	log := `
{peer_id:3, view_id: 4, leader: 1, memb_list: [1,2,3,4,5]}
{peer_id:1, view_id: 3, leader: 1, memb_list: [1,2,3]}
`
	want := verdict{"S3", "view 3 [1,2,3] and view 4 [1,2,3,4,5] differ by 2 peers"}
	if diff := cmp.Diff(want, checkLog(t, log)); diff != "" {
		t.Errorf("verdict (-want +got):\n%s", diff)
	}
}

func TestCheckInstalls_ViewWithoutSelfFailsS4(t *testing.T) {
	log := `
{peer_id:1, view_id: 1, leader: 1, memb_list: [1]}
{peer_id:1, view_id: 2, leader: 1, memb_list: [1,2]}
{peer_id:3, view_id: 2, leader: 1, memb_list: [1,2]}
`
	want := verdict{"S4", "p3 installed view 2[1,2], which does not hold it"}
	if diff := cmp.Diff(want, checkLog(t, log)); diff != "" {
		t.Errorf("verdict (-want +got):\n%s", diff)
	}
}

// A removal or an addition with nothing in the log to justify it is not
// judged: logs show no JOINs, so S5 is off.
func TestCheckInstalls_SkipsS5(t *testing.T) {
	log := `
{peer_id:1, view_id: 1, leader: 1, memb_list: [1]}
{peer_id:1, view_id: 2, leader: 1, memb_list: [1,2]}
{peer_id:1, view_id: 3, leader: 1, memb_list: [1]}
`
	if diff := cmp.Diff(verdict{}, checkLog(t, log)); diff != "" {
		t.Errorf("verdict (-want +got):\n%s", diff)
	}
}

// A restarted process starts over at a lower view id; S1 holds per process.
func TestCheckInstalls_RestartStartsOver(t *testing.T) {
	v := func(id protocol.ViewID, members ...protocol.PeerID) protocol.View {
		return protocol.View{ID: id, Members: members}
	}
	installs := []check.Install{
		{Peer: 1, View: v(1, 1)},
		{Peer: 1, View: v(2, 1, 2)},
		{Peer: 2, Incarnation: 1, View: v(2, 1, 2)},
		{Peer: 1, View: v(3, 1)},
		{Peer: 1, View: v(4, 1, 2)},
		{Peer: 2, Incarnation: 2, View: v(4, 1, 2)},
	}
	p, d := check.CheckInstalls(2, installs)
	if diff := cmp.Diff(verdict{}, verdict{p, d}); diff != "" {
		t.Errorf("verdict (-want +got):\n%s", diff)
	}
}

// A cluster founded after every process of the one before stopped starts
// its view ids over; S1 still spans clusters, per process.
func TestCheckInstalls_NewClusterStartsViewsOver(t *testing.T) {
	v := func(id protocol.ViewID, members ...protocol.PeerID) protocol.View {
		return protocol.View{ID: id, Members: members}
	}
	first := []check.Install{
		{Peer: 1, Cluster: 1, View: v(1, 1)},
		{Peer: 1, Cluster: 1, View: v(2, 1, 2)},
		{Peer: 2, Incarnation: 1, Cluster: 1, View: v(2, 1, 2)},
	}
	again := append(first, check.Install{Peer: 2, Incarnation: 2, Cluster: 2, View: v(1, 2)})
	p, d := check.CheckInstalls(2, again)
	if diff := cmp.Diff(verdict{}, verdict{p, d}); diff != "" {
		t.Errorf("a new cluster: verdict (-want +got):\n%s", diff)
	}
	same := append(first, check.Install{Peer: 2, Incarnation: 1, Cluster: 2, View: v(1, 2)})
	p, d = check.CheckInstalls(2, same)
	if diff := cmp.Diff(verdict{"S1", "p2 installed view 1 after view 2"}, verdict{p, d}); diff != "" {
		t.Errorf("one process in two clusters: verdict (-want +got):\n%s", diff)
	}
}

func TestCheckInstalls_PeerOutsideUniverse(t *testing.T) {
	installs := []check.Install{{Peer: 6, View: protocol.View{ID: 1, Members: []protocol.PeerID{6}}}}
	p, d := check.CheckInstalls(5, installs)
	want := verdict{"input", "p6 installed view 1[6], but the peers are 1..5"}
	if diff := cmp.Diff(want, verdict{p, d}); diff != "" {
		t.Errorf("verdict (-want +got):\n%s", diff)
	}
}

func TestInstallsFromLines_SkipsMessages(t *testing.T) {
	lines, _ := check.ParseLogText(`
{peer_id:2, view_id: 2, leader: 1, memb_list: [1,2]}
{peer_id:2, view_id: 2, leader: 1, message:"peer 1 (leader) unreachable"}
{peer_id:2, view_id: 3, leader: 2, memb_list: [2]}
`)
	want := []check.Install{
		{Peer: 2, View: protocol.View{ID: 2, Members: []protocol.PeerID{1, 2}}},
		{Peer: 2, View: protocol.View{ID: 3, Members: []protocol.PeerID{2}}},
	}
	if diff := cmp.Diff(want, check.InstallsFromLines(lines)); diff != "" {
		t.Errorf("installs (-want +got):\n%s", diff)
	}
}
