package protocol

import (
	"strconv"
)

// This file renders the seed's log lines (docs/design.md, section 9). They
// are the observable contract of a peer: the seed's test harness greps a
// peer's stderr for them, so String must reproduce them byte for byte.
// Reading them back is for tests and tools, and lives beside the checkers
// that judge what they show (check.ParseLine).

// Message texts of the seed's non-view log lines. They are fixed strings
// because the seed's harness matches them literally.
const (
	// MessageCrashing is logged by a peer just before it crashes.
	MessageCrashing = "crashing"
	// MessageRemoved is logged by a peer that learned it is not in the view.
	MessageRemoved = "removed from view"
)

// Line is one of the seed's log lines:
//
//	{peer_id:1, view_id: 1, leader: 1, memb_list: [1]}
//	{peer_id:2, view_id: 3, leader: 1, message:"peer 5 unreachable"}
//
// A valid Line has exactly one of its two bodies set:
//
//   - a view line: Members is non-nil, non-empty, strictly ascending, each
//     member in 1..MaxPeers, and Message is empty;
//   - a message line: Members is nil and Message is non-empty, valid UTF-8,
//     and holds no '"', no '\' and no control characters. The seed's format
//     has no escapes, so such a byte could not be written back unambiguously;
//     excluding them is what lets check.ParseLine read every String of a valid
//     Line.
//
// The header holds the logging peer's id (1..MaxPeers), its view id and the
// leader it follows (0..MaxPeers; 0 means no leader known).
//
// When both bodies are set, the Line counts as a view line (IsView) and String
// ignores Message. String renders invalid Lines too, so that a bug is visible
// in the log rather than hidden, but check.ParseLine rejects what it renders.
type Line struct {
	Peer    PeerID
	ViewID  ViewID
	Leader  PeerID
	Members []PeerID
	Message string
}

// IsView reports whether l is a view line (memb_list) rather than a message
// line. Members being non-nil decides, so that a Line built from a view note
// with an (invalid) empty member list still renders as a view line.
func (l Line) IsView() bool {
	return l.Members != nil
}

// String renders l exactly as the seed prints it, spacing included: no space
// after "peer_id:", one after the other colons of the header and after
// "memb_list:", none after "message:", and members as FormatMembers renders
// them ([1,2,3]).
func (l Line) String() string {
	// One buffer, sized for the usual line (the longest fixed one, a
	// leader's unreachable message, is about 80 bytes), stays on the stack
	// and keeps FormatNote to few allocations: it runs for every note a
	// peer logs.
	buf := make([]byte, 0, 128)
	buf = append(buf, "{peer_id:"...)
	buf = strconv.AppendUint(buf, uint64(l.Peer), 10)
	buf = append(buf, ", view_id: "...)
	buf = strconv.AppendUint(buf, uint64(l.ViewID), 10)
	buf = append(buf, ", leader: "...)
	buf = strconv.AppendUint(buf, uint64(l.Leader), 10)
	if l.IsView() {
		buf = append(buf, ", memb_list: "...)
		// FormatMembers is the one rendering of member lists in the
		// package; using it keeps log lines and View.String in step.
		buf = append(buf, FormatMembers(l.Members)...)
	} else {
		buf = append(buf, `, message:"`...)
		buf = append(buf, l.Message...)
		buf = append(buf, '"')
	}
	buf = append(buf, '}')
	return string(buf)
}

const (
	unreachablePrefix       = "peer "
	unreachableSuffix       = " unreachable"
	unreachableLeaderSuffix = " (leader) unreachable"
)

// UnreachableMessage returns the message a peer logs when it suspects p:
// "peer 5 unreachable", or "peer 1 (leader) unreachable" when p was the leader
// it followed.
func UnreachableMessage(p PeerID, leader bool) string {
	// One concatenation per branch: one allocation per suspicion logged.
	if leader {
		return unreachablePrefix + strconv.FormatUint(uint64(p), 10) + unreachableLeaderSuffix
	}
	return unreachablePrefix + strconv.FormatUint(uint64(p), 10) + unreachableSuffix
}

// NoteLine returns the seed log line for n, and false for notes the seed
// never logs (candidacy, leadership, proposals, cleared suspicions, leaves):
// printing extra lines in the seed's format could confuse its harness.
//
// A view note keeps n.Members without copying; notes' member slices are never
// modified (see Output). A view note with nil Members still yields a view line
// (memb_list: []) so the bug shows in the log.
func NoteLine(n Note) (Line, bool) {
	l := Line{Peer: n.Peer, ViewID: n.ViewID, Leader: n.Leader}
	switch n.Kind {
	case NoteViewInstalled:
		l.Members = n.Members
		if l.Members == nil {
			l.Members = []PeerID{}
		}
	case NoteSuspected:
		l.Message = UnreachableMessage(n.Subject, n.SubjectWasLeader)
	case NoteCrashing:
		l.Message = MessageCrashing
	case NoteRemoved:
		l.Message = MessageRemoved
	default:
		return Line{}, false
	}
	return l, true
}

// FormatNote returns the seed log line for n as text (without a newline), and
// false for notes the seed never logs. It is what a driver writes to stderr.
func FormatNote(n Note) (string, bool) {
	l, ok := NoteLine(n)
	if !ok {
		return "", false
	}
	return l.String(), true
}
