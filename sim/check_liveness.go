package sim

import (
	"fmt"
	"slices"
	"strings"

	"github.com/memberly/memberly/protocol"
)

// check runs one of the checks Run scheduled.
func (w *world) check(which checkKind) {
	switch which {
	case checkExpect:
		if d := w.expectation(); d != "" {
			w.fail(LivenessFailure, "expect", d)
		} else if d := w.checkFalseRemovals(); d != "" {
			w.fail(LivenessFailure, "expect", d)
		}
	case checkHeal:
		w.heal()
	case checkKeepDown:
		w.keepDown()
	case checkLiveness:
		if d := w.converged(); d != "" {
			w.fail(LivenessFailure, "L1", d)
		}
	}
}

// expectation reports how the live peers miss the scenario's expectation,
// or "": every live peer of the expected view holds it and follows the
// expected leader, and every other live peer holds no view (it was removed
// and stays out, as an evicted peer with rejoin off does).
func (w *world) expectation() string {
	e := w.sc.Expect
	var bad []string
	for _, sp := range w.peers[1:] {
		if !sp.alive {
			continue
		}
		v, l := sp.p.View(), sp.p.Leader()
		switch {
		case e.View != nil && !slices.Contains(e.View, sp.id):
			if v.ID != 0 {
				bad = append(bad, fmt.Sprintf("p%d holds %s, though it should be out", sp.id, v))
			}
		case (e.View != nil && !slices.Equal(v.Members, e.View)) || (e.Leader != 0 && l != e.Leader):
			bad = append(bad, fmt.Sprintf("p%d holds %s led by %d", sp.id, v, l))
		}
	}
	if len(bad) == 0 {
		return ""
	}
	want := "view " + protocol.FormatMembers(e.View)
	if e.Leader != 0 {
		want += fmt.Sprintf(" led by %d", e.Leader)
	}
	return fmt.Sprintf("by %v every live peer should hold %s; %s", e.Within, want, strings.Join(bad, "; "))
}

// converged reports how the run misses L1 (every live peer holds one view
// whose members are exactly the live peers), or "".
func (w *world) converged() string {
	var live []protocol.PeerID
	for _, sp := range w.peers[1:] {
		if sp.alive {
			live = append(live, sp.id)
		}
	}
	var first protocol.View
	for _, sp := range w.peers[1:] {
		if !sp.alive {
			continue
		}
		v := sp.p.View()
		if first.ID == 0 {
			first = v
		}
		if v.ID == 0 || v.ID != first.ID || !slices.Equal(v.Members, live) {
			return fmt.Sprintf("%v after the heal, the live peers %s do not share one view holding them all: %s",
				w.sc.Liveness.Within, protocol.FormatMembers(live), w.describeViews())
		}
	}
	return ""
}

// describeViews lists every peer's view and leader.
func (w *world) describeViews() string {
	var s []string
	for _, sp := range w.peers[1:] {
		switch {
		case !sp.alive:
			s = append(s, fmt.Sprintf("p%d down", sp.id))
		case sp.p.View().ID == 0:
			s = append(s, fmt.Sprintf("p%d outside (leader %d)", sp.id, sp.p.Leader()))
		default:
			s = append(s, fmt.Sprintf("p%d %s leader %d", sp.id, sp.p.View(), sp.p.Leader()))
		}
	}
	return strings.Join(s, ", ")
}
