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
	c.incarnations = slices.Clone(p.incarnations)
	c.heardAs = slices.Clone(p.heardAs)
	c.lastHeard = slices.Clone(p.lastHeard)
	c.suspected = p.suspected.clone()
	c.departed = p.departed.clone()
	c.reports = slices.Clone(p.reports)
	c.agreed = p.agreed.clone()
	c.agreedAt = slices.Clone(p.agreedAt)
	c.watch = p.watch.clone()
	c.joiners = slices.Clone(p.joiners)
	c.queue = slices.Clone(p.queue)
	c.acks = p.acks.clone()
	c.knownView = slices.Clone(p.knownView)
	c.promised = p.promised.clone()
	c.answers = slices.Clone(p.answers)
	c.noCluster = slices.Clone(p.noCluster)
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
	e.view(p.view)
	e.ballot(p.viewBallot)
	e.change(p.viewChange)
	e.u(uint64(p.latestViewID))
	for q := 1; q <= p.universe; q++ {
		e.u(p.incarnations[q])
		e.u(p.heardAs[q])
		at(p.lastHeard[q])
		e.u(uint64(p.knownView[q]))
		pending(p.answers[q])
		e.u(uint64(len(p.reports[q])))
		for _, s := range p.reports[q] {
			e.u(uint64(s))
		}
	}
	e.ballot(p.promise)
	e.u(p.maxRound)
	e.u(uint64(p.leader))
	e.ballot(p.following)
	pending(p.pending)
	e.flag(p.hasPending)
	set(p.suspected.peerSet) // its count is derived from the set
	set(p.departed.peerSet)
	set(p.agreed.peerSet)
	for q := 1; q <= p.universe; q++ {
		if p.agreed.peerSet[q] {
			at(p.agreedAt[q])
		}
	}
	e.flag(p.suspectDue != 0) // zero: nothing due, at any time
	if p.suspectDue != 0 {
		at(p.suspectDue)
	}
	set(p.joiners)
	if !p.watchesAll() {
		// The ring is derived from the view; when reports lapse is not.
		for q := 1; q <= p.universe; q++ {
			if p.watch.reporting.peerSet[q] {
				at(p.watch.reportAt[q])
			}
		}
		e.flag(p.now < p.watch.reportUntil) // once past, it no longer matters when
		if p.now < p.watch.reportUntil {
			at(p.watch.reportUntil)
		}
	}
	e.u(uint64(p.role))
	e.ballot(p.ballot)
	e.u(uint64(len(p.queue)))
	for _, q := range p.queue {
		e.change(q.change)
		e.u(uint64(q.reason))
	}
	// When the last decision was matters only while its batch wait lasts.
	waiting := p.decidedAt != 0 && p.now < p.decidedAt+p.cfg.BatchWait
	e.flag(waiting)
	if waiting {
		at(p.decidedAt)
	}
	e.flag(p.inflight)
	pending(p.proposal)
	set(p.acks.peerSet)
	set(p.promised.peerSet)
	e.flag(p.quorumPromised)
	e.u(uint64(p.oldLeader))
	e.view(p.exit)
	e.ballot(p.exitBallot)
	e.change(p.exitChange)
	e.flag(p.founding)
	set(p.noCluster)
	e.flag(p.joining)
	e.u(uint64(p.joinTarget))
	e.flag(p.joinAnswered)
	e.flag(p.joinRedirected)
	e.flag(p.leaving)
	for _, g := range p.timerGen {
		e.u(g)
	}
	// What was stored last decides whether the next Step stores again.
	e.u(uint64(p.saved.ID))
	e.durable(&p.saved)
	return e
}
