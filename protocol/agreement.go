package protocol

import "time"

// This file holds how members agree that one of them failed, so that one
// detector's view of a lossy link never removes a live member alone.
//
// Every member watches every other (section 5 of docs/design.md) and
// tells them all what it suspects: each heartbeat carries the sender's
// suspicions, and a member whose suspicions change sends a heartbeat
// round at once. A member q is agreed failed when every observer of q
// (every other member of the view) that this peer trusts suspects it, and
// those are a majority of q's observers: this peer by its own detector,
// the others by their last heartbeat. An observer this peer suspects is
// not trusted: its last word is stale, and it may be the one that failed;
// nor is one joining again, which beats no more. The leader removes a
// member on suspicion, and a follower campaigns against its leader, only
// once the agreement has held for confirmWait without a break (settle
// reviews it after every event).
//
// Why every trusted observer, and not a majority alone: a live member
// behind lossy links is suspected by each observer a few percent of the
// time (two heartbeats lost in a row, and until the next one arrives),
// and in a view of five a majority of its four observers at once turned
// out to happen about once a minute at 20% loss; all four at once, a
// hundred times less often. A crash silences the member for all of them
// alike, so they all speak within milliseconds of one another, as they
// time the same heartbeats. Why a majority too: a peer cut off from
// everyone suspects, and so distrusts, all the others, and must not then
// remove them on its word alone.

// agreedFailed reports whether every observer of q this peer trusts
// suspects q, and those are a majority of q's observers, in a small view
// (agreement_ring.go has the rule of a large one).
func (p *Peer) agreedFailed(q PeerID) bool {
	observers, suspecting := 0, 0
	for _, o := range p.acc.view.Members {
		if o == q {
			continue
		}
		observers++
		switch {
		case o == p.id:
			if !p.fd.suspected.has(q) {
				return false
			}
			suspecting++
		case p.fd.suspected.has(o) || p.fd.joiners.has(o):
			// Not trusted: neither for nor against. A joiner is one too:
			// a member asking to join again is out of the view in its own
			// eyes, and beats no more.
		case !reportsSuspicion(p.fd.reports[o], q):
			return false
		default:
			suspecting++
		}
	}
	return observers > 0 && 2*suspecting > observers
}

// reportsSuspicion reports whether a report (a sorted list of suspects)
// names q.
func reportsSuspicion(report []PeerID, q PeerID) bool {
	for _, s := range report {
		if s == q {
			return true
		}
		if s > q {
			return false
		}
	}
	return false
}

// suspicionList returns the members this peer suspects, sorted, for its
// heartbeats.
func (p *Peer) suspicionList() []PeerID {
	if p.fd.suspected.empty() {
		return nil
	}
	var l []PeerID
	for _, q := range p.acc.view.Members {
		if p.fd.suspected.has(q) {
			l = append(l, q)
		}
	}
	return l
}

// shareSuspicions tells at once those who act on this peer's suspicions
// that they changed, rather than at the next beat: in a small view every
// other member, with a heartbeat round; in a large one the leader and the
// line of succession, to whom it then keeps reporting for SuspectAfter
// after the change, so that one lost datagram does not leave them with a
// suspicion it dropped.
func (p *Peer) shareSuspicions() {
	if !p.isMember() {
		return
	}
	if p.watchesAll() {
		p.sendHeartbeats()
		return
	}
	p.fd.watch.reportUntil = p.now + p.cfg.SuspectAfter
	p.sendReports(p.suspicionList(), nil)
}

// confirmWait is how long a member must stay agreed failed, without a
// break, before anyone acts on it: SuspectAfter is exactly two
// heartbeats, so when one round of a member's heartbeats is lost to every
// observer, they all suspect it a moment before the next round arrives
// and clears it, and their clearing heartbeats need that moment to
// arrive. A tenth of a heartbeat interval is far above the latency of a
// network that carries heartbeats on time, and adds little to the time a
// crash takes to be agreed.
func (p *Peer) confirmWait() time.Duration { return p.cfg.HeartbeatInterval / 10 }

// reviewAgreement notes which members are agreed failed now, and since
// when, after an event that may have changed it; it arms the suspect
// timer for an agreement that starts.
//
// This peer is an observer of every other member of a view that holds it,
// so agreedFailed(q) requires its own suspicion of q: only the members it
// suspects need the full count, and with none suspected and none agreed
// nothing can change, which is the common case and costs nothing.
func (p *Peer) reviewAgreement() {
	if p.isMember() && !p.watchesAll() {
		p.reviewAgreementByRing()
		return
	}
	selfObserves := !p.isMember() || p.acc.view.Contains(p.id)
	if selfObserves && p.fd.suspected.empty() && p.fd.agreed.empty() {
		return
	}
	started := false
	for q := PeerID(1); int(q) <= p.universe; q++ {
		if selfObserves && !p.fd.suspected.has(q) && !p.fd.agreed.has(q) {
			continue // agreedFailed(q) is false, and so was it
		}
		if p.markAgreed(q, q != p.id && p.acc.view.Contains(q) && p.agreedFailed(q)) {
			started = true
		}
	}
	if started {
		p.armSuspectTimer()
	}
}

// markAgreed records whether q is agreed failed now, keeping since when it
// has been without a break; it reports whether an agreement starts.
func (p *Peer) markAgreed(q PeerID, agreed bool) (started bool) {
	switch {
	case agreed && !p.fd.agreed.has(q):
		p.fd.agreed.add(q)
		p.fd.agreedAt[q] = p.now
		return true
	case !agreed && p.fd.agreed.has(q):
		p.fd.agreed.del(q)
		p.fd.agreedAt[q] = 0
	}
	return false
}

// confirmedFailed reports whether q has been agreed failed for
// confirmWait without a break.
func (p *Peer) confirmedFailed(q PeerID) bool {
	return p.fd.agreed.has(q) && p.now-p.fd.agreedAt[q] >= p.confirmWait()
}

// removeAgreed queues, on the leader, the removal of every member
// confirmed failed.
func (p *Peer) removeAgreed() {
	if p.role != roleLeader || p.fd.agreed.empty() {
		return // confirmedFailed needs agreed
	}
	for _, q := range p.acc.view.Members {
		if q != p.id && p.confirmedFailed(q) {
			p.enqueue(Op{Kind: OpDel, Peer: q}, reasonSuspicion)
		}
	}
}
