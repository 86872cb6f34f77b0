package sim

import (
	"slices"
	"time"

	"github.com/memberly/memberly/scenarios"
)

// KeepFounderReachable moves each restart of peer 1 out of the partitions
// that involve it, to the moment they heal (and drops it when they never
// do before the liveness phase, which restarts crashed peers itself).
//
// A restarted peer 1 asks every host whether a cluster exists, and founds
// one when nobody answers within its join-retry interval: cut off from
// every member of the running cluster, it founds a second one whose view
// ids collide with the first's. That is a limit of peers without stored
// state (docs/design.md), not a bug the random schedules should keep
// finding; every other fault still applies to a restarted peer 1.
func KeepFounderReachable(sc *scenarios.Scenario) {
	asking := sc.Timing.JoinRetryInterval + sc.Timing.RetryInterval
	healAt := time.Duration(-1)
	if sc.Liveness != nil {
		healAt = sc.Liveness.HealAt
	}
	kept := sc.Timeline[:0]
	for _, a := range sc.Timeline {
		if a.Kind == scenarios.ActRestart && slices.Contains(a.Peers, 1) {
			at, ok := founderFreeAt(sc.Timeline, a.At, asking, healAt)
			if !ok {
				continue
			}
			a.At = at
		}
		kept = append(kept, a)
	}
	sc.Timeline = kept
}

// founderFreeAt returns the first moment from at on when no partition
// involving peer 1 is in force for the following span, or false when that
// moment never comes before healAt (-1: no heal).
func founderFreeAt(timeline []scenarios.Action, at, span, healAt time.Duration) (time.Duration, bool) {
	for moved := true; moved; {
		moved = false
		for _, p := range timeline {
			if !involvesFounder(p) {
				continue
			}
			end := p.Until
			if end == 0 {
				if healAt < 0 {
					return 0, false
				}
				end = healAt
			}
			if p.At < at+span && at < end {
				// Just after the heal, not at its very moment.
				at, moved = end+time.Millisecond, true
			}
		}
	}
	if healAt >= 0 && at >= healAt {
		return 0, false
	}
	return at, true
}

// involvesFounder reports whether p is a partition that may cut a link of
// peer 1: any isolation (of peer 1, or of a peer it must reach), a split
// that lists it, a cut from or to it.
func involvesFounder(p scenarios.Action) bool {
	switch p.Kind {
	case scenarios.ActIsolate:
		return true
	case scenarios.ActCut:
		return p.From == 1 || p.To == 1
	case scenarios.ActSplit:
		for _, g := range p.Groups {
			if slices.Contains(g, 1) {
				return true
			}
		}
	}
	return false
}
