package netrt

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/memberly/memberly/protocol"
)

// timers holds the peer's armed timers, at most one per kind, and drives
// them with a single time.Timer set to the earliest deadline. Arming a
// kind replaces its deadline, so a replaced timer can never fire; a fire
// that is stale anyway (it raced a re-arm inside one Step) carries an old
// generation, which the peer ignores.
type timers struct {
	armed map[protocol.TimerKind]armedTimer
	clock *time.Timer
}

type armedTimer struct {
	timer protocol.Timer
	at    time.Duration // since the runtime started
}

func newTimers() timers {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return timers{armed: map[protocol.TimerKind]armedTimer{}, clock: t}
}

// apply carries out one request made by a Step at now.
func (t *timers) apply(now time.Duration, req protocol.TimerRequest) {
	if req.Cancel {
		delete(t.armed, req.Timer.Kind)
		return
	}
	at := now + req.After
	if req.After > 0 && at < now {
		// An After near the largest duration ("never") overflows:
		// never it is.
		at = math.MaxInt64
	}
	t.armed[req.Timer.Kind] = armedTimer{timer: req.Timer, at: at}
}

// reset sets the clock for the earliest deadline, or stops it.
func (t *timers) reset(now time.Duration) {
	if len(t.armed) == 0 {
		t.clock.Stop()
		return
	}
	next := time.Duration(-1)
	for _, a := range t.armed {
		if next < 0 || a.at < next {
			next = a.at
		}
	}
	// Since Go 1.23 Reset discards a fire of the old setting that was not
	// received yet, so the channel only ever reports this deadline.
	t.clock.Reset(max(next-now, 0))
}

// takeDue disarms and returns the timers due at now, earliest first.
func (t *timers) takeDue(now time.Duration) []protocol.Timer {
	var due []armedTimer
	for k, a := range t.armed {
		if a.at <= now {
			due = append(due, a)
			delete(t.armed, k)
		}
	}
	slices.SortFunc(due, func(a, b armedTimer) int {
		if c := cmp.Compare(a.at, b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.timer.Kind, b.timer.Kind)
	})
	out := make([]protocol.Timer, len(due))
	for i, a := range due {
		out[i] = a.timer
	}
	return out
}

// stop stops the clock for good.
func (t *timers) stop() { t.clock.Stop() }
