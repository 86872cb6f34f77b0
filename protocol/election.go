package protocol

import "slices"

// This file holds leader change: a candidate gathers PENDING answers from a
// quorum, recovers the operation the old leader may have left half done,
// and leads.

// canCampaign reports whether a round is left for a candidacy: one above
// every round seen, and no larger than lastRound, so that members accept
// it.
func (p *Peer) canCampaign() bool { return p.acc.maxRound < lastRound }

// campaign makes this peer a candidate under a ballot above every round it
// has seen, replacing the leader it followed. Callers check canCampaign.
func (p *Peer) campaign() {
	if !p.canCampaign() {
		// The rounds are spent: maxRound+1 would be refused by every
		// member, or wrap to 0.
		return
	}
	if p.role == roleFollower {
		p.elect.oldLeader = 0
		if p.acc.leader != p.id && p.acc.view.Contains(p.acc.leader) {
			p.elect.oldLeader = p.acc.leader
		}
	}
	p.role = roleCandidate
	p.acc.maxRound++
	p.ballot = Ballot{Round: p.acc.maxRound, Leader: p.id}
	p.acc.promise = p.ballot
	p.note(Note{Kind: NoteCandidate, Ballot: p.ballot})
	p.askPromises()
	p.arm(TimerRetry, p.cfg.RetryInterval)
}

// becomeLeader takes over, once a quorum of the installed view promised.
// First the operation accepted under the highest ballot among the answers
// (it may have been decided: it must win again), then the removal of the
// old leader if it is still suspected, then other suspected members, then
// whatever was queued.
func (p *Peer) becomeLeader() {
	p.role = roleLeader
	p.acc.leader = p.id
	p.elect.quorumPromised = true
	p.note(Note{Kind: NoteLeader, Ballot: p.ballot})
	// The old leader goes only if it is still suspected (or, in a large
	// view, presumed failed): a leader that answered was alive after
	// all, and one that is joining again is removed and re-added through
	// its JOIN (which says why).
	if old := p.elect.oldLeader; old != 0 && !p.elect.promised.has(old) {
		if p.presumedFailed(old) {
			// In a large view nobody here may have watched it: this
			// peer is the one that concludes it is unreachable, and
			// says so (a suspicion already raised stays as it is).
			p.suspect(old)
		}
		if p.fd.suspected.has(old) {
			p.enqueueFirst(single(Op{Kind: OpDel, Peer: old}), reasonSuccession)
		}
	}
	p.recoverAccepted()
	p.removeAgreed()
	p.elect.oldLeader = 0
	p.arm(TimerRetry, p.cfg.RetryInterval)
}

// nextLeader is the member next in line to lead: the lowest member that is
// neither suspected, nor excluded, nor, in a large view where this peer
// watches few members, agreed failed or silent with nobody left to watch
// it (see unwatched): were it alive, it would be campaigning, and heard.
func (p *Peer) nextLeader(exclude PeerID) PeerID {
	for _, q := range p.acc.view.Members {
		if q != exclude && (q == p.id || (!p.fd.suspected.has(q) && !p.fd.joiners.has(q) && !p.presumedFailed(q))) {
			return q
		}
	}
	return 0
}

// presumedFailed reports whether q is confirmed failed or, in a large
// view, silent here for SuspectAfter while either nobody is left to watch
// it or both stand in the line of succession, whose members heartbeat one
// another. In a small view it is never so but for members this peer
// suspects already.
func (p *Peer) presumedFailed(q PeerID) bool {
	if p.confirmedFailed(q) {
		return true
	}
	if p.watchesAll() || p.now-p.fd.lastHeard[q] < p.cfg.SuspectAfter {
		return false
	}
	if p.unwatched(q) {
		return true
	}
	if !p.inLineOfSuccession() {
		return false
	}
	_, inLine := slices.BinarySearch(p.lineOfSuccession(), q)
	return inLine
}
