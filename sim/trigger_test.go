package sim_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/sim"
)

// firstFault returns the first fault whose reason starts with prefix.
func firstFault(t *testing.T, trace []sim.TraceEvent, prefix string) sim.TraceEvent {
	t.Helper()
	for _, ev := range trace {
		if ev.Kind == sim.TraceFault && strings.HasPrefix(ev.Reason, prefix) {
			return ev
		}
	}
	t.Fatalf("no fault starting with %q in:\n%s", prefix, strings.Join(faults(trace), "\n"))
	return sim.TraceEvent{}
}

// sends lists the messages of type ty sent in [from, to), as "time from->to".
func sends(trace []sim.TraceEvent, ty protocol.MsgType, from, to time.Duration) []sim.TraceEvent {
	var evs []sim.TraceEvent
	for _, ev := range trace {
		if ev.Kind == sim.TraceSend && ev.Msg.Type == ty && ev.Time >= from && ev.Time < to {
			evs = append(evs, ev)
		}
	}
	return evs
}

// TestTrigger_KillBeforeNewViewLeaves: the leader decides, installs its
// view, and is killed before a single NEWVIEW leaves.
func TestTrigger_KillBeforeNewViewLeaves(t *testing.T) {
	r := runText(t, threePeers+`  - {at: 10s, kill: [1], after: {type: NEWVIEW, from: 1}}
  - {at: 10s, evict: 3}
expect: {within: 20s}
`)
	if r.Verdict != sim.Pass {
		t.Fatalf("%s %s: %s", r.Verdict, r.Property, r.Detail)
	}
	kill := firstFault(t, r.Trace, "kill p1")
	if evs := sends(r.Trace, protocol.MsgNewView, 10*time.Second, 20*time.Second); len(evs) > 0 && evs[0].Msg.From == 1 {
		t.Errorf("p1 sent NEWVIEW at %v, after its trigger killed it at %v", evs[0].Time, kill.Time)
	}
	installed := false
	for _, ev := range r.Trace {
		if ev.Kind == sim.TraceNote && ev.Peer == 1 && ev.Note.Kind == protocol.NoteViewInstalled && ev.Time == kill.Time {
			installed = true
		}
	}
	if !installed {
		t.Errorf("p1 did not install the view it decided before it was killed at %v", kill.Time)
	}
	want := []string{"trigger: NEWVIEW p1->p2 about to leave; now: kill [1]", "kill p1", "p1 ended before sending NEWVIEW p1->p2, NEWVIEW p1->p3"}
	var got []string
	for _, ev := range r.Trace {
		if ev.Kind == sim.TraceFault && ev.Time == kill.Time {
			got = append(got, ev.Reason)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("faults at the kill (-want +got):\n%s", diff)
	}
}

// TestTrigger_CrashOfSenderLosesTheRest: a crash too stops the step's
// messages from the matching one on, but prints "crashing".
func TestTrigger_CrashOfSenderLosesTheRest(t *testing.T) {
	r := runText(t, threePeers+`  - {at: 10s, crash: [1], after: {type: NEWVIEW, from: 1, to: 3}}
  - {at: 10s, evict: 2}
expect: {within: 20s}
`)
	if r.Verdict != sim.Pass {
		t.Fatalf("%s %s: %s", r.Verdict, r.Property, r.Detail)
	}
	crash := firstFault(t, r.Trace, "crash p1")
	var to []protocol.PeerID
	for _, ev := range sends(r.Trace, protocol.MsgNewView, crash.Time, crash.Time+1) {
		if ev.Msg.From == 1 {
			to = append(to, ev.Msg.To)
		}
	}
	// The view [1,3] is sent to 3 and, since 2 was removed, to 2: only
	// the NEWVIEW ahead of the one to 3 left.
	if slices.Contains(to, 3) {
		t.Errorf("p1 sent NEWVIEW to p3 though it crashed as it was about to: sent to %v", to)
	}
	crashing := false
	for _, ev := range r.Trace {
		if ev.Kind == sim.TraceNote && ev.Peer == 1 && ev.Note.Kind == protocol.NoteCrashing {
			crashing = ev.Time == crash.Time
		}
	}
	if !crashing {
		t.Error("p1 did not note crashing when the trigger crashed it")
	}
}

// TestTrigger_DelayedSplitCountsUntilFromWhenItHappens: a link cut 3 ms
// after a REQ lasts until-at from then.
func TestTrigger_DelayedSplitCountsUntilFromWhenItHappens(t *testing.T) {
	r := runText(t, threePeers+`  - {at: 10s, split: [[1], [3]], after: {type: REQ, from: 1, to: 3, delay: 3ms}, until: 11s}
  - {at: 12s, evict: 2}
expect: {view: [1, 2, 3], leader: 1, within: 30s}
`)
	if r.Verdict != sim.Pass {
		t.Fatalf("%s %s: %s", r.Verdict, r.Property, r.Detail)
	}
	trigger := firstFault(t, r.Trace, "trigger: REQ p1->p3 sent; in 3ms: split [1] | [3] until ")
	split := firstFault(t, r.Trace, "split [1] | [3]")
	heal := firstFault(t, r.Trace, "heal: split [1] | [3]")
	if trigger.Time < 12*time.Second {
		t.Errorf("the trigger went off at %v, before the first REQ at 12s", trigger.Time)
	}
	if split.Time != trigger.Time+3*time.Millisecond || heal.Time != split.Time+time.Second {
		t.Errorf("REQ at %v, split at %v, healed at %v: want the split 3ms after the REQ, for 1s", trigger.Time, split.Time, heal.Time)
	}
	if heal.Reason != "heal: "+split.Reason {
		t.Errorf("the heal %q does not name the split %q", heal.Reason, split.Reason)
	}
}

// TestTrigger_ZeroDelayCutStopsTheMessage: a cut that goes off on a
// message applies to that message.
func TestTrigger_ZeroDelayCutStopsTheMessage(t *testing.T) {
	r := runText(t, threePeers+`  - {at: 10s, cut: {from: 1, to: 3}, after: {type: REQ, from: 1, to: 3}, until: 10.5s}
  - {at: 12s, evict: 2}
expect: {view: [1, 2, 3], leader: 1, within: 30s}
`)
	if r.Verdict != sim.Pass {
		t.Fatalf("%s %s: %s", r.Verdict, r.Property, r.Detail)
	}
	req := sends(r.Trace, protocol.MsgReq, 12*time.Second, 20*time.Second)
	i := slices.IndexFunc(req, func(ev sim.TraceEvent) bool { return ev.Msg.To == 3 })
	if i < 0 {
		t.Fatal("p1 sent no REQ to p3")
	}
	for _, ev := range r.Trace {
		if ev.MsgID == req[i].MsgID && ev.Kind != sim.TraceSend {
			if ev.Kind != sim.TraceDrop || ev.Reason != "partition" {
				t.Errorf("the REQ that set the cut off: %s (%s), want dropped by the partition", ev.Kind, ev.Reason)
			}
		}
	}
}

// TestTrigger_PauseHoldsTheRestOfTheStep: a pause that goes off on the
// sender's message stops it before that message leaves; it and the rest
// of the step go out when the sender continues.
func TestTrigger_PauseHoldsTheRestOfTheStep(t *testing.T) {
	r := runText(t, threePeers+`  - {at: 10s, pause: 1, after: {type: REQ, from: 1}, until: 11s}
  - {at: 12s, evict: 3}
expect: {view: [1, 2, 3], leader: 1, within: 30s}
`)
	if r.Verdict != sim.Pass {
		t.Fatalf("%s %s: %s", r.Verdict, r.Property, r.Detail)
	}
	pause := firstFault(t, r.Trace, "pause p1")
	resume := firstFault(t, r.Trace, "resume p1: 2 messages of its last step unsent")
	if resume.Time != pause.Time+time.Second {
		t.Errorf("paused at %v, resumed at %v: want 1s later", pause.Time, resume.Time)
	}
	var to []protocol.PeerID
	for _, ev := range sends(r.Trace, protocol.MsgReq, pause.Time, resume.Time+1) {
		if ev.Time != resume.Time {
			t.Errorf("p1 sent a REQ at %v, while paused from %v to %v", ev.Time, pause.Time, resume.Time)
		}
		to = append(to, ev.Msg.To)
	}
	// The held step's two REQs go first; a held retry may send more.
	if len(to) > 2 {
		to = to[:2]
	}
	if diff := cmp.Diff([]protocol.PeerID{2, 3}, to); diff != "" {
		t.Errorf("first REQs sent at the resume, by receiver (-want +got):\n%s", diff)
	}
}

// TestTrigger_HealDisarms: a trigger that has not gone off by the
// liveness phase never does.
func TestTrigger_HealDisarms(t *testing.T) {
	r := runText(t, threePeers+`  - {at: 10s, kill: [1], after: {type: NEWVIEW, from: 1}}
expect: {within: 20s}
liveness: {heal_at: 20s, within: 10s}
run_for: 40s
`)
	if r.Verdict != sim.Pass {
		t.Fatalf("%s %s: %s", r.Verdict, r.Property, r.Detail)
	}
	for _, f := range faults(r.Trace) {
		if strings.Contains(f, "kill p1") {
			t.Errorf("the trigger went off after the heal: %s", f)
		}
	}
}

// TestTrigger_GoesOffOnce: a drop armed on any message takes one message,
// once.
func TestTrigger_GoesOffOnce(t *testing.T) {
	r := runText(t, threePeers+`  - {at: 10s, drop: {type: HEARTBEAT, count: 1}, after: {from: 2}}
expect: {within: 20s}
`)
	n := 0
	for _, f := range faults(r.Trace) {
		if strings.Contains(f, "trigger:") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the trigger went off %d times, want once:\n%s", n, strings.Join(faults(r.Trace), "\n"))
	}
}
