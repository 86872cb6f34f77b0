package sim

import (
	"fmt"
	"time"

	"github.com/memberly/memberly/protocol"
)

// A false removal is a view that removed a peer which, as far as the
// world knows, was fine: its process kept running since the view that
// last added it, neither paused nor cut off by a partition, and it neither
// left nor was evicted. Loss, duplication, reordering and delay excuse
// nothing: a failure detector must absorb them. The scenario key
// expect.false_removals_max bounds how many a run may decide.

// removals is what the false-removal check remembers.
type removals struct {
	// touched holds, by peer, when a fault last concerned it (a start,
	// crash, kill, restart, pause, partition, leave or eviction); added,
	// when the view that last added it was decided. Both -1 until then.
	touched, added []time.Duration
	count          int    // false removals decided so far
	first          string // the first one, described
}

func newRemovals(n int) removals {
	r := removals{touched: make([]time.Duration, n+1), added: make([]time.Duration, n+1)}
	for i := range r.touched {
		r.touched[i], r.added[i] = -1, -1
	}
	return r
}

// touch records that a fault concerned peer q at now.
func (r *removals) touch(q protocol.PeerID, now time.Duration) {
	if q != 0 && int(q) < len(r.touched) {
		r.touched[q] = now
	}
}

// decided judges the view v, decided at now after prev (the view before
// it): each peer it removes while alive is a false removal unless a fault
// concerned it since it was added.
func (r *removals) decided(prev, v protocol.View, now time.Duration, alive func(protocol.PeerID) bool) {
	for _, q := range prev.Members {
		if v.Contains(q) {
			continue
		}
		if alive(q) && r.touched[q] < r.added[q] {
			r.count++
			if r.first == "" {
				r.first = fmt.Sprintf("view %d removed p%d at %v, which ran untouched by any fault since it was added at %v",
					v.ID, q, now, r.added[q])
			}
		}
	}
	for _, q := range v.Members {
		if !prev.Contains(q) {
			r.added[q] = now
		}
	}
}

// checkFalseRemovals reports how the run exceeds expect.false_removals_max
// by now, or "".
func (w *world) checkFalseRemovals() string {
	m := w.sc.Expect.FalseRemovalsMax
	if m == nil || w.rem.count <= *m {
		return ""
	}
	return fmt.Sprintf("%d false removals by %v, want at most %d; the first: %s", w.rem.count, w.now, *m, w.rem.first)
}
