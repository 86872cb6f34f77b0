package protocol

import "strconv"

// Output is what one Step asks the driver to do. Handle it in this order:
//
//  0. Save: when not nil (durable peers only), write the state and make it
//     durable (fsync) before anything else of this Output happens. Every
//     message and note may depend on it: a promise or an OK sent but not
//     stored would be taken back by a crash. If it cannot be stored, the
//     driver carries out nothing else and stops the process.
//  1. Notes: log or record them first, so that a peer's log line for a view
//     is written before any other peer can react to that view.
//  2. Messages: send each to Msg.To with Msg.Type.Transport(). Stream
//     messages to one peer must be sent in the order given.
//  3. Timers: apply the requests in order (a later request for the same kind
//     replaces an earlier one).
//  4. Stopped: when set, the peer has crashed or finished leaving; the
//     driver stops feeding it events and, for a process, exits.
//
// The slices belong to the Peer and are reused by the next Step: copy what
// must outlive it. Members slices inside messages and notes are never
// modified and may be kept.
type Output struct {
	Save     *DurableState // valid until the next Step; its slices are never modified
	Notes    []Note
	Messages []Message
	Timers   []TimerRequest
	Stopped  bool
}

// NoteKind is the kind of an observer note.
type NoteKind uint8

const (
	// NoteViewInstalled: the peer installed view (ViewID, Members), made by
	// the change Op and More (Op OpNothing for a view founded or forced).
	NoteViewInstalled NoteKind = iota + 1
	// NoteSuspected: Subject has not been heard from for suspect-after;
	// SubjectWasLeader tells whether it was the leader this peer followed.
	NoteSuspected
	// NoteSuspicionCleared: Subject was heard from again.
	NoteSuspicionCleared
	// NoteCandidate: the peer asks for promises under Ballot.
	NoteCandidate
	// NoteLeader: the peer leads under Ballot.
	NoteLeader
	// NoteSteppedDown: the peer stopped leading or campaigning because it saw
	// the higher Ballot.
	NoteSteppedDown
	// NoteRemoved: the peer learned it is not in view ViewID.
	NoteRemoved
	// NoteCrashing: the peer is crashing (EventCrash).
	NoteCrashing
	// NoteLeft: a graceful leave ended (Subject is zero), or timed out
	// (TimedOut is set). The peer is stopped.
	NoteLeft
	// NoteProposed: the leader proposed Op, and More with it, on view
	// ViewID under Ballot.
	NoteProposed
	// NoteResumed: a durable peer started from its stored state, holding
	// view (ViewID, Members) and promise Ballot. With no Members it holds
	// no view, and ViewID is the highest view id it knew (a member's
	// highest is always its own view's).
	NoteResumed
	// NoteForcedView: an operator forced view (ViewID, Members), holding
	// this peer and the members it could reach, under Ballot (see
	// EventForceView). It follows the forced view's view-installed note.
	NoteForcedView

	noteKindEnd
)

var noteKindNames = [...]string{
	NoteViewInstalled:    "view-installed",
	NoteSuspected:        "suspected",
	NoteSuspicionCleared: "suspicion-cleared",
	NoteCandidate:        "candidate",
	NoteLeader:           "leader",
	NoteSteppedDown:      "stepped-down",
	NoteRemoved:          "removed",
	NoteCrashing:         "crashing",
	NoteLeft:             "left",
	NoteProposed:         "proposed",
	NoteResumed:          "resumed",
	NoteForcedView:       "forced-view",
}

func (k NoteKind) String() string {
	if k >= NoteViewInstalled && k < noteKindEnd {
		return noteKindNames[k]
	}
	return "note(" + strconv.Itoa(int(k)) + ")"
}

// Note tells observers what happened inside a peer. Peer, ViewID and Leader
// are the peer's own id, its view id and the leader it follows at the time of
// the note: the header of every log line (docs/design.md, section 9).
type Note struct {
	Kind   NoteKind
	Peer   PeerID
	ViewID ViewID
	Leader PeerID

	Members          []PeerID // NoteViewInstalled, NoteResumed, NoteForcedView
	Tags             []Tags   // NoteViewInstalled, NoteResumed: the view's tags (View.Tags; shared, never modified)
	Subject          PeerID   // NoteSuspected, NoteSuspicionCleared
	SubjectWasLeader bool     // NoteSuspected
	Ballot           Ballot   // NoteCandidate, NoteLeader, NoteSteppedDown, NoteProposed, NoteResumed, NoteForcedView
	Op               Op       // NoteProposed, NoteViewInstalled
	More             []Op     // NoteProposed, NoteViewInstalled: a batch's operations after Op (shared, never modified)
	TimedOut         bool     // NoteLeft
}

// Change returns the change a NoteProposed or NoteViewInstalled names: Op,
// then More.
func (n Note) Change() Change { return Change{Op: n.Op, More: n.More} }

func (n Note) String() string {
	s := "peer " + strconv.FormatUint(uint64(n.Peer), 10) + " " + n.Kind.String() +
		" view=" + strconv.FormatUint(uint64(n.ViewID), 10) + " leader=" + strconv.FormatUint(uint64(n.Leader), 10)
	switch n.Kind {
	case NoteViewInstalled:
		s += " " + FormatMembers(n.Members)
	case NoteResumed, NoteForcedView:
		s += " " + FormatMembers(n.Members) + " ballot=" + n.Ballot.String()
	case NoteSuspected, NoteSuspicionCleared:
		s += " subject=" + strconv.FormatUint(uint64(n.Subject), 10)
	case NoteCandidate, NoteLeader, NoteSteppedDown:
		s += " ballot=" + n.Ballot.String()
	case NoteProposed:
		s += " " + n.Change().String() + " ballot=" + n.Ballot.String()
	case NoteLeft:
		if n.TimedOut {
			s += " timed-out"
		}
	}
	return s
}
