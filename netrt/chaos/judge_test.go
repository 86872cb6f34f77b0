//go:build chaos

package chaos

import (
	"fmt"
	"slices"
	"time"

	"github.com/memberly/memberly/check"
	"github.com/memberly/memberly/protocol"
)

// merge returns every peer's entries in one list ordered by time; each
// peer's stay in the order it printed them, which is what S1 judges, even if
// the clock stepped back between two of them.
func merge(all [][]entry) []entry {
	var merged []entry
	heads := make([]int, len(all))
	for {
		next := -1
		for i, lines := range all {
			if heads[i] < len(lines) && (next < 0 || lines[heads[i]].at.Before(all[next][heads[next]].at)) {
				next = i
			}
		}
		if next < 0 {
			return merged
		}
		merged = append(merged, all[next][heads[next]])
		heads[next]++
	}
}

// installs returns the views that merged shows installed, in its order, with
// At counted from start.
func installs(merged []entry, start time.Time) []check.Install {
	var ins []check.Install
	for _, e := range merged {
		in, ok := check.InstallFromLine(e.line)
		if !e.parsed || !ok {
			continue
		}
		in.At = e.at.Sub(start)
		ins = append(ins, in)
	}
	return ins
}

// badLines returns a description of each line that is not what a peer
// should print: a garbled note, or a note in another peer's name.
func badLines(merged []entry) []string {
	var bad []string
	for _, e := range merged {
		switch {
		case !e.parsed && e.looksLikeNote():
			bad = append(bad, fmt.Sprintf("peer %d printed a garbled log line: %q", e.peer, e.text))
		case e.parsed && int(e.line.Peer) != e.peer:
			bad = append(bad, fmt.Sprintf("peer %d printed a log line as peer %d: %q", e.peer, e.line.Peer, e.text))
		}
	}
	return bad
}

// views tracks each peer's view as its log lines tell it: its last view
// line, until it prints that it was removed or is crashing.
type views map[int]protocol.Line

func (v views) apply(e entry) {
	if !e.parsed {
		return
	}
	switch {
	case e.line.IsView():
		v[e.peer] = e.line
	case e.line.Message == protocol.MessageRemoved, e.line.Message == protocol.MessageCrashing:
		delete(v, e.peer)
	}
}

// agree reports whether every peer of live holds one view, the same, whose
// members are exactly live (ascending).
func (v views) agree(live []int) bool {
	if len(live) == 0 {
		return false
	}
	first, ok := v[live[0]]
	if !ok || len(first.Members) != len(live) {
		return false
	}
	for i, m := range first.Members {
		if int(m) != live[i] {
			return false
		}
	}
	for _, p := range live[1:] {
		if l, ok := v[p]; !ok || l.ViewID != first.ViewID {
			return false
		}
	}
	return true
}

// agreedAt returns the first moment from from on at which the live peers
// (ascending) agree on a view of exactly them: from itself if they already
// do then, else the time of the line that made them.
func agreedAt(merged []entry, live []int, from time.Time) (time.Time, bool) {
	v := views{}
	i := 0
	for ; i < len(merged) && !merged[i].at.After(from); i++ {
		v.apply(merged[i])
	}
	if v.agree(live) {
		return from, true
	}
	for ; i < len(merged); i++ {
		v.apply(merged[i])
		if v.agree(live) {
			return merged[i].at, true
		}
	}
	return time.Time{}, false
}

// removal is a peer left out of a view.
type removal struct {
	view protocol.ViewID
	peer protocol.PeerID
}

func (r removal) String() string { return fmt.Sprintf("view %d removed peer %d", r.view, r.peer) }

// falseRemovals returns the removals of peers that never crashed, each
// once: for every view any peer installed, the peers of the view installed
// before it (by id) that it leaves out, unless crashed holds them.
func falseRemovals(merged []entry, crashed map[int]bool) []removal {
	members := map[protocol.ViewID][]protocol.PeerID{}
	for _, e := range merged {
		if e.parsed && e.line.IsView() {
			if _, seen := members[e.line.ViewID]; !seen {
				members[e.line.ViewID] = e.line.Members
			}
		}
	}
	ids := make([]protocol.ViewID, 0, len(members))
	for id := range members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var found []removal
	for i := 1; i < len(ids); i++ {
		for _, p := range members[ids[i-1]] {
			if !slices.Contains(members[ids[i]], p) && !crashed[int(p)] {
				found = append(found, removal{view: ids[i], peer: p})
			}
		}
	}
	return found
}

// suspicions counts the "peer N unreachable" lines printed from from on.
func suspicions(merged []entry, from time.Time) int {
	n := 0
	for _, e := range merged {
		if _, _, ok := check.Unreachable(e.line); ok && e.parsed && !e.at.Before(from) {
			n++
		}
	}
	return n
}

// viewsDecided counts the distinct views installed from from on.
func viewsDecided(merged []entry, from time.Time) int {
	seen := map[protocol.ViewID]bool{}
	for _, e := range merged {
		if e.parsed && e.line.IsView() && !e.at.Before(from) {
			seen[e.line.ViewID] = true
		}
	}
	return len(seen)
}
