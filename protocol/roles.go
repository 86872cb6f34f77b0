package protocol

import "time"

// This file holds a peer's state grouped by role: what it keeps as an
// acceptor, as a failure detector, as a leader, for elections, and while
// joining. Peer holds one of each.

// acceptor is the state every member keeps as an acceptor of its views'
// consensus instances: what it installed, promised and accepted.
type acceptor struct {
	// view is the installed view; ID 0 while not a member. view.ID <=
	// lastViewID: Step refuses any message carrying a larger view id, and
	// a leader proposes no change on view lastViewID, so view.ID+1 never
	// wraps.
	view         View
	viewBallot   Ballot // ballot that decided view, re-sent with it
	viewChange   Change // the change that produced view, re-sent with it
	latestViewID ViewID // highest view id installed or removed from: the view_id of log lines
	// incarnations holds, by id, the incarnation each member was added
	// with, where this peer saw the ADD (0 where it did not).
	incarnations []uint64
	// heardAs holds, by id, the incarnation of a member whose ADD this peer
	// did not see, as first heard from it (0 until then). It only serves
	// to tell a member's restart by its messages: unlike incarnations, it
	// never decides whether a process may enter a view.
	heardAs []uint64
	promise Ballot // never decreases (within one incarnation)
	// maxRound is the highest ballot round seen anywhere. maxRound <=
	// lastRound: Step refuses any message carrying a larger round, and
	// campaign takes maxRound+1 only while maxRound < lastRound, so
	// maxRound+1 never wraps.
	maxRound uint64
	leader   PeerID // the leader this peer follows (itself when leading)
	// following is the ballot of the leadership a follower follows: what
	// its heartbeats advertise. It differs from promise after a failed
	// candidacy (the promise stays, the candidacy is not followed), so a
	// dead candidacy is never advertised as a leadership.
	following  Ballot
	pending    pendingOp
	hasPending bool // pending is valid; only ever for the installed view

	// exit is the view that removed this peer, while it is out: the view
	// it handed over as a leader, or the NEWVIEW that left it out. It may
	// be the only copy of that view, so it is passed on to members still
	// behind it.
	exit       View
	exitBallot Ballot
	exitChange Change
}

// detector is the failure detector's state, indexed by peer id.
type detector struct {
	lastHeard []time.Duration
	suspected countedSet
	// suspectDue is when the armed TimerSuspect is due: the earliest
	// moment a member not yet suspected falls silent for SuspectAfter.
	// Zero when nothing is due.
	suspectDue time.Duration
	// reports holds, by member, the suspicions its last heartbeat carried
	// (sorted; shared with the message, never modified): see
	// agreement.go. Set only from heartbeats of the installed view id, kept
	// across a view change for members that stay, emptied for the others.
	reports [][]PeerID
	// departed are peers the last views removed while this peer had not
	// suspected them, and had not heard from them for a heartbeat
	// interval: they may have crashed, and the leader's detector was
	// only quicker. This peer keeps timing their silence, so that it
	// logs "unreachable" for a crashed peer as every survivor should,
	// and forgets them when heard from or once logged. A peer that leaves
	// gracefully, or is evicted alive, was heard from within the
	// interval and is not kept.
	departed countedSet
	// agreed holds the members agreed failed (agreement.go), and agreedAt
	// since when, without a break; zero for the others.
	agreed   countedSet
	agreedAt []time.Duration
	// joiners are members of the installed view that asked to join: they
	// hold no view, so they cannot lead, alive as they are.
	joiners peerSet
	// watch is who watches whom in a large view, and the reports held
	// there (observers.go).
	watch watchState
}

// leading is what a leader keeps. The queue also survives a candidacy, so
// requests that arrive while campaigning are served once leading.
type leading struct {
	queue []queuedOp
	// decidedAt is when this leader last decided a view: with
	// Config.BatchWait, the next change waits until BatchWait after it.
	decidedAt time.Duration
	inflight  bool
	proposal  pendingOp  // the REQ in flight, while inflight
	acks      countedSet // OKs for proposal, the leader's own included
	knownView []ViewID   // last view id each peer showed; below view.ID means NEWVIEW is due
}

// election is what candidates and leaders keep of promises.
type election struct {
	// Promises, for candidates and leaders alike. Each view is its own
	// consensus instance whose acceptors are that view's members: two
	// quorums of one view intersect, but quorums of two views need not
	// ({1,4} of [1,2,3,4] and {2,3} of [1,2,3] are disjoint). So promises
	// count only for the view they were given at, and are gathered anew at
	// every view, whether this peer installed it by deciding it or by
	// hearing of it.
	//
	// Invariant: a leader proposes in its installed view V only while
	// quorumPromised holds, that is once promised holds a quorum of V's
	// members for its ballot, and only after queueing first the operation
	// accepted for V under the highest ballot among their answers.
	promised       countedSet  // members that promised ballot at the installed view
	answers        []pendingOp // by id, valid where promised; op.Kind OpNothing when nothing
	quorumPromised bool        // promised holds a quorum and the answers were recovered
	oldLeader      PeerID      // the leader a candidate replaces (0 when none)
}

// joiner is the state of a peer on its way into a view. founding is peer
// 1's first phase after any start: it asks every host whether a cluster
// exists before it founds one (see found.go); noCluster holds the hosts
// that answered that they never held a view.
type joiner struct {
	founding       bool
	noCluster      peerSet
	joining        bool
	joinTarget     PeerID
	joinAnswered   bool // someone answered the last JOIN
	joinRedirected bool // a redirect was followed at once since the last timer
}
