package protocol

// This file holds how a large view agrees that a member failed (a view of
// more than Observers+1 members; observers.go says who watches whom).
//
// A member q is agreed failed when more than half of its observers that
// are not agreed failed themselves suspect it, and at least one does: this
// peer by its own detector if it observes q, the others by the report they
// last sent here. With the default eight observers and none of them
// failed, that is five. Observers send their reports to the leader, which
// removes q once the agreement has held for confirmWait, and to the line
// of succession, whose members campaign once the leader is agreed failed.
//
// Why a majority of the observers: a crash silences q for all of them
// alike, so all of them speak within a heartbeat of one another; a bad
// link, or a few, between q and some observers makes only those speak,
// and one observer cut off from everyone suspects its subjects alone. So
// fewer than half of q's observers, with bad links to q, never remove it.
//
// Why not count observers agreed failed themselves: members that crash
// together may be each other's observers, and a crashed observer never
// speaks. Counted, they could keep q from ever reaching a majority, and
// with q the leader, nobody would be left to remove any of them: the
// cluster would stay stuck though a majority of it is alive. An observer
// cut off with q by a partition is agreed failed by the observers on the
// other side, so it neither helps nor hinders.
//
// Unlike a small view's rule, silence is not a vote against: an observer
// that suspects nobody sends no report, so that a member's load does not
// grow with the view, and the leader cannot tell its silence from a crash.

// agreedFailedByRing reports whether q is agreed failed, given the
// members failed holds: more than half of q's observers suspect it,
// counting out those that do not and are in failed, or have nobody left
// to watch them (all their own observers in failed): such an observer may
// be dead too, and would then keep q in for good.
//
// A failed observer's vote still counts when it gave one: so a member
// agreed failed only ever makes others more so, never less, and the
// members agreed failed are one well-defined set (the least that holds
// every member the rule names, given the others), whatever the order in
// which they are found.
func (p *Peer) agreedFailedByRing(q PeerID, failed *countedSet) bool {
	if q == p.id || !p.acc.view.Contains(q) {
		return false
	}
	var buf [16]PeerID
	counted, votes := 0, 0
	for _, o := range p.ringWalk(buf[:0], q, -1) {
		switch {
		case o == p.id:
			counted++
			if p.fd.suspected.has(q) {
				votes++
			}
		case reportsSuspicion(p.fd.reports[o], q):
			counted++
			votes++
		case !failed.has(o) && !p.unwatchedGiven(o, failed):
			counted++
		}
	}
	if p.cfg.Mutation == MutationLoneObserver {
		// The broken rule: one observer's word is enough.
		return votes > 0
	}
	return votes > 0 && 2*votes > counted
}

// reviewAgreementByRing is reviewAgreement for a large view. The members
// agreed failed are found anew from what this peer knows now: those it
// suspects and those a report names are the candidates, and each pass adds
// those the rule names given the ones found so far, until a pass adds
// none. Those already agreed stay so, since when they were; the others
// start now.
func (p *Peer) reviewAgreementByRing() {
	w := &p.fd.watch
	if p.fd.suspected.empty() && p.fd.agreed.empty() && w.reporting.empty() {
		return
	}
	found := &w.found
	found.clear()
	consider := func(q PeerID) bool {
		if found.has(q) || !p.agreedFailedByRing(q, found) {
			return false
		}
		found.add(q)
		return true
	}
	for added := true; added; {
		added = false
		for q := PeerID(1); int(q) <= p.universe; q++ {
			if p.fd.suspected.has(q) && consider(q) {
				added = true
			}
			if w.reporting.has(q) {
				for _, s := range p.fd.reports[q] {
					if consider(s) {
						added = true
					}
				}
			}
		}
	}
	started := false
	for q := PeerID(1); int(q) <= p.universe && !(found.empty() && p.fd.agreed.empty()); q++ {
		if p.markAgreed(q, found.has(q)) {
			started = true
		}
	}
	found.clear()
	if started {
		p.armSuspectTimer()
	}
}
