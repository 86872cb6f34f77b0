package protocol

import "strconv"

// MsgType is the type of a protocol message.
//
// The numbers are the wire format: this list is append-only. Never renumber,
// never reuse a retired number.
type MsgType uint8

const (
	// MsgHeartbeat (datagram): "I am alive, at view ViewID, having promised
	// Ballot". Sent every heartbeat interval to every other member; the leader
	// answers one that shows an older view with NEWVIEW (anti-entropy).
	MsgHeartbeat MsgType = 1
	// MsgJoin: a non-member asks the leader it believes in to add it; Op is
	// ADD of the sender with its incarnation, ViewID the highest view id it
	// has known.
	MsgJoin MsgType = 2
	// MsgRedirect: a member that is not the leader names the leader (Leader).
	MsgRedirect MsgType = 3
	// MsgReq: phase one of a change: the leader under Ballot proposes Op
	// (and More, a batch) on view ViewID.
	MsgReq MsgType = 4
	// MsgOK: a member accepted the REQ under Ballot for view ViewID.
	MsgOK MsgType = 5
	// MsgNack: a refusal carrying the sender's promise (Ballot) and installed
	// view id (ViewID), so the receiver can step down or help it catch up.
	MsgNack MsgType = 6
	// MsgNewView: phase two: view ViewID with Members was decided under Ballot
	// by applying Op (and More) to the view before it.
	MsgNewView MsgType = 7
	// MsgNewLeader: a candidate asks for promises for Ballot; ViewID is its view.
	MsgNewLeader MsgType = 8
	// MsgPending: the answer to NEWLEADER: a promise for Ballot, the sender's
	// installed view (ViewID, Members), and the operation it accepted for that
	// view (Op and More, OpNothing when none) under OpBallot.
	MsgPending MsgType = 9
	// MsgNotMember: "you are not in my view ViewID, led by Leader".
	MsgNotMember MsgType = 10
	// MsgLeave: a member asks the leader to remove it (graceful stop).
	MsgLeave MsgType = 11

	// msgTypeEnd is one past the last valid type: keep it equal to the
	// last constant plus one when appending a type.
	msgTypeEnd = MsgLeave + 1
)

var msgTypeNames = [...]string{
	MsgHeartbeat: "HEARTBEAT",
	MsgJoin:      "JOIN",
	MsgRedirect:  "REDIRECT",
	MsgReq:       "REQ",
	MsgOK:        "OK",
	MsgNack:      "NACK",
	MsgNewView:   "NEWVIEW",
	MsgNewLeader: "NEWLEADER",
	MsgPending:   "PENDING",
	MsgNotMember: "NOTMEMBER",
	MsgLeave:     "LEAVE",
}

// Valid reports whether t is a known message type.
func (t MsgType) Valid() bool { return t >= MsgHeartbeat && t < msgTypeEnd }

func (t MsgType) String() string {
	if t.Valid() {
		return msgTypeNames[t]
	}
	return "MSG(" + strconv.Itoa(int(t)) + ")"
}

// Transport says how a message must travel.
type Transport uint8

const (
	// Stream: reliable and FIFO per ordered pair of peers (TCP). The protocol
	// still retransmits, because a stream breaks when a peer crashes or the
	// network partitions, and what was in flight is lost.
	Stream Transport = iota
	// Datagram: unreliable, unordered, may be duplicated (UDP).
	Datagram
)

func (t Transport) String() string {
	if t == Datagram {
		return "datagram"
	}
	return "stream"
}

// Transport returns how messages of type t travel: heartbeats as datagrams,
// everything else over the stream.
func (t MsgType) Transport() Transport {
	if t == MsgHeartbeat {
		return Datagram
	}
	return Stream
}

// Message is every protocol message. Which fields are meaningful depends on
// Type (see the MsgType constants); the others are zero, and the wire format
// carries only the meaningful ones.
type Message struct {
	Type MsgType
	From PeerID // sender; every message carries it
	To   PeerID // receiver
	// Incarnation is the sender's process (Event.Incarnation); every
	// message carries it. A message from another process than the one a
	// view holds for its sender is no sign of life of that member.
	Incarnation uint64

	Ballot Ballot // HEARTBEAT, REQ, OK, NACK, NEWVIEW, NEWLEADER, PENDING
	// ViewID: HEARTBEAT, REQ, OK, NACK, NEWVIEW, NEWLEADER, PENDING,
	// NOTMEMBER; and JOIN, where it is the highest view id the joiner has
	// known (0 for a process that never was a member).
	ViewID  ViewID
	Members []PeerID // NEWVIEW, PENDING; HEARTBEAT: the sender's suspects (sorted; shared, never modified)
	// Tags (NEWVIEW) are the view's tags, aligned with Members as
	// View.Tags is: nil when no member has any. Shared, never modified.
	Tags []Tags
	Op   Op // REQ, PENDING, NEWVIEW, JOIN
	// More (REQ, PENDING, NEWVIEW) holds the operations decided with Op in
	// one view change, after it (Config.MaxChangesPerView); nil for one
	// operation. Shared, never modified.
	More []Op
	// OpBallot is the ballot under which a PENDING's Op was accepted.
	OpBallot Ballot
	Leader   PeerID // REDIRECT, NOTMEMBER
	// ToIncarnation (NEWVIEW) is the receiver's incarnation as the view
	// holds it, when the sender knows it, else 0. A process that missed
	// the view adding it may install a later view that names it so: it is
	// the same process, so it has forgotten nothing.
	ToIncarnation uint64
}

func (m Message) String() string {
	s := m.Type.String() + " " + strconv.FormatUint(uint64(m.From), 10) + "->" + strconv.FormatUint(uint64(m.To), 10)
	switch m.Type {
	case MsgHeartbeat, MsgOK, MsgNack, MsgNewLeader:
		s += " b=" + m.Ballot.String() + " v=" + strconv.FormatUint(uint64(m.ViewID), 10)
		if m.Type == MsgHeartbeat && len(m.Members) > 0 {
			s += " suspects=" + FormatMembers(m.Members)
		}
	case MsgReq:
		s += " b=" + m.Ballot.String() + " v=" + strconv.FormatUint(uint64(m.ViewID), 10) + " " + m.Change().String()
	case MsgNewView:
		s += " b=" + m.Ballot.String() + " v=" + strconv.FormatUint(uint64(m.ViewID), 10) + " " + FormatMembers(m.Members)
		if m.Tags != nil {
			s += " tags" + FormatViewTags(m.Members, m.Tags)
		}
		s += " by " + m.Change().String()
		if m.ToIncarnation != 0 {
			s += " for #" + strconv.FormatUint(m.ToIncarnation, 10)
		}
	case MsgJoin:
		s += " " + m.Op.String()
		if m.ViewID != 0 {
			s += " knew v=" + strconv.FormatUint(uint64(m.ViewID), 10)
		}
	case MsgPending:
		s += " b=" + m.Ballot.String() + " v=" + strconv.FormatUint(uint64(m.ViewID), 10) + " " + FormatMembers(m.Members) +
			" " + m.Change().String() + "@" + m.OpBallot.String()
	case MsgRedirect:
		s += " leader=" + strconv.FormatUint(uint64(m.Leader), 10)
	case MsgNotMember:
		s += " v=" + strconv.FormatUint(uint64(m.ViewID), 10) + " leader=" + strconv.FormatUint(uint64(m.Leader), 10)
	}
	return s
}

// Change returns the operations m carries: Op, then More.
func (m *Message) Change() Change { return Change{Op: m.Op, More: m.More} }
