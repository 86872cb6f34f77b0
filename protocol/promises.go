package protocol

import "slices"

// This file holds promises, which candidates and leaders gather alike, one
// view at a time (see the invariant on election.promised).
//
// A leader collects them without extra messages in the common case. An OK
// for its ballot at view V is also a promise at view V+1 with nothing
// accepted there: the member held view V when it answered, so it had
// accepted nothing for V+1, and its promise never falls below the ballot
// again. And a member answers a NEWVIEW from the leader it promised with
// that promise at the new view (PENDING), instead of a bare heartbeat. So
// the OKs that decide a view usually already promise the next one; the
// NEWVIEW answers make up the rest, and NEWLEADER is only sent when neither
// came (a view heard of from elsewhere, a lost answer).

// resetPromises starts gathering promises at the installed view, counting
// this peer's own: its promise is its ballot, and its answer is what it
// accepted for this view, if anything.
func (p *Peer) resetPromises() {
	p.elect.promised.clear()
	p.elect.quorumPromised = false
	p.elect.promised.add(p.id)
	p.elect.answers[p.id] = pendingOp{}
	if p.acc.hasPending && p.acc.pending.viewID == p.acc.view.ID {
		p.elect.answers[p.id] = p.acc.pending
	}
	if p.role == roleLeader && p.cfg.Mutation == MutationStalePromises {
		// The broken rule: a leader keeps proposing on the promises of
		// the view it was elected in.
		p.elect.quorumPromised = true
	}
}

// askPromises (re)starts gathering promises at the installed view: this
// peer's own, then every other member's, asked with NEWLEADER.
func (p *Peer) askPromises() {
	p.resetPromises()
	for _, q := range p.acc.view.Members {
		if q != p.id {
			p.sendNewLeader(q)
		}
	}
	p.checkPromises()
}

// askMissingPromises asks with NEWLEADER every member that holds the
// installed view, as far as this peer knows, but has not promised at it
// yet. Members behind are sent the view instead: they answer it with
// their promise.
func (p *Peer) askMissingPromises() {
	if p.elect.quorumPromised {
		return
	}
	for _, q := range p.acc.view.Members {
		if q != p.id && !p.elect.promised.has(q) && !p.fd.suspected.has(q) && p.lead.knownView[q] >= p.acc.view.ID {
			p.sendNewLeader(q)
		}
	}
}

func (p *Peer) sendNewLeader(q PeerID) {
	p.send(Message{Type: MsgNewLeader, To: q, Ballot: p.ballot, ViewID: p.acc.view.ID})
}

// promisedBy records q's promise for this peer's ballot at the installed
// view, with the operation q accepted for that view (op.Kind OpNothing when
// none).
func (p *Peer) promisedBy(q PeerID, accepted pendingOp) {
	if p.elect.quorumPromised || p.elect.promised.has(q) {
		return // the answers were already recovered: later ones change nothing
	}
	p.elect.promised.add(q)
	p.elect.answers[q] = accepted
	p.checkPromises()
}

func (p *Peer) onPending(m *Message) {
	if p.acc.view.Contains(m.From) {
		p.lead.knownView[m.From] = m.ViewID
	}
	if p.role == roleFollower || m.Ballot != p.ballot || !p.acc.view.Contains(m.From) {
		return // stale, or not ours
	}
	switch {
	case m.ViewID > p.acc.view.ID:
		// Its NEWVIEW came first on the same stream, unless this is a
		// stale answer; either way the view is asked again once installed.
		return
	case m.ViewID < p.acc.view.ID:
		// A promise at a view since replaced. The sender promised this
		// very ballot, so it answers the current view with its promise
		// there (answerNewView): the view alone is asked for. A NEWLEADER
		// too would bring a second answer, each stale again while views
		// follow each other fast (a mass join), and the answers would
		// double with every view.
		p.sendNewView(m.From)
		return
	}
	p.promisedBy(m.From, pendingOp{change: m.Change(), viewID: m.ViewID, ballot: m.OpBallot})
}

// checkPromises acts once a quorum of the installed view has promised: a
// candidate leads, a leader recovers what its promisers accepted and may
// propose again.
func (p *Peer) checkPromises() {
	if p.elect.quorumPromised || !p.isQuorum(&p.elect.promised) {
		return
	}
	switch p.role {
	case roleCandidate:
		p.becomeLeader()
	case roleLeader:
		p.elect.quorumPromised = true
		p.recoverAccepted()
	}
}

// recoverAccepted queues first the change accepted for the installed
// view under the highest ballot among the promises: it may have been
// decided, by this leader's predecessor or by a leader that moved on to
// this view before this one did, so it must win again, whole: a batch is
// one value, and deciding part of it would decide another view under the
// same id.
func (p *Peer) recoverAccepted() {
	var recovered pendingOp
	for _, q := range p.acc.view.Members {
		a := p.elect.answers[q]
		if p.elect.promised.has(q) && a.change.Op.Kind != OpNothing && a.viewID == p.acc.view.ID && recovered.ballot.Less(a.ballot) {
			recovered = a
		}
	}
	if recovered.change.Op.Kind == OpNothing || p.cfg.Mutation == MutationSkipRecovery {
		return
	}
	if p.cfg.Mutation == MutationSplitBatch {
		// Broken on purpose: the first operation alone, as if a batch
		// were several values.
		recovered.change.More = nil
	}
	if p.cfg.Mutation == MutationUntaggedRecovery {
		// Broken on purpose: the tags of the recovered ADDs are lost.
		c := Change{Op: recovered.change.Op, More: slices.Clone(recovered.change.More)}
		c.Op.Tags = Tags{}
		for i := range c.More {
			c.More[i].Tags = Tags{}
		}
		recovered.change = c
	}
	p.enqueueFirst(recovered.change, reasonRecovered)
}

// answerNewView answers a NEWVIEW for the installed view. To the leader this
// peer has promised it is that promise at this view, with what this peer
// accepted for it; to anyone else a heartbeat, which shows the view it
// holds, all a peer re-sending a view waits for.
func (p *Peer) answerNewView(to PeerID) {
	if p.acc.promise.Leader != to {
		p.sendHeartbeat(to)
		return
	}
	p.sendPromise(to)
}

// sendPromise tells to, whose ballot this peer has promised, that promise
// at the installed view, with the operation accepted for that view.
func (p *Peer) sendPromise(to PeerID) {
	answer := Message{Type: MsgPending, To: to, Ballot: p.acc.promise, ViewID: p.acc.view.ID, Members: p.acc.view.Members}
	if p.acc.hasPending && p.acc.pending.viewID == p.acc.view.ID {
		answer.Op, answer.More, answer.OpBallot = p.acc.pending.change.Op, p.acc.pending.change.More, p.acc.pending.ballot
	}
	p.send(answer)
}
