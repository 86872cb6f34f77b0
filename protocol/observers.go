package protocol

import (
	"cmp"
	"slices"
	"time"
)

// This file holds who watches whom (section 5 of docs/design.md).
//
// In a view of at most Config.Observers+1 members every member watches
// every other, as the seed does: each heartbeats all the others, and each
// logs "unreachable" for a crashed one. In a larger view each member is
// watched by Observers others only, so that a member's load does not grow
// with the view: the members stand on a ring ordered by a hash of their
// ids, and each watches the Observers members that follow it there (its
// subjects) and heartbeats the Observers members that precede it (its
// watchers). Every member thus watches Observers members and is watched by
// as many.
//
// Why a hash of the id alone, and not of the view id too: the ring then
// stays as it was from one view to the next but for the member that came
// or went, so a change disturbs the watch of its 2*Observers neighbours
// only, each of which gives its new subjects a full SuspectAfter of grace.
// Were the ring drawn anew at every view, every change would move every
// watch, and a crash during a burst of joins could go unseen for as long
// as the joins lasted. The hash still spreads neighbours in id (peers
// started together, or on one rack) around the ring.

// watchState is what a member knows about who watches whom in a large view,
// and the reports it holds from the others.
type watchState struct {
	// ring holds the installed view's members by ringKey, then id, while
	// the view is larger than Observers+1; nil otherwise. subjects are the
	// members this peer times, watchers those it heartbeats: in a small
	// view both are every other member, by id; in a large one the
	// Observers members after this peer on the ring, and the Observers
	// before it (nearest first). All three are derived from the view and
	// the config: AppendState leaves them out.
	ring     []PeerID
	subjects []PeerID
	watchers []PeerID
	// reportAt holds, by member, when its report (detector.reports) was last
	// refreshed. In a large view a member reports only while it suspects
	// someone, or has just stopped to: a report not refreshed within
	// reportTTL lapses, so that a lost last word does not stand forever.
	reportAt []time.Duration
	// reporting holds the members whose report names anyone: derived from
	// detector.reports.
	reporting countedSet
	// found is reviewAgreementByRing's scratch set, empty between steps.
	found countedSet
	// reportUntil is when this peer stops sending its report to the
	// leader and the line of succession after its suspicions last
	// changed (see sendReports).
	reportUntil time.Duration
}

func newWatchState(universe int) watchState {
	return watchState{reportAt: make([]time.Duration, universe+1), reporting: newCountedSet(universe), found: newCountedSet(universe)}
}

func (w watchState) clone() watchState {
	c := w
	c.ring = slices.Clone(w.ring)
	c.subjects = slices.Clone(w.subjects)
	c.watchers = slices.Clone(w.watchers)
	c.reportAt = slices.Clone(w.reportAt)
	c.reporting = w.reporting.clone()
	c.found = w.found.clone()
	return c
}

// ringKey places peer q on the ring: a fixed mix of its id (splitmix64's
// finaliser), the same at every peer and in every view.
func ringKey(q PeerID) uint64 {
	z := uint64(q) + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// ringOrder orders peers on the ring.
func ringOrder(a, b PeerID) int {
	if c := cmp.Compare(ringKey(a), ringKey(b)); c != 0 {
		return c
	}
	return cmp.Compare(a, b)
}

// watchesAll reports whether every member of the installed view watches
// every other: a view of at most Observers+1 members.
func (p *Peer) watchesAll() bool { return len(p.acc.view.Members) <= p.cfg.Observers+1 }

// rewatch brings the ring, the subjects and the watchers in line with the
// installed view, made by c from old, the view before. A member that becomes a
// subject of this peer gets a full SuspectAfter of grace: it heartbeats
// this peer only once it holds the new view itself. A member suspected
// that is no longer a subject is forgotten: nobody here times it any more.
func (p *Peer) rewatch(old View, c Change) {
	w := &p.fd.watch
	oldSubjects := w.subjects
	switch {
	case !p.isMember():
		w.ring, w.subjects, w.watchers = nil, nil, nil
	case p.watchesAll():
		w.ring = nil
		w.subjects = withoutMember(p.acc.view.Members, p.id)
		w.watchers = w.subjects
	default:
		if w.ring == nil {
			w.ring = slices.Clone(p.acc.view.Members)
			slices.SortFunc(w.ring, ringOrder)
		} else {
			p.diffViews(old, p.acc.view, c, w.addToRing, w.deleteFromRing)
		}
		w.subjects = p.ringWalk(nil, p.id, 1)
		w.watchers = p.ringWalk(nil, p.id, -1)
	}
	for _, q := range w.subjects {
		if !slices.Contains(oldSubjects, q) {
			p.fd.lastHeard[q] = max(p.fd.lastHeard[q], p.now)
		}
	}
	for _, q := range oldSubjects {
		if p.fd.suspected.has(q) && !slices.Contains(w.subjects, q) {
			p.fd.suspected.del(q)
		}
	}
}

// watches reports whether this peer times q's heartbeats; before rewatch,
// in the view it held before.
func (p *Peer) watches(q PeerID) bool { return slices.Contains(p.fd.watch.subjects, q) }

// addToRing puts q on the ring, where its key places it.
func (w *watchState) addToRing(q PeerID) {
	if k, ok := slices.BinarySearchFunc(w.ring, q, ringOrder); !ok {
		w.ring = slices.Insert(w.ring, k, q)
	}
}

// deleteFromRing takes q off the ring.
func (w *watchState) deleteFromRing(q PeerID) {
	if k, ok := slices.BinarySearchFunc(w.ring, q, ringOrder); ok {
		w.ring = slices.Delete(w.ring, k, k+1)
	}
}

// ringWalk appends to dst the Observers members met walking the ring from
// member q in direction step (+1: its subjects, -1: its watchers), nearest
// first. q must be on the ring.
func (p *Peer) ringWalk(dst []PeerID, q PeerID, step int) []PeerID {
	ring := p.fd.watch.ring
	at, _ := slices.BinarySearchFunc(ring, q, ringOrder)
	n := len(ring)
	for i := 1; i <= p.cfg.Observers && i < n; i++ {
		dst = append(dst, ring[((at+step*i)%n+n)%n])
	}
	return dst
}

// setReport records what member o suspects, as its heartbeat says.
func (p *Peer) setReport(o PeerID, report []PeerID) {
	p.fd.reports[o] = report
	p.fd.watch.reportAt[o] = p.now
	if len(report) > 0 {
		p.fd.watch.reporting.add(o)
	} else {
		p.fd.watch.reporting.del(o)
	}
}

// reportTTL is how long a report stands in a large view without being
// refreshed: a reporter re-sends it every HeartbeatInterval, so this
// outlasts three lost in a row.
func (p *Peer) reportTTL() time.Duration { return 2 * p.cfg.SuspectAfter }

// expireReports drops the reports of a large view that lapsed.
func (p *Peer) expireReports() {
	w := &p.fd.watch
	for o := PeerID(1); !w.reporting.empty() && int(o) <= p.universe; o++ {
		if w.reporting.has(o) && p.now-w.reportAt[o] >= p.reportTTL() {
			p.setReport(o, nil)
		}
	}
}

// lineOfSuccession returns the lowest members of a large view, who get
// every report beside the leader: the members next in line to lead must
// learn that the leader, and those before them in line, failed, though
// they watch none of them. It holds a majority of the view, so that any
// minority of crashes leaves one of them alive, but no more than
// 2*Observers+1 members, so that a report costs about two heartbeat
// rounds in a view of any size: past 4*Observers+1 members, the line
// fails whole only when its 2*Observers+1 members all fail at once.
//
// The leader and the members of the line also heartbeat one another,
// whatever they suspect: silence between them means what it says, which
// next in line relies on when nobody is left to watch a member before it
// (presumedFailed).
func (p *Peer) lineOfSuccession() []PeerID {
	n := len(p.acc.view.Members)
	return p.acc.view.Members[:min(n/2+1, 2*p.cfg.Observers+1)]
}

// inLineOfSuccession reports whether this peer leads a large view or
// stands in its line of succession.
func (p *Peer) inLineOfSuccession() bool {
	if p.role == roleLeader {
		return true
	}
	_, in := slices.BinarySearch(p.lineOfSuccession(), p.id)
	return in
}

// unwatched reports whether every observer of q is agreed failed, here in
// a large view: nobody is left to tell whether q is alive until the ring
// gives it new observers, which takes a leader to remove the failed ones.
func (p *Peer) unwatched(q PeerID) bool {
	// With nobody agreed failed, everyone is watched: the common case,
	// asked after every event, costs no walk of the ring.
	return !p.watchesAll() && !p.fd.agreed.empty() && p.unwatchedGiven(q, &p.fd.agreed)
}

// unwatchedGiven reports whether every observer of q on the ring is in
// failed.
func (p *Peer) unwatchedGiven(q PeerID, failed *countedSet) bool {
	var buf [16]PeerID
	for _, o := range p.ringWalk(buf[:0], q, -1) {
		if o == p.id || !failed.has(o) {
			return false
		}
	}
	return true
}

// sendReports sends this peer's suspicions to the leader it follows and to
// the line of succession, but for skip (those its heartbeat round reaches
// anyway) and itself.
func (p *Peer) sendReports(suspects []PeerID, skip []PeerID) {
	to := func(q PeerID) {
		if q != p.id && p.acc.view.Contains(q) && !slices.Contains(skip, q) {
			p.heartbeatTo(q, suspects)
		}
	}
	line := p.lineOfSuccession()
	if _, inLine := slices.BinarySearch(line, p.acc.leader); !inLine {
		to(p.acc.leader)
	}
	for _, q := range line {
		to(q)
	}
}
