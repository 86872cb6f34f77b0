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
	c.suspected = slices.Clone(p.suspected)
	c.departed = slices.Clone(p.departed)
	c.reports = slices.Clone(p.reports)
	c.agreed = slices.Clone(p.agreed)
	c.agreedAt = slices.Clone(p.agreedAt)
	c.joiners = slices.Clone(p.joiners)
	c.queue = slices.Clone(p.queue)
	c.acks = slices.Clone(p.acks)
	c.knownView = slices.Clone(p.knownView)
	c.promised = slices.Clone(p.promised)
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
	u := func(v uint64) { b = binary.AppendUvarint(b, v) }
	flag := func(v bool) {
		if v {
			u(1)
		} else {
			u(0)
		}
	}
	at := func(d time.Duration) { b = binary.AppendVarint(b, int64(d-base)) }
	ballot := func(x Ballot) { u(x.Round); u(uint64(x.Leader)) }
	op := func(o Op) { u(uint64(o.Kind)); u(uint64(o.Peer)); u(o.Incarnation) }
	view := func(v View) {
		u(uint64(v.ID))
		u(uint64(len(v.Members)))
		for _, q := range v.Members {
			u(uint64(q))
		}
	}
	pending := func(x pendingOp) { op(x.op); u(uint64(x.viewID)); ballot(x.ballot) }
	set := func(s peerSet) {
		for q := 1; q < len(s); q++ {
			flag(s[q])
		}
	}

	u(uint64(p.id))
	u(uint64(p.universe))
	u(p.incarnation)
	flag(p.started)
	flag(p.stopped)
	at(p.now)
	view(p.view)
	ballot(p.viewBallot)
	op(p.viewOp)
	u(uint64(p.latestViewID))
	for q := 1; q <= p.universe; q++ {
		u(p.incarnations[q])
		u(p.heardAs[q])
		at(p.lastHeard[q])
		u(uint64(p.knownView[q]))
		pending(p.answers[q])
		u(uint64(len(p.reports[q])))
		for _, s := range p.reports[q] {
			u(uint64(s))
		}
	}
	ballot(p.promise)
	u(p.maxRound)
	u(uint64(p.leader))
	ballot(p.following)
	pending(p.pending)
	flag(p.hasPending)
	set(p.suspected)
	set(p.departed)
	set(p.agreed)
	for q := 1; q <= p.universe; q++ {
		if p.agreed[q] {
			at(p.agreedAt[q])
		}
	}
	flag(p.suspectDue != 0) // zero: nothing due, at any time
	if p.suspectDue != 0 {
		at(p.suspectDue)
	}
	set(p.joiners)
	u(uint64(p.role))
	ballot(p.ballot)
	u(uint64(len(p.queue)))
	for _, q := range p.queue {
		op(q.op)
		u(uint64(q.reason))
	}
	flag(p.inflight)
	pending(p.proposal)
	set(p.acks)
	set(p.promised)
	flag(p.quorumPromised)
	u(uint64(p.oldLeader))
	view(p.exit)
	ballot(p.exitBallot)
	op(p.exitOp)
	flag(p.founding)
	set(p.noCluster)
	flag(p.joining)
	u(uint64(p.joinTarget))
	flag(p.joinAnswered)
	flag(p.joinRedirected)
	flag(p.leaving)
	for _, g := range p.timerGen {
		u(g)
	}
	// What was stored last decides whether the next Step stores again.
	d := &p.saved
	u(uint64(d.ID))
	u(d.Incarnation)
	ballot(d.Promise)
	u(d.MaxRound)
	ballot(d.Following)
	flag(d.HasPending)
	pending(pendingOp{op: d.PendingOp, viewID: d.PendingViewID, ballot: d.PendingBallot})
	view(d.View)
	ballot(d.ViewBallot)
	op(d.ViewOp)
	for i := range d.Incarnations {
		u(d.Incarnations[i])
		u(d.HeardAs[i])
	}
	u(uint64(d.LatestViewID))
	view(d.Exit)
	ballot(d.ExitBallot)
	op(d.ExitOp)
	return b
}
