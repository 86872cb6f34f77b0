package sim_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/sim"
)

// run runs an embedded scenario at seed 1 and returns its result and its
// printed run.
func run(t *testing.T, name string) (sim.Result, string) {
	t.Helper()
	var out strings.Builder
	r := sim.Run(load(name), sim.Options{Seed: 1, Out: &out})
	if r.Verdict != sim.Pass {
		t.Fatalf("%s: %s %s: %s\n%s", name, r.Verdict, r.Property, r.Detail, out.String())
	}
	return r, out.String()
}

// wantLines fails unless every line of want appears in out, in order.
func wantLines(t *testing.T, out string, want ...string) {
	t.Helper()
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("missing, or out of order: %q\n%s", w, out)
		}
		rest = rest[i+len(w):]
	}
}

// A crash between a state write and its fsync loses the write and
// everything the step would have done; the peer comes back from the state
// before it.
func TestDisk_CrashBeforeFsyncLosesTheWrite(t *testing.T) {
	_, out := run(t, "durable-crash-before-fsync")
	wantLines(t, out,
		"before the fsync: kill [3]",
		"p3's state write is lost, and with it OK p3->p1",
		"restart p3 from its state file (incarnation 1, view 3, promise (0,1))",
		"p1's state write is lost, and with it REDIRECT p1->p5, REQ p1->p2",
		"restart p1 from its state file (incarnation 1, view 4, promise (0,1))",
		`p1 {peer_id:1, view_id: 6, leader: 2, message:"removed from view"}`,
	)
}

// A crash right after the fsync keeps the state and loses the messages:
// the leader killed as its REQ leaves comes back holding its own
// acceptance, and decides it.
func TestDisk_CrashAfterFsyncKeepsTheState(t *testing.T) {
	r, out := run(t, "durable-crash-after-fsync")
	wantLines(t, out,
		"p1 ended before sending REQ p1->p2",
		"restart p1 from its state file (incarnation 1, view 4, promise (0,1))",
		"p1 {peer_id:1, view_id: 5, leader: 1, memb_list: [1,2,3,4,5]}",
	)
	if strings.Contains(out, "state write is lost") {
		t.Errorf("a crash after the fsync lost a write:\n%s", out)
	}
	for _, p := range r.Final {
		if p.View.ID != 5 {
			t.Errorf("p%d ends at view %d, want 5: no view was decided twice or skipped", p.ID, p.View.ID)
		}
	}
}

// A damaged state file is refused at every start, and its peer stays
// down rather than come back as a member that forgot.
func TestDisk_DamagedFileKeepsThePeerDown(t *testing.T) {
	r, out := run(t, "durable-corrupt-state")
	wantLines(t, out,
		"p3 refuses its state file (restart): state file is corrupt",
		"p4 refuses its state file (restart): state file is corrupt",
	)
	down := map[protocol.PeerID]bool{}
	for _, p := range r.Final {
		down[p.ID] = !p.Alive
	}
	want := map[protocol.PeerID]bool{1: false, 2: false, 3: true, 4: true, 5: false}
	if diff := cmp.Diff(want, down); diff != "" {
		t.Errorf("down at the end (-want +got):\n%s", diff)
	}
}

// A crash-stop scenario stores nothing, and a restart is a new process
// under a new incarnation; the same scenario with durable peers resumes.
func TestDisk_CrashStopStoresNothing(t *testing.T) {
	sc := load("durable-majority-restart")
	for _, durable := range []bool{false, true} {
		sc.Timing.Durable = durable
		var out strings.Builder
		sim.Run(sc, sim.Options{Seed: 1, Out: &out})
		resumed := strings.Contains(out.String(), "** restart p1 from its state file")
		fresh := strings.Contains(out.String(), "restart p1 (incarnation 2)")
		if resumed != durable || fresh == durable {
			t.Errorf("durable %v: resumed %v, fresh restart %v", durable, resumed, fresh)
		}
	}
}
