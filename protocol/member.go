package protocol

// This file holds what every member does as an acceptor: accept REQs,
// install views, promise ballots, learn that it was removed.

// accept records c for view v under ballot b as this peer's pending
// change, promising b. A batch is one value: accepted, reported and
// recovered whole.
func (p *Peer) accept(c Change, v ViewID, b Ballot) {
	p.acc.pending = pendingOp{change: c, viewID: v, ballot: b}
	p.acc.hasPending = true
	if p.acc.promise.Less(b) {
		p.acc.promise = b
	}
}

func (p *Peer) onReq(m *Message) {
	if !p.fromMember(m) {
		return
	}
	p.lead.knownView[m.From] = max(p.lead.knownView[m.From], m.ViewID)
	if m.Ballot.Less(p.acc.promise) || m.ViewID != p.acc.view.ID {
		p.send(Message{Type: MsgNack, To: m.From, Ballot: p.acc.promise, ViewID: p.acc.view.ID})
		return
	}
	if p.role == roleCandidate && p.ballot.Less(m.Ballot) {
		p.stepDown(m.Ballot)
	}
	p.accept(m.Change(), m.ViewID, m.Ballot)
	if p.role == roleFollower {
		p.follow(m.Ballot)
	}
	p.send(Message{Type: MsgOK, To: m.From, Ballot: m.Ballot, ViewID: m.ViewID})
}

func (p *Peer) onNewView(m *Message) {
	if m.ViewID <= p.acc.latestViewID {
		// Already installed (or removed from) this view or a later one. A
		// member acknowledges, so that the sender stops re-sending.
		if p.isMember() {
			if m.ViewID == p.acc.view.ID && p.acc.viewBallot.Less(m.Ballot) {
				// Decided again, by a leader that recovered it: that
				// leader leads now.
				p.adoptBallot(m.Ballot)
				p.acc.viewBallot = m.Ballot
			}
			p.ackView(m)
		} else {
			p.shareExit(m)
		}
		return
	}
	v := View{ID: m.ViewID, Members: m.Members, Tags: m.Tags}
	if !v.Contains(p.id) {
		p.acc.exit, p.acc.exitBallot, p.acc.exitChange = v, m.Ballot, m.Change()
		if p.isMember() {
			p.removed(m.ViewID, m.Ballot.Leader)
		} else {
			p.acc.latestViewID = m.ViewID
		}
		return
	}
	// A process that holds no view may only enter a view that holds this
	// very incarnation: the view that added it, or one whose sender says so.
	// In any other view its id may stand for an earlier process whose
	// promises it has forgotten.
	if !p.isMember() && !m.Change().Has(p.ownAdd()) &&
		(m.ToIncarnation == 0 || m.ToIncarnation != p.incarnation) {
		return
	}
	p.install(v, m.Ballot, m.Change())
	if p.role == roleLeader {
		// A view decided elsewhere, under a lower ballot: this leader
		// holds few promises for it, if any.
		p.askMissingPromises()
	}
	p.ackView(m)
}

// ackView answers a NEWVIEW: a heartbeat shows the sender the view this
// peer now holds, which is all a peer re-sending a view waits for; to the
// leader this peer promised, the answer for the view it holds is that
// promise (see answerNewView).
func (p *Peer) ackView(m *Message) {
	if m.ViewID == p.acc.view.ID {
		p.answerNewView(m.From)
		return
	}
	p.sendHeartbeat(m.From)
}

// adoptBallot takes in b, the ballot a view was decided under: a view
// decided under b means its decider led under b, so this peer promises it
// and, unless it runs a higher leadership itself, follows it.
func (p *Peer) adoptBallot(b Ballot) {
	if p.role != roleFollower && p.ballot.Less(b) {
		p.stepDown(b)
	}
	if p.acc.promise.Less(b) {
		p.acc.promise = b
	}
	if p.role == roleFollower && !b.Less(p.acc.following) {
		p.follow(b)
	}
}

// install makes v the installed view, decided under b by applying c.
func (p *Peer) install(v View, b Ballot, c Change) {
	old := p.acc.view
	p.acc.view, p.acc.viewBallot, p.acc.viewChange = v, b, c
	p.acc.exit = View{}
	for i := range c.Len() {
		if op := c.At(i); op.Kind == OpAdd {
			p.acc.incarnations[op.Peer] = op.Incarnation
		}
	}
	p.acc.latestViewID = max(p.acc.latestViewID, v.ID)
	if p.acc.hasPending && p.acc.pending.viewID < v.ID {
		p.acc.hasPending = false
	}
	p.adoptBallot(b)
	// New members get a full SuspectAfter of grace; departed ones are
	// no longer watched as members, but one this peer had not suspected,
	// silent for a heartbeat interval already, is timed on (departed).
	added := func(q PeerID) {
		p.fd.lastHeard[q] = p.now
		p.fd.suspected.del(q)
		p.fd.departed.del(q)
		p.setReport(q, nil)
		p.fd.joiners.del(q)
		p.lead.knownView[q] = 0
		p.acc.heardAs[q] = 0
	}
	removed := func(q PeerID) {
		if p.watches(q) && !p.fd.suspected.has(q) && p.now-p.fd.lastHeard[q] >= p.cfg.HeartbeatInterval {
			p.fd.departed.add(q)
		}
		p.fd.suspected.del(q)
		p.setReport(q, nil)
		p.acc.incarnations[q] = 0
		p.acc.heardAs[q] = 0
	}
	p.diffViews(old, v, c, added, removed)
	p.rewatch(old, c)
	p.lead.knownView[p.id] = v.ID
	if p.join.joining {
		p.join.joining = false
		p.join.founding = false // a member now: whatever it asked is answered
		p.disarm(TimerJoin)
	}
	p.note(Note{Kind: NoteViewInstalled, Members: v.Members, Tags: v.Tags, Op: c.Op, More: c.More})
	p.armSuspectTimer()
	switch p.role {
	case roleLeader:
		if p.lead.inflight && p.lead.proposal.viewID < v.ID {
			// Decided elsewhere (the recovered operation of an earlier
			// leader): the proposal is moot.
			p.lead.inflight = false
		}
		// Promises count only at the view they were given at.
		p.resetPromises()
		p.checkPromises()
	case roleCandidate:
		// Promises count only when given at the candidate's view: ask again.
		p.askPromises()
	}
}

// removed makes this peer a non-member: view viewID, led by leader, does
// not hold it.
func (p *Peer) removed(viewID ViewID, leader PeerID) {
	old := p.acc.view
	p.acc.view = View{}
	p.rewatch(old, Change{})
	p.acc.latestViewID = max(p.acc.latestViewID, viewID)
	// Whatever leadership this peer followed or ran is behind it: it will
	// follow the one whose view adds it back.
	p.acc.following = Ballot{}
	p.acc.leader = leader
	p.role = roleFollower
	p.lead.inflight = false
	p.lead.queue = p.lead.queue[:0]
	p.acc.hasPending = false
	p.fd.suspected.clear()
	if p.leaving {
		p.note(Note{Kind: NoteLeft})
		p.stop()
		return
	}
	p.note(Note{Kind: NoteRemoved})
	if p.cfg.Rejoin {
		p.startJoining(p.acc.leader)
	}
}

// shareExit passes the view that removed this peer to a member of it that
// shows it is still behind it.
func (p *Peer) shareExit(m *Message) {
	if p.acc.exit.ID != 0 && m.ViewID < p.acc.exit.ID && p.acc.exit.Contains(m.From) {
		p.send(Message{Type: MsgNewView, To: m.From, Ballot: p.acc.exitBallot, ViewID: p.acc.exit.ID, Members: p.acc.exit.Members,
			Tags: p.acc.exit.Tags, Op: p.acc.exitChange.Op, More: p.acc.exitChange.More, ToIncarnation: p.acc.incarnations[m.From]})
	}
}

// sendNewView sends the installed view to q.
func (p *Peer) sendNewView(q PeerID) {
	p.send(Message{Type: MsgNewView, To: q, Ballot: p.acc.viewBallot, ViewID: p.acc.view.ID, Members: p.acc.view.Members,
		Tags: p.acc.view.Tags, Op: p.acc.viewChange.Op, More: p.acc.viewChange.More, ToIncarnation: p.acc.incarnations[q]})
}

func (p *Peer) onNewLeader(m *Message) {
	if !p.fromMember(m) {
		return
	}
	if m.Ballot.Less(p.acc.promise) || (m.Ballot == p.acc.promise && m.Ballot.Leader != m.From) {
		p.send(Message{Type: MsgNack, To: m.From, Ballot: p.acc.promise, ViewID: p.acc.view.ID})
		return
	}
	if p.acc.promise.Less(m.Ballot) {
		if p.role != roleFollower {
			p.stepDown(m.Ballot)
		}
		p.acc.promise = m.Ballot
		p.follow(m.Ballot)
	}
	// A candidate behind this peer's view gets the view first: the stream
	// is FIFO, so it installs it before it reads the answer.
	if m.ViewID < p.acc.view.ID {
		p.sendNewView(m.From)
	}
	p.sendPromise(m.From)
}

func (p *Peer) onNotMember(m *Message) {
	if p.isMember() {
		if m.ViewID > p.acc.view.ID {
			p.removed(m.ViewID, m.Leader)
		}
		return
	}
	// To a non-member the view id says only that a view exists, not that
	// this peer is out of it (another non-member answering a JOIN names
	// the highest view it knew): it must not stop this peer from
	// installing that view, should it be added to it.
	if p.join.founding {
		if m.ViewID == 0 && m.Leader == 0 {
			p.noClusterAt(m.From)
			return
		}
		p.clusterExists()
	}
	if p.join.joining {
		p.join.joinAnswered = true
		p.followRedirect(m.Leader)
	}
}

func (p *Peer) onRedirect(m *Message) {
	if p.join.founding {
		p.clusterExists() // only members redirect
	}
	switch {
	case p.join.joining:
		p.join.joinAnswered = true
		p.followRedirect(m.Leader)
	case p.leaving && m.Leader != 0 && m.Leader != p.id:
		p.send(Message{Type: MsgLeave, To: m.Leader})
	}
}

// diffViews calls added for each member of v not in old, and removed for
// each member of old not in v. When v follows old directly, c made it,
// and naming c's peers costs O(|c|) rather than a walk of both views: a
// member of a large view installs one view per change.
func (p *Peer) diffViews(old, v View, c Change, added, removed func(PeerID)) {
	if old.ID == 0 || v.ID != old.ID+1 || c.Len() == 0 {
		diffMembers(old.Members, v.Members, added, removed)
		return
	}
	for i := range c.Len() {
		switch op := c.At(i); {
		case op.Kind == OpAdd && !old.Contains(op.Peer) && v.Contains(op.Peer):
			added(op.Peer)
		case op.Kind == OpDel && old.Contains(op.Peer) && !v.Contains(op.Peer):
			removed(op.Peer)
		}
	}
}
