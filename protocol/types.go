package protocol

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// PeerID identifies a peer: its 1-based line number among the host lines of the
// hosts file. Zero means "nobody" (no leader known, no peer named).
type PeerID uint32

// MaxPeers bounds the universe of a cluster. It keeps every message, and so
// every frame on the wire, below a fixed size (see MaxMessageSize).
const MaxPeers = 1024

// ViewID numbers the views. View 1 is the bootstrap view [1]; each membership
// change adds one. Zero means "no view installed". The largest ViewID is
// never used: see lastViewID.
type ViewID uint64

// lastViewID and lastRound are the largest view id and ballot round a peer
// accepts or makes. Both grow one at a time (a leader decides view V+1 on
// view V; a candidate takes the highest round it has seen plus one), and
// one past math.MaxUint64 wraps to 0, below every view and ballot: the
// order would start over, and a candidate outbid at round 0 would campaign
// again and again. So math.MaxUint64 is refused wherever it arrives
// (Decode, Step), and a peer never makes it: a leader holding view
// lastViewID proposes no further change, and a peer that has seen round
// lastRound no longer campaigns. Counting one change or one election at a
// time never gets there; only a faulty peer's message can, and the
// cluster then keeps the view and leadership it has.
const (
	lastViewID ViewID = math.MaxUint64 - 1
	lastRound  uint64 = math.MaxUint64 - 1
)

// Ballot orders leaderships: round first, then the leader's id. Every peer
// starts having promised Ballot{0, 1}, the initial leader's.
type Ballot struct {
	Round  uint64
	Leader PeerID
}

// InitialBallot is the ballot every peer has promised when it starts.
var InitialBallot = Ballot{Round: 0, Leader: 1}

// Less reports whether b orders strictly before o.
func (b Ballot) Less(o Ballot) bool {
	if b.Round != o.Round {
		return b.Round < o.Round
	}
	return b.Leader < o.Leader
}

// Compare returns -1, 0 or +1 as b orders before, equal to or after o.
func (b Ballot) Compare(o Ballot) int {
	switch {
	case b.Less(o):
		return -1
	case o.Less(b):
		return 1
	}
	return 0
}

func (b Ballot) String() string {
	return "(" + strconv.FormatUint(b.Round, 10) + "," + strconv.FormatUint(uint64(b.Leader), 10) + ")"
}

// View is one membership: an id and its members.
//
// Invariant: Members is sorted ascending without duplicates, and a Members
// slice is never modified once a View holding it has been installed or sent:
// a new view always gets a new slice, so views can be shared without copying.
// Tags is nil when no member has tags, and otherwise as long as Members
// and aligned with it (Tags[i] are Members[i]'s), with at least one not
// zero; it is shared and never modified, as Members is.
type View struct {
	ID      ViewID
	Members []PeerID
	Tags    []Tags
}

// TagsOf returns the tags v holds for member p (zero when it holds none,
// or when p is no member).
func (v View) TagsOf(p PeerID) Tags {
	if v.Tags == nil {
		return Tags{}
	}
	if i, ok := slices.BinarySearch(v.Members, p); ok {
		return v.Tags[i]
	}
	return Tags{}
}

// tagsFor returns the tags v holds for members, sorted ids that need not
// be v's (one v lacks has none), in a new slice aligned with members;
// nil when v has no tags at all. One walk of both sorted lists.
func (v View) tagsFor(members []PeerID) []Tags {
	if v.Tags == nil {
		return nil
	}
	tags := make([]Tags, len(members))
	j := 0
	for i, q := range members {
		for j < len(v.Members) && v.Members[j] < q {
			j++
		}
		if j < len(v.Members) && v.Members[j] == q {
			tags[i] = v.Tags[j]
		}
	}
	return tags
}

// viewTags returns tags as a view holds them (View.Tags): nil when none
// is set.
func viewTags(tags []Tags) []Tags {
	if slices.ContainsFunc(tags, func(t Tags) bool { return !t.IsZero() }) {
		return tags
	}
	return nil
}

// viewTagsProblem says why tags cannot be the tags of a view whose
// members are members (see View.Tags), or "" when they can.
func viewTagsProblem(members []PeerID, tags []Tags) string {
	switch {
	case tags == nil:
		return ""
	case len(tags) != len(members):
		return fmt.Sprintf("%d for %d members", len(tags), len(members))
	case viewTags(tags) == nil:
		return "none set, want nil"
	}
	return ""
}

// Equal reports whether v and o are the same view: id, members and tags.
func (v View) Equal(o View) bool {
	return v.ID == o.ID && slices.Equal(v.Members, o.Members) && slices.Equal(v.Tags, o.Tags)
}

// Contains reports whether p is a member of v.
func (v View) Contains(p PeerID) bool {
	_, ok := slices.BinarySearch(v.Members, p)
	return ok
}

// Min returns the lowest member id, or 0 for an empty view.
func (v View) Min() PeerID {
	if len(v.Members) == 0 {
		return 0
	}
	return v.Members[0]
}

func (v View) String() string {
	return strconv.FormatUint(uint64(v.ID), 10) + FormatMembers(v.Members)
}

// FormatMembers renders ids as the seed's log lines do: [1,2,3].
func FormatMembers(ids []PeerID) string {
	var sb strings.Builder
	sb.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.FormatUint(uint64(id), 10))
	}
	sb.WriteByte(']')
	return sb.String()
}

// FormatViewTags renders a view's tags (View.Tags) as "{2:k=v;4:k=v,k2=v}",
// members without tags left out; "{}" when none has any.
func FormatViewTags(members []PeerID, tags []Tags) string {
	var sb strings.Builder
	sb.WriteByte('{')
	first := true
	for i, t := range tags {
		if t.IsZero() || i >= len(members) {
			continue
		}
		if !first {
			sb.WriteByte(';')
		}
		first = false
		sb.WriteString(strconv.FormatUint(uint64(members[i]), 10))
		sb.WriteByte(':')
		sb.WriteString(t.String())
	}
	sb.WriteByte('}')
	return sb.String()
}

// withMember returns a new sorted slice holding ids and p.
func withMember(ids []PeerID, p PeerID) []PeerID {
	i, found := slices.BinarySearch(ids, p)
	if found {
		return slices.Clone(ids)
	}
	out := make([]PeerID, 0, len(ids)+1)
	out = append(out, ids[:i]...)
	out = append(out, p)
	return append(out, ids[i:]...)
}

// withoutMember returns a new slice holding ids less p.
func withoutMember(ids []PeerID, p PeerID) []PeerID {
	out := make([]PeerID, 0, len(ids))
	for _, id := range ids {
		if id != p {
			out = append(out, id)
		}
	}
	return out
}

// OpKind is the kind of a membership operation. Its numbers are part of the
// wire format: append only, never renumber.
type OpKind uint8

const (
	// OpNothing means "no operation": a PENDING answer with nothing accepted.
	OpNothing OpKind = 0
	// OpAdd adds a peer (from its JOIN).
	OpAdd OpKind = 1
	// OpDel removes a peer (after suspicion, eviction or LEAVE).
	OpDel OpKind = 2
)

// Op is one membership change: add or remove one peer.
type Op struct {
	Kind OpKind
	Peer PeerID
	// Incarnation identifies the process being added (OpAdd only; zero
	// otherwise). A restarted process has forgotten its promises, so it may
	// only take part in views decided after its own incarnation was added:
	// see Event.Incarnation.
	Incarnation uint64
	// Tags are the added process's tags (OpAdd only; zero otherwise),
	// as its JOIN carried them: the view that adds it holds them.
	Tags Tags
}

func (o Op) String() string {
	switch o.Kind {
	case OpAdd:
		s := "ADD " + strconv.FormatUint(uint64(o.Peer), 10) + "#" + strconv.FormatUint(o.Incarnation, 10)
		if !o.Tags.IsZero() {
			s += "{" + o.Tags.String() + "}"
		}
		return s
	case OpDel:
		return "DEL " + strconv.FormatUint(uint64(o.Peer), 10)
	case OpNothing:
		return "NOTHING"
	}
	return "OP(" + strconv.Itoa(int(o.Kind)) + ")"
}

// Apply returns the members after applying o to members, as a new slice.
func (o Op) Apply(members []PeerID) []PeerID {
	switch o.Kind {
	case OpAdd:
		return withMember(members, o.Peer)
	case OpDel:
		return withoutMember(members, o.Peer)
	}
	return slices.Clone(members)
}

// Changes reports whether applying o to v changes its membership.
func (o Op) Changes(v View) bool {
	switch o.Kind {
	case OpAdd:
		return !v.Contains(o.Peer)
	case OpDel:
		return v.Contains(o.Peer)
	}
	return false
}

// MembersDiff returns the members of to not in from, and those of from not
// in to, both lists sorted (as a View's members are), in one walk.
func MembersDiff(from, to []PeerID) (added, removed []PeerID) {
	diffMembers(from, to, func(q PeerID) { added = append(added, q) }, func(q PeerID) { removed = append(removed, q) })
	return added, removed
}

// diffMembers calls added for each member of to not in from, and removed
// for each member of from not in to, in one walk of both (sorted) lists:
// a view change costs O(n), however many members it moves.
func diffMembers(from, to []PeerID, added, removed func(PeerID)) {
	i, j := 0, 0
	for i < len(from) || j < len(to) {
		switch {
		case j == len(to) || (i < len(from) && from[i] < to[j]):
			removed(from[i])
			i++
		case i == len(from) || to[j] < from[i]:
			added(to[j])
			j++
		default:
			i++
			j++
		}
	}
}
