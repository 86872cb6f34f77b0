package netrt

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

func TestTimers_ReplaceCancelAndOrder(t *testing.T) {
	ts := newTimers()
	defer ts.stop()
	arm := func(k protocol.TimerKind, gen uint64, after time.Duration) {
		ts.apply(0, protocol.TimerRequest{Timer: protocol.Timer{Kind: k, Gen: gen}, After: after})
	}
	arm(protocol.TimerHeartbeat, 1, 30*time.Millisecond)
	arm(protocol.TimerRetry, 1, 10*time.Millisecond)
	arm(protocol.TimerJoin, 1, 20*time.Millisecond)
	arm(protocol.TimerHeartbeat, 2, 5*time.Millisecond) // replaces gen 1
	ts.apply(0, protocol.TimerRequest{Timer: protocol.Timer{Kind: protocol.TimerJoin, Gen: 2}, Cancel: true})
	arm(protocol.TimerLeave, 1, time.Hour)

	got := ts.takeDue(time.Second)
	want := []protocol.Timer{{Kind: protocol.TimerHeartbeat, Gen: 2}, {Kind: protocol.TimerRetry, Gen: 1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("due timers (-want +got):\n%s", diff)
	}
	if got := ts.takeDue(time.Second); len(got) != 0 {
		t.Errorf("timers due twice: %v", got)
	}
}

func TestTimers_ClockFiresAtEarliest(t *testing.T) {
	ts := newTimers()
	defer ts.stop()
	ts.apply(0, protocol.TimerRequest{Timer: protocol.Timer{Kind: protocol.TimerRetry, Gen: 1}, After: time.Hour})
	ts.apply(0, protocol.TimerRequest{Timer: protocol.Timer{Kind: protocol.TimerJoin, Gen: 1}, After: time.Millisecond})
	ts.reset(0)
	select {
	case <-ts.clock.C:
	case <-time.After(waitTimeout):
		t.Fatal("the clock never fired for the earliest timer")
	}
}

// TestTimers_HugeAfterNeverFires: an After near the largest duration, as
// a "never" on the command line gives, must not wrap around into the past.
func TestTimers_HugeAfterNeverFires(t *testing.T) {
	ts := newTimers()
	defer ts.stop()
	now := time.Hour
	ts.apply(now, protocol.TimerRequest{Timer: protocol.Timer{Kind: protocol.TimerRetry, Gen: 1}, After: math.MaxInt64 - time.Minute})
	ts.apply(now, protocol.TimerRequest{Timer: protocol.Timer{Kind: protocol.TimerJoin, Gen: 1}, After: -time.Second})
	got := ts.takeDue(now + time.Hour)
	want := []protocol.Timer{{Kind: protocol.TimerJoin, Gen: 1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("due timers (-want +got):\n%s", diff)
	}
}
