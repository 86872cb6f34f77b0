package protocol

// This file holds leader change: a candidate gathers PENDING answers from a
// quorum, recovers the operation the old leader may have left half done,
// and leads.

// canCampaign reports whether a round is left for a candidacy: one above
// every round seen, and no larger than lastRound, so that members accept
// it.
func (p *Peer) canCampaign() bool { return p.maxRound < lastRound }

// campaign makes this peer a candidate under a ballot above every round it
// has seen, replacing the leader it followed. Callers check canCampaign.
func (p *Peer) campaign() {
	if !p.canCampaign() {
		// The rounds are spent: maxRound+1 would be refused by every
		// member, or wrap to 0.
		return
	}
	if p.role == roleFollower {
		p.oldLeader = 0
		if p.leader != p.id && p.view.Contains(p.leader) {
			p.oldLeader = p.leader
		}
	}
	p.role = roleCandidate
	p.maxRound++
	p.ballot = Ballot{Round: p.maxRound, Leader: p.id}
	p.promise = p.ballot
	p.note(Note{Kind: NoteCandidate, Ballot: p.ballot})
	p.askPromises()
	p.arm(TimerRetry, p.cfg.RetryInterval)
}

// askPromises (re)starts gathering promises at the installed view: the
// candidate's own, then every other member's.
func (p *Peer) askPromises() {
	p.promised.clear()
	p.promised.add(p.id)
	p.answers[p.id] = pendingOp{}
	if p.hasPending && p.pending.viewID == p.view.ID {
		p.answers[p.id] = p.pending
	}
	for _, q := range p.view.Members {
		if q != p.id {
			p.sendNewLeader(q)
		}
	}
	p.checkCandidacy()
}

func (p *Peer) sendNewLeader(q PeerID) {
	p.send(Message{Type: MsgNewLeader, To: q, Ballot: p.ballot, ViewID: p.view.ID})
}

func (p *Peer) onPending(m *Message) {
	if p.role != roleCandidate || m.Ballot != p.ballot || !p.view.Contains(m.From) {
		return // stale, or not ours
	}
	p.knownView[m.From] = m.ViewID
	switch {
	case m.ViewID > p.view.ID:
		// Its NEWVIEW came first on the same stream, unless this is a
		// stale answer; either way the view is asked again once installed.
		return
	case m.ViewID < p.view.ID:
		p.sendNewView(m.From)
		p.sendNewLeader(m.From)
		return
	}
	p.promised.add(m.From)
	p.answers[m.From] = pendingOp{op: m.Op, viewID: m.ViewID, ballot: m.OpBallot}
	p.checkCandidacy()
}

// checkCandidacy makes the candidate lead once a quorum of its view has
// promised.
func (p *Peer) checkCandidacy() {
	if p.role == roleCandidate && p.isQuorum(p.promised) {
		p.becomeLeader()
	}
}

// becomeLeader takes over. First the operation accepted under the highest
// ballot among the answers (it may have been decided: it must win again),
// then the removal of the old leader if it is still suspected, then other
// suspected members, then whatever was queued.
func (p *Peer) becomeLeader() {
	p.role = roleLeader
	p.leader = p.id
	p.note(Note{Kind: NoteLeader, Ballot: p.ballot})
	var recovered pendingOp
	for _, q := range p.view.Members {
		a := p.answers[q]
		if p.promised.has(q) && a.op.Kind != OpNothing && a.viewID == p.view.ID && recovered.ballot.Less(a.ballot) {
			recovered = a
		}
	}
	// The old leader goes only if it is still suspected: a leader that
	// answered was alive after all, and one that is joining again is
	// removed and re-added through its JOIN (which says why).
	if p.oldLeader != 0 && !p.promised.has(p.oldLeader) && p.suspected.has(p.oldLeader) {
		p.enqueueFirst(Op{Kind: OpDel, Peer: p.oldLeader}, reasonSuccession)
	}
	if recovered.op.Kind != OpNothing && p.cfg.Mutation != MutationSkipRecovery {
		p.enqueueFirst(recovered.op, reasonRecovered)
	}
	for _, q := range p.view.Members {
		if p.suspected.has(q) {
			p.enqueue(Op{Kind: OpDel, Peer: q}, reasonSuspicion)
		}
	}
	p.oldLeader = 0
	p.arm(TimerRetry, p.cfg.RetryInterval)
}
