package protocol

import (
	"errors"
	"fmt"
	"slices"
)

// This file holds crash-recovery: what a durable peer (Config.Durable)
// keeps across a restart, and how it resumes from it.
//
// A crash-stop peer forgets everything when its process ends, and comes
// back as a new member under a new incarnation. That is safe, but a
// majority of a view that crashes can never answer for that view again.
// A durable peer instead asks its driver to store, before anything that
// depends on it leaves the process, everything it promised or accepted
// and the view it holds (Output.Save). Started again from that state
// (Event.State), it is the same acceptor as before the crash: a paused
// process, as far as any other peer can tell, which the protocol already
// tolerates. What it forgets (its role, its failure detector, a leader's
// queue and promises) is rebuilt the way any follower rebuilds it.

// DurableState is what a durable peer stores. Every field is what the peer
// held after the Step whose Output carried it.
//
// Invariant: Incarnations and HeardAs are as long as View.Members and
// aligned with it; View.Members is sorted and holds ID when View.ID is not
// 0; every peer named is within the peer's universe.
type DurableState struct {
	ID          PeerID // whose state: a peer refuses another's
	Incarnation uint64 // kept: the members know this process by it
	Tags        Tags   // kept with the incarnation, for the same reason

	// Acceptor state: the promise never goes back, the accepted operation
	// is reported to the next leader, and rounds are never reused.
	Promise   Ballot
	MaxRound  uint64
	Following Ballot // the leadership followed; a leader's own leads it to campaign again

	HasPending    bool
	PendingOp     Op
	PendingMore   []Op // a batch's operations after PendingOp; nil for one
	PendingViewID ViewID
	PendingBallot Ballot

	// The installed view (ID 0 when not a member), the ballot and
	// change (ViewOp, then ViewMore) that decided it, and the members'
	// incarnations as this peer knew them.
	View         View
	ViewBallot   Ballot
	ViewOp       Op
	ViewMore     []Op
	Incarnations []uint64
	HeardAs      []uint64
	LatestViewID ViewID

	// The view that removed this peer, while it is out: it may be the only
	// copy, and members behind it get it from here.
	Exit       View
	ExitBallot Ballot
	ExitOp     Op
	ExitMore   []Op
}

// hasBatch reports whether s holds a change of several operations: only
// then does its state file need the layout that stores them.
func (s *DurableState) hasBatch() bool {
	return len(s.PendingMore) > 0 || len(s.ViewMore) > 0 || len(s.ExitMore) > 0
}

// hasTags reports whether s holds any tags: only then does its state file
// need the layout that stores them.
func (s *DurableState) hasTags() bool {
	if !s.Tags.IsZero() || s.View.Tags != nil || s.Exit.Tags != nil {
		return true
	}
	for _, c := range []Change{{s.PendingOp, s.PendingMore}, {s.ViewOp, s.ViewMore}, {s.ExitOp, s.ExitMore}} {
		for i := range c.Len() {
			if !c.At(i).Tags.IsZero() {
				return true
			}
		}
	}
	return false
}

// Equal reports whether s and o hold the same state.
func (s DurableState) Equal(o DurableState) bool {
	return s.ID == o.ID && s.Incarnation == o.Incarnation && s.Tags == o.Tags && s.Promise == o.Promise && s.MaxRound == o.MaxRound &&
		s.Following == o.Following && s.HasPending == o.HasPending && s.PendingOp == o.PendingOp &&
		slices.Equal(s.PendingMore, o.PendingMore) &&
		s.PendingViewID == o.PendingViewID && s.PendingBallot == o.PendingBallot &&
		s.View.Equal(o.View) &&
		s.ViewBallot == o.ViewBallot && s.ViewOp == o.ViewOp && slices.Equal(s.ViewMore, o.ViewMore) &&
		slices.Equal(s.Incarnations, o.Incarnations) && slices.Equal(s.HeardAs, o.HeardAs) &&
		s.LatestViewID == o.LatestViewID && s.Exit.Equal(o.Exit) &&
		s.ExitBallot == o.ExitBallot && s.ExitOp == o.ExitOp && slices.Equal(s.ExitMore, o.ExitMore)
}

// ErrBadState is wrapped by every error about a DurableState that cannot be
// this peer's: Step refuses a start from it, and the peer stays unstarted.
var ErrBadState = errors.New("protocol: bad stored state")

// durableState returns the state p must store now.
func (p *Peer) durableState() DurableState {
	s := p.durableFields()
	if n := len(p.acc.view.Members); n > 0 {
		s.Incarnations = make([]uint64, n)
		s.HeardAs = make([]uint64, n)
		for i, q := range p.acc.view.Members {
			s.Incarnations[i], s.HeardAs[i] = p.acc.incarnations[q], p.acc.heardAs[q]
		}
	}
	return s
}

// durableFields is the state p must store now but for the members'
// incarnations (Incarnations and HeardAs nil).
func (p *Peer) durableFields() DurableState {
	s := DurableState{
		ID: p.id, Incarnation: p.incarnation, Tags: p.tags,
		Promise: p.acc.promise, MaxRound: p.acc.maxRound, Following: p.acc.following,
		HasPending: p.acc.hasPending,
		View:       p.acc.view, ViewBallot: p.acc.viewBallot, ViewOp: p.acc.viewChange.Op, ViewMore: p.acc.viewChange.More,
		LatestViewID: p.acc.latestViewID,
		Exit:         p.acc.exit, ExitBallot: p.acc.exitBallot, ExitOp: p.acc.exitChange.Op, ExitMore: p.acc.exitChange.More,
	}
	if p.acc.hasPending {
		s.PendingOp, s.PendingMore = p.acc.pending.change.Op, p.acc.pending.change.More
		s.PendingViewID, s.PendingBallot = p.acc.pending.viewID, p.acc.pending.ballot
	}
	if p.cfg.Mutation == MutationVolatilePromise {
		// Broken on purpose: the promise and the accepted operation are
		// not stored, so a restarted acceptor takes back what it said.
		s.Promise, s.HasPending, s.PendingOp, s.PendingViewID, s.PendingBallot = InitialBallot, false, Op{}, 0, Ballot{}
		s.PendingMore = nil
		s.MaxRound = 0
		s.Following = Ballot{}
	}
	return s
}

// incarnationsSaved reports whether the members' incarnations stored last
// are those of the installed view's members now.
func (p *Peer) incarnationsSaved() bool {
	d := &p.saved
	if len(d.Incarnations) != len(p.acc.view.Members) || len(d.HeardAs) != len(p.acc.view.Members) {
		return false
	}
	for i, q := range p.acc.view.Members {
		if d.Incarnations[i] != p.acc.incarnations[q] || d.HeardAs[i] != p.acc.heardAs[q] {
			return false
		}
	}
	return true
}

// saveIfChanged asks the driver to store the durable state when it differs
// from what was stored last: Output.Save, carried out before the Output's
// messages leave. A crash-stop peer stores nothing. It runs after every
// Step, so it compares in place and allocates only for a new state.
func (p *Peer) saveIfChanged() {
	if !p.cfg.Durable || !p.started {
		return
	}
	s := p.durableFields()
	s.Incarnations, s.HeardAs = p.saved.Incarnations, p.saved.HeardAs
	if s.Equal(p.saved) && p.incarnationsSaved() {
		return
	}
	p.saved = p.durableState()
	p.out.Save = &p.saved
}

// checkState refuses a stored state that cannot be this peer's. The peer's
// state is untouched when it fails.
func (p *Peer) checkState(s *DurableState) error {
	if s.ID != p.id {
		return fmt.Errorf("%w: it is peer %d's, not peer %d's", ErrBadState, s.ID, p.id)
	}
	views := []struct {
		name string
		v    View
	}{{"view", s.View}, {"exit view", s.Exit}}
	for _, x := range views {
		if (x.v.ID == 0) != (len(x.v.Members) == 0) {
			return fmt.Errorf("%w: %s %d holds %d members", ErrBadState, x.name, x.v.ID, len(x.v.Members))
		}
		if problem := viewTagsProblem(x.v.Members, x.v.Tags); problem != "" {
			return fmt.Errorf("%w: %s %d holds tags: %s", ErrBadState, x.name, x.v.ID, problem)
		}
		var prev PeerID
		for _, q := range x.v.Members {
			if q <= prev || !p.inUniverse(q) {
				return fmt.Errorf("%w: %s %d: member %d out of order or outside the universe 1..%d", ErrBadState, x.name, x.v.ID, q, p.universe)
			}
			prev = q
		}
	}
	switch {
	case s.View.ID != 0 && !s.View.Contains(p.id):
		return fmt.Errorf("%w: view %d does not hold peer %d", ErrBadState, s.View.ID, p.id)
	case s.Exit.ID != 0 && s.Exit.Contains(p.id):
		return fmt.Errorf("%w: exit view %d holds peer %d", ErrBadState, s.Exit.ID, p.id)
	case len(s.Incarnations) != len(s.View.Members) || len(s.HeardAs) != len(s.View.Members):
		return fmt.Errorf("%w: %d incarnations and %d heard for %d members", ErrBadState, len(s.Incarnations), len(s.HeardAs), len(s.View.Members))
	case s.LatestViewID < s.View.ID || s.LatestViewID < s.Exit.ID || s.LatestViewID > lastViewID:
		return fmt.Errorf("%w: latest view id %d is below view %d or exit view %d, or too large", ErrBadState, s.LatestViewID, s.View.ID, s.Exit.ID)
	case s.HasPending && s.PendingViewID != s.View.ID:
		return fmt.Errorf("%w: operation accepted for view %d, view %d installed", ErrBadState, s.PendingViewID, s.View.ID)
	case s.MaxRound > lastRound || s.MaxRound < s.Promise.Round:
		return fmt.Errorf("%w: round %d is below the promise %s, or too large", ErrBadState, s.MaxRound, s.Promise)
	}
	for _, b := range []Ballot{s.Promise, s.Following, s.PendingBallot, s.ViewBallot, s.ExitBallot} {
		if b.Leader > PeerID(p.universe) {
			return fmt.Errorf("%w: ballot %s names a peer outside the universe 1..%d", ErrBadState, b, p.universe)
		}
	}
	for _, o := range []Op{s.PendingOp, s.ViewOp, s.ExitOp} {
		if o.Kind > OpDel || (o.Kind != OpNothing && !p.inUniverse(o.Peer)) || (o.Kind != OpAdd && !o.Tags.IsZero()) {
			return fmt.Errorf("%w: invalid operation %s", ErrBadState, o)
		}
	}
	for _, c := range []Change{{s.PendingOp, s.PendingMore}, {s.ViewOp, s.ViewMore}, {s.ExitOp, s.ExitMore}} {
		if problem := checkChange(c.Op, c.More, PeerID(p.universe)); problem != "" {
			return fmt.Errorf("%w: invalid batch %s: %s", ErrBadState, c, problem)
		}
	}
	return nil
}

// resume starts the peer as the same member it was when it stored s: same
// incarnation, same promises, same view. It forgets its role and
// failure detector: every member gets a full SuspectAfter of grace, as
// after any start, and a peer that led campaigns again under a fresh
// ballot (maybeCampaign), since the promises it led with are gone.
func (p *Peer) resume(s *DurableState) {
	p.started = true
	p.incarnation, p.tags = s.Incarnation, s.Tags
	p.acc.promise, p.acc.maxRound = s.Promise, s.MaxRound
	p.follow(s.Following)
	p.acc.hasPending = s.HasPending
	p.acc.pending = pendingOp{change: Change{Op: s.PendingOp, More: s.PendingMore}, viewID: s.PendingViewID, ballot: s.PendingBallot}
	p.acc.view, p.acc.viewBallot, p.acc.latestViewID = s.View, s.ViewBallot, s.LatestViewID
	p.acc.viewChange = Change{Op: s.ViewOp, More: s.ViewMore}
	p.rewatch(View{}, Change{})
	for i, q := range s.View.Members {
		p.acc.incarnations[q], p.acc.heardAs[q] = s.Incarnations[i], s.HeardAs[i]
	}
	p.acc.exit, p.acc.exitBallot, p.acc.exitChange = s.Exit, s.ExitBallot, Change{Op: s.ExitOp, More: s.ExitMore}
	p.saved = *s
	for q := range p.fd.lastHeard {
		p.fd.lastHeard[q] = p.now
	}
	p.note(Note{Kind: NoteResumed, Members: p.acc.view.Members, Tags: p.acc.view.Tags, Ballot: p.acc.promise})
	p.arm(TimerHeartbeat, p.cfg.HeartbeatInterval)
	if p.isMember() {
		p.lead.knownView[p.id] = p.acc.view.ID
		// Tell the members at once that this process is back, and which
		// view it holds: one behind it gets it, one ahead sends it.
		p.sendHeartbeats()
		p.armSuspectTimer()
		return
	}
	// Out of any view. One that held a view, or heard of one, knows a
	// cluster exists: it joins, and never founds view 1 again.
	if p.acc.latestViewID != 0 {
		p.startJoining(p.acc.leader)
		return
	}
	p.startFresh()
}
