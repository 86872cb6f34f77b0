package sim_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
	"github.com/memberly/memberly/sim"
)

// threePeers starts a cluster of three, all joined well before 10 s; each
// test adds its timeline entries.
const threePeers = `peers: 3
timeline:
  - {at: 0s, start: [1]}
  - {at: 1s, start: [2]}
  - {at: 2s, start: [3]}
`

// runText parses a scenario written out in a test and runs it with a trace.
func runText(t *testing.T, text string) sim.Result {
	t.Helper()
	sc, err := scenarios.Parse("test.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return sim.Run(sc, sim.Options{Seed: 1, Trace: true})
}

// faults lists the trace's faults as "time reason".
func faults(trace []sim.TraceEvent) []string {
	var s []string
	for _, ev := range trace {
		if ev.Kind == sim.TraceFault {
			s = append(s, ev.Time.String()+" "+ev.Reason)
		}
	}
	return s
}

// activity lists when peer did anything (sent, handled or noted), within
// [from, to).
func activity(trace []sim.TraceEvent, peer protocol.PeerID, from, to time.Duration) []sim.TraceEvent {
	var evs []sim.TraceEvent
	for _, ev := range trace {
		if ev.Peer == peer && ev.Kind != sim.TraceFault && ev.Kind != sim.TraceDrop && ev.Time >= from && ev.Time < to {
			evs = append(evs, ev)
		}
	}
	return evs
}

func TestPause_HoldsInboxAndTimersUntilResume(t *testing.T) {
	r := runText(t, threePeers+"  - {at: 10s, pause: 3, until: 11.5s}\nexpect: {view: [1, 2, 3], leader: 1, within: 20s}\n")
	if r.Verdict != sim.Pass {
		t.Fatalf("%s %s: %s", r.Verdict, r.Property, r.Detail)
	}
	if evs := activity(r.Trace, 3, 10*time.Second+1, 11500*time.Millisecond); len(evs) != 0 {
		t.Errorf("paused p3 did something: %+v", evs[0])
	}
	// What waited is handled at 11.5 s, in the order it came.
	var held []uint64
	sent := map[uint64]time.Duration{}
	for _, ev := range r.Trace {
		switch {
		case ev.Kind == sim.TraceSend:
			sent[ev.MsgID] = ev.Time
		case ev.Kind == sim.TraceDeliver && ev.Peer == 3 && ev.Time == 11500*time.Millisecond:
			held = append(held, ev.MsgID)
		}
	}
	if len(held) == 0 {
		t.Fatal("no message to p3 was held and handled at 11.5s")
	}
	for i, id := range held {
		if at := sent[id]; at < 10*time.Second || at >= 11500*time.Millisecond {
			t.Errorf("message %d handled at the resume was sent at %v, outside the pause", id, at)
		}
		if i > 0 && sent[id] < sent[held[i-1]] {
			t.Errorf("held messages handled out of order: %d (sent %v) after %d (sent %v)", id, sent[id], held[i-1], sent[held[i-1]])
		}
	}
	// The count of inputs covers the timer fires too, which the trace
	// does not show: only the messages are checked.
	got := faults(r.Trace)[3:]
	if len(got) == 2 {
		got[1] = regexp.MustCompile(`\d+ inputs`).ReplaceAllString(got[1], "N inputs")
	}
	want := []string{"10s pause p3 until 11.5s", "11.5s resume p3: N inputs waited"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("faults (-want +got):\n%s", diff)
	}
}

// TestPause_LongPauseRemovesAndRejoins: stopped for longer than
// suspect_after, the leader is replaced; when it continues it learns it
// was removed and joins again.
func TestPause_LongPauseRemovesAndRejoins(t *testing.T) {
	r := runText(t, threePeers+"  - {at: 10s, pause: 1, until: 16s}\nexpect: {view: [1, 2, 3], leader: 2, within: 30s}\n")
	if r.Verdict != sim.Pass {
		t.Fatalf("%s %s: %s", r.Verdict, r.Property, r.Detail)
	}
}

func TestPause_KillEndsThePause(t *testing.T) {
	r := runText(t, threePeers+`  - {at: 10s, pause: 3, until: 20s}
  - {at: 12s, kill: [3]}
  - {at: 13s, restart: [3]}
expect: {view: [1, 2, 3], within: 19s}
`)
	if r.Verdict != sim.Pass {
		t.Fatalf("%s %s: %s", r.Verdict, r.Property, r.Detail)
	}
	if evs := activity(r.Trace, 3, 13*time.Second, 14*time.Second); len(evs) == 0 {
		t.Error("the restarted p3 is still paused")
	}
	for _, f := range faults(r.Trace) {
		if strings.Contains(f, "resume") {
			t.Errorf("a pause of the killed process ended a pause of the new one: %s", f)
		}
	}
}

func TestPause_LeaveWaitsForResume(t *testing.T) {
	r := runText(t, threePeers+`  - {at: 10s, pause: 3, until: 12s}
  - {at: 11s, leave: [3]}
expect: {view: [1, 2], leader: 1, within: 20s}
`)
	if r.Verdict != sim.Pass {
		t.Fatalf("%s %s: %s", r.Verdict, r.Property, r.Detail)
	}
	for _, ev := range r.Trace {
		if ev.Kind == sim.TraceSend && ev.Msg.Type == protocol.MsgLeave {
			if ev.Time != 12*time.Second {
				t.Errorf("p3 sent LEAVE at %v, want at the resume, 12s", ev.Time)
			}
			return
		}
	}
	t.Error("p3 never sent LEAVE")
}

// TestPause_HealResumes: the liveness phase lets a peer paused for good
// continue.
func TestPause_HealResumes(t *testing.T) {
	r := runText(t, threePeers+"  - {at: 10s, pause: 2}\nexpect: {within: 20s}\nliveness: {heal_at: 20s, within: 30s}\n")
	if r.Verdict != sim.Pass {
		t.Fatalf("%s %s: %s", r.Verdict, r.Property, r.Detail)
	}
	if evs := activity(r.Trace, 2, 10*time.Second+1, 20*time.Second); len(evs) != 0 {
		t.Errorf("paused p2 did something: %+v", evs[0])
	}
	if evs := activity(r.Trace, 2, 20*time.Second, 21*time.Second); len(evs) == 0 {
		t.Error("p2 did not continue at the heal")
	}
}
