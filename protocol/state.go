package protocol

import (
	"encoding/binary"
	"slices"
	"time"
)

// This file holds what lets a model checker explore a peer's states: a
// deep copy, and a canonical encoding that two peers in the same state
// share byte for byte.

// Clone returns a copy of p that shares nothing mutable with it: stepping
// one never changes the other. (View member slices are shared: they are
// never modified once installed, see View.)
func (p *Peer) Clone() *Peer {
	c := *p
	c.acc.incarnations = slices.Clone(p.acc.incarnations)
	c.acc.heardAs = slices.Clone(p.acc.heardAs)
	c.fd.lastHeard = slices.Clone(p.fd.lastHeard)
	c.fd.suspected = p.fd.suspected.clone()
	c.fd.departed = p.fd.departed.clone()
	c.fd.reports = slices.Clone(p.fd.reports)
	c.fd.agreed = p.fd.agreed.clone()
	c.fd.agreedAt = slices.Clone(p.fd.agreedAt)
	c.fd.watch = p.fd.watch.clone()
	c.fd.joiners = slices.Clone(p.fd.joiners)
	c.lead.queue = slices.Clone(p.lead.queue)
	c.lead.acks = p.lead.acks.clone()
	c.lead.knownView = slices.Clone(p.lead.knownView)
	c.elect.promised = p.elect.promised.clone()
	c.elect.answers = slices.Clone(p.elect.answers)
	c.join.noCluster = slices.Clone(p.join.noCluster)
	c.out = Output{}
	return &c
}

// AppendState appends a canonical encoding of p's state to b: two peers
// whose encodings are equal answer every future event alike. Times are
// encoded relative to base (a model checker's clock), so that states
// reached at different times but equal in every duration that matters
// encode alike; pass 0 to encode absolute times. The configuration is
// left out: every peer a checker compares runs the same one.
//
// Invariant: every field of Peer but cfg and out is encoded here, and
// copied by Clone (TestState_CoversEveryField counts them).
func (p *Peer) AppendState(b []byte, base time.Duration) []byte {
	e := uvarints(b)
	at := func(d time.Duration) { e = binary.AppendVarint(e, int64(d-base)) }
	pending := func(x pendingOp) { e.change(x.change); e.u(uint64(x.viewID)); e.ballot(x.ballot) }
	set := func(s peerSet) {
		for q := 1; q < len(s); q++ {
			e.flag(s[q])
		}
	}

	e.u(uint64(p.id))
	e.u(uint64(p.universe))
	e.u(p.incarnation)
	e.flag(p.started)
	e.flag(p.stopped)
	at(p.now)
	e.view(p.acc.view)
	e.ballot(p.acc.viewBallot)
	e.change(p.acc.viewChange)
	e.u(uint64(p.acc.latestViewID))
	for q := 1; q <= p.universe; q++ {
		e.u(p.acc.incarnations[q])
		e.u(p.acc.heardAs[q])
		at(p.fd.lastHeard[q])
		e.u(uint64(p.lead.knownView[q]))
		pending(p.elect.answers[q])
		e.u(uint64(len(p.fd.reports[q])))
		for _, s := range p.fd.reports[q] {
			e.u(uint64(s))
		}
	}
	e.ballot(p.acc.promise)
	e.u(p.acc.maxRound)
	e.u(uint64(p.acc.leader))
	e.ballot(p.acc.following)
	pending(p.acc.pending)
	e.flag(p.acc.hasPending)
	set(p.fd.suspected.peerSet) // its count is derived from the set
	set(p.fd.departed.peerSet)
	set(p.fd.agreed.peerSet)
	for q := 1; q <= p.universe; q++ {
		if p.fd.agreed.peerSet[q] {
			at(p.fd.agreedAt[q])
		}
	}
	e.flag(p.fd.suspectDue != 0) // zero: nothing due, at any time
	if p.fd.suspectDue != 0 {
		at(p.fd.suspectDue)
	}
	set(p.fd.joiners)
	if !p.watchesAll() {
		// The ring is derived from the view; when reports lapse is not.
		for q := 1; q <= p.universe; q++ {
			if p.fd.watch.reporting.peerSet[q] {
				at(p.fd.watch.reportAt[q])
			}
		}
		e.flag(p.now < p.fd.watch.reportUntil) // once past, it no longer matters when
		if p.now < p.fd.watch.reportUntil {
			at(p.fd.watch.reportUntil)
		}
	}
	e.u(uint64(p.role))
	e.ballot(p.ballot)
	e.u(uint64(len(p.lead.queue)))
	for _, q := range p.lead.queue {
		e.change(q.change)
		e.u(uint64(q.reason))
	}
	// When the last decision was matters only while its batch wait lasts.
	waiting := p.lead.decidedAt != 0 && p.now < p.lead.decidedAt+p.cfg.BatchWait
	e.flag(waiting)
	if waiting {
		at(p.lead.decidedAt)
	}
	e.flag(p.lead.inflight)
	pending(p.lead.proposal)
	set(p.lead.acks.peerSet)
	set(p.elect.promised.peerSet)
	e.flag(p.elect.quorumPromised)
	e.u(uint64(p.elect.oldLeader))
	e.view(p.acc.exit)
	e.ballot(p.acc.exitBallot)
	e.change(p.acc.exitChange)
	e.flag(p.join.founding)
	set(p.join.noCluster)
	e.flag(p.join.joining)
	e.u(uint64(p.join.joinTarget))
	e.flag(p.join.joinAnswered)
	e.flag(p.join.joinRedirected)
	e.flag(p.leaving)
	for _, g := range p.timerGen {
		e.u(g)
	}
	// What was stored last decides whether the next Step stores again.
	e.u(uint64(p.saved.ID))
	e.durable(&p.saved)
	// Tags: this process's, the views', and every ADD's held anywhere.
	e.tags(p.tags)
	e.viewTags(p.acc.view.Tags)
	e.viewTags(p.acc.exit.Tags)
	e.changeTags(p.acc.viewChange)
	e.changeTags(p.acc.exitChange)
	e.changeTags(p.acc.pending.change)
	e.changeTags(p.lead.proposal.change)
	for _, q := range p.lead.queue {
		e.changeTags(q.change)
	}
	for q := 1; q <= p.universe; q++ {
		e.changeTags(p.elect.answers[q].change)
	}
	return e
}
