package protocol

// This file holds what the leader does: queue operations, run one change at
// a time (REQ, OK, NEWVIEW), and retransmit.

// enqueue adds op to the leader's FIFO unless an equal operation is already
// queued or in flight. A later JOIN of the same peer refreshes the queued
// incarnation, so the newest process is the one added; but a recovered
// operation is proposed exactly as it was accepted, whatever was queued.
func (p *Peer) enqueue(op Op, reason opReason) {
	if p.lead.inflight && p.lead.proposal.change.Has(op) {
		return
	}
	for i := range p.lead.queue {
		q := &p.lead.queue[i]
		if len(q.change.More) > 0 {
			if q.change.Names(op.Peer) {
				return // a recovered batch: proposed as accepted, whatever comes
			}
			continue
		}
		if q.change.Op.Kind == op.Kind && q.change.Op.Peer == op.Peer {
			switch {
			case reason == reasonRecovered:
				// Exactly as accepted: it may have been decided so.
				q.change.Op = op
			case q.reason != reasonRecovered && op.Incarnation > q.change.Op.Incarnation:
				q.change.Op.Incarnation, q.change.Op.Tags = op.Incarnation, op.Tags
			}
			if reason != reasonSuspicion && q.reason != reasonRecovered {
				q.reason = reason // a firmer reason than a suspicion
			}
			return
		}
	}
	p.lead.queue = append(p.lead.queue, queuedOp{change: single(op), reason: reason})
}

// enqueueFirst puts c at the head of the queue: a leader's own DEL as it
// leaves, or a recovered change, which goes whole.
func (p *Peer) enqueueFirst(c Change, reason opReason) {
	if len(c.More) > 0 {
		if !p.lead.inflight || !p.lead.proposal.change.Equal(c) {
			p.lead.queue = append(p.lead.queue, queuedOp{})
			copy(p.lead.queue[1:], p.lead.queue)
			p.lead.queue[0] = queuedOp{change: c, reason: reason}
		}
		return
	}
	op := c.Op
	p.enqueue(op, reason)
	for i, q := range p.lead.queue {
		if q.change.Op.Kind == op.Kind && q.change.Op.Peer == op.Peer {
			copy(p.lead.queue[1:i+1], p.lead.queue[:i])
			p.lead.queue[0] = q
			return
		}
	}
}

// proposeNext starts the next change, once a quorum of the view promised
// (see election.promised): up to Config.MaxChangesPerView queued operations
// that still change something, taken in order (batch.go, nextBatch).
//
// On view lastViewID it starts none: the view it would decide is one every
// member refuses (see lastViewID). The queue waits, and the membership
// stays as it is.
func (p *Peer) proposeNext() {
	if p.batchWaiting() {
		return
	}
	for p.elect.quorumPromised && !p.lead.inflight && len(p.lead.queue) > 0 && p.acc.view.ID < lastViewID {
		if c := p.nextBatch(); c.Len() > 0 {
			p.propose(c)
		}
	}
}

// stillWanted reports whether the queued single operation op should still
// be proposed: it changes the view, and the reason it was queued for
// still holds.
func (p *Peer) stillWanted(op Op, reason opReason) bool {
	switch {
	case !op.Changes(p.acc.view):
		return false
	case reason == reasonSuspicion && !p.confirmedFailed(op.Peer):
		// Heard again before its turn, here or by enough observers:
		// the suspicion was wrong.
		return false
	case op.Kind == OpDel && op.Peer == p.id && !p.leaving && reason != reasonRecovered:
		// A recovered one may have been decided: it must be proposed
		// again, even when it removes this very leader.
		return false
	}
	return true
}

// propose runs c on the installed view: accept it, then ask the others.
func (p *Peer) propose(c Change) {
	p.lead.inflight = true
	p.lead.proposal = pendingOp{change: c, viewID: p.acc.view.ID, ballot: p.ballot}
	p.lead.acks.clear()
	p.lead.acks.add(p.id)
	p.accept(c, p.acc.view.ID, p.ballot)
	p.note(Note{Kind: NoteProposed, Op: c.Op, More: c.More, Ballot: p.ballot})
	for _, q := range p.acc.view.Members {
		p.sendReq(q)
	}
	p.checkProposal()
}

// sendReq sends the proposal to q, unless q is this peer.
//
// The peer being removed is asked too (docs/design.md, section 3), and
// its OK counts, for it is an acceptor of the view like any member. Left
// out, a false suspicion of one member plus the crash of another can
// deadlock a view of three for good: the removal of the live one waits for
// the dead one's OK, and the removal of the dead one waits behind it.
func (p *Peer) sendReq(q PeerID) {
	if q == p.id {
		return
	}
	p.send(Message{Type: MsgReq, To: q, Ballot: p.ballot, ViewID: p.lead.proposal.viewID, Op: p.lead.proposal.change.Op, More: p.lead.proposal.change.More})
}

func (p *Peer) onOK(m *Message) {
	p.lead.knownView[m.From] = max(p.lead.knownView[m.From], m.ViewID)
	if p.role != roleLeader || m.Ballot != p.ballot || !p.acc.view.Contains(m.From) {
		return // stale
	}
	switch {
	case p.lead.inflight && m.ViewID == p.lead.proposal.viewID:
		p.lead.acks.add(m.From)
		p.checkProposal()
	case m.ViewID+1 == p.acc.view.ID:
		// An OK that came after the view it answered was decided: the
		// member held the view before, so it had accepted nothing for this
		// one, and it promised the ballot for good.
		p.promisedBy(m.From, pendingOp{})
	}
}

// checkProposal decides the proposal once a quorum of the view accepted it.
func (p *Peer) checkProposal() {
	if !p.lead.inflight || !p.isQuorum(&p.lead.acks) {
		return
	}
	p.lead.inflight = false
	if p.acc.view.ID >= lastViewID {
		// proposeNext starts nothing on this view, so nothing can be in
		// flight; should it be, the proposal is dropped rather than
		// decide a view id that would wrap or that members refuse.
		return
	}
	c := p.lead.proposal.change
	next := c.Next(p.acc.view)
	if !next.Contains(p.id) {
		// The leader removed itself: it is leaving, or it re-proposed its
		// own removal that an earlier leader may have decided. It cannot
		// install a view without itself; it hands the view over and is
		// out. Should the NEWVIEW be lost, the next leader recovers the
		// accepted DEL.
		p.acc.exit, p.acc.exitBallot, p.acc.exitChange = next, p.ballot, c
		for _, q := range next.Members {
			p.shareExit(&Message{From: q, ViewID: p.acc.view.ID})
		}
		p.removed(next.ID, next.Min()) // the lowest member is next in line
		return
	}
	p.install(next, p.ballot, c)
	p.decided()
	// Each OK is a promise at the new view, with nothing accepted there
	// (see promises.go): usually a quorum of it already.
	for _, q := range next.Members {
		if q != p.id && p.lead.acks.has(q) {
			p.promisedBy(q, pendingOp{})
		}
	}
	for _, q := range next.Members {
		if q != p.id {
			p.sendNewView(q)
		}
	}
	for i := range c.Len() {
		if op := c.At(i); op.Kind == OpDel {
			// Tells a peer removed while alive at once; NOTMEMBER answers
			// its heartbeats should this be lost.
			p.sendNewView(op.Peer)
		}
	}
}

func (p *Peer) onNack(m *Message) {
	if p.acc.view.Contains(m.From) {
		p.lead.knownView[m.From] = m.ViewID
	}
	switch p.role {
	case roleLeader:
		// A higher promise already made this leader step down (Step's
		// shared rule). A lagging member is brought up to date, then asked
		// again: the stream delivers the two in order.
		if m.ViewID < p.acc.view.ID && p.acc.view.Contains(m.From) {
			p.sendNewView(m.From)
			if p.lead.inflight {
				p.sendReq(m.From)
			}
		}
	case roleCandidate:
		if p.ballot.Less(m.Ballot) {
			if p.nextLeader(p.elect.oldLeader) == p.id && p.canCampaign() {
				p.campaign() // outbid, while still next in line
			} else {
				p.stepDown(m.Ballot)
			}
			return
		}
		if m.ViewID < p.acc.view.ID && p.acc.view.Contains(m.From) {
			p.sendNewView(m.From)
			p.sendNewLeader(m.From)
		}
	}
}

// onRetryTimer re-sends whatever awaits an answer, every RetryInterval.
func (p *Peer) onRetryTimer() {
	switch {
	case p.role == roleLeader:
		for _, q := range p.acc.view.Members {
			if q == p.id || p.fd.suspected.has(q) {
				continue
			}
			if p.lead.knownView[q] < p.acc.view.ID {
				p.sendNewView(q)
			}
			if p.lead.inflight && !p.lead.acks.has(q) {
				p.sendReq(q)
			}
		}
		p.askMissingPromises()
	case p.role == roleCandidate:
		for _, q := range p.acc.view.Members {
			if q != p.id && !p.elect.promised.has(q) && !p.fd.suspected.has(q) {
				p.sendNewLeader(q)
			}
		}
	case p.leaving && p.isMember():
		p.askToLeave()
	default:
		return // nothing awaits an answer: let the timer lapse
	}
	p.arm(TimerRetry, p.cfg.RetryInterval)
}

// onJoin serves a JOIN: a leader (or candidate, for later) queues ADD; a
// follower names its leader.
func (p *Peer) onJoin(m *Message) {
	if !p.isMember() {
		p.answerJoinAsOutsider(m)
		return
	}
	if p.role == roleFollower {
		if m.From == p.acc.leader {
			// The leader this peer follows is joining: it is no longer a
			// member, let alone a leader. Its JOINs must not keep it
			// looking alive: follow nobody, so the next in line campaigns.
			p.acc.following = Ballot{}
			p.acc.leader = 0
		}
		p.send(Message{Type: MsgRedirect, To: m.From, Leader: p.acc.leader})
		return
	}
	add := m.Op
	if p.acc.view.Contains(m.From) {
		if add.Incarnation != 0 && p.acc.incarnations[m.From] == add.Incarnation {
			// The very process the view holds: it missed the NEWVIEWs
			// since it was added. They name its incarnation, so it may
			// install the current one.
			p.sendNewView(m.From)
			return
		}
		// A member asks to join as another process (or one this peer
		// cannot tell): its process restarted. Whatever it promised or
		// accepted is forgotten, so its answers no longer count, and it is
		// removed and added again: a fresh process only ever takes part in
		// views decided after it was added.
		p.lead.acks.del(m.From)
		p.elect.promised.del(m.From)
		p.lead.knownView[m.From] = 0
		p.suspect(m.From)
		p.enqueue(Op{Kind: OpDel, Peer: m.From}, reasonRestart)
	}
	p.enqueue(add, reasonJoin)
	// Its turn may take a while (other changes, or no quorum): say at once
	// that a cluster exists and who leads it, so the joiner waits here
	// rather than moving on, and a starting peer 1 does not found another.
	p.send(Message{Type: MsgRedirect, To: m.From, Leader: p.id})
}

func (p *Peer) onLeave(m *Message) {
	switch {
	case p.role == roleFollower:
		if p.isMember() {
			p.send(Message{Type: MsgRedirect, To: m.From, Leader: p.acc.leader})
		}
	case !p.acc.view.Contains(m.From):
		// Already out: tell it, so it can stop.
		p.send(Message{Type: MsgNotMember, To: m.From, ViewID: p.acc.view.ID, Leader: p.id})
	default:
		p.enqueue(Op{Kind: OpDel, Peer: m.From}, reasonLeave)
	}
}

// checkEvict refuses an operator's request to remove q that this peer
// cannot serve, before anything changes.
func (p *Peer) checkEvict(q PeerID) error {
	if p.role != roleLeader {
		return ErrNotLeader
	}
	if q == p.id || !p.acc.view.Contains(q) {
		return ErrBadEvict
	}
	return nil
}
