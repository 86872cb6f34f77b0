package protocol

import (
	"fmt"
	"slices"
	"strings"
)

// Change is what one view change decides: the operation Op, then the
// operations More, applied together to one view (Config.MaxChangesPerView).
// A change of one operation has no More, and is then exactly what the
// protocol decided before batches existed: the same wire bytes, the same
// state file, the same log lines.
//
// A change names each peer at most once, so its operations commute: the
// order of More says only in which order they were queued. More is shared
// like a view's members, never modified once sent or installed.
type Change struct {
	Op   Op
	More []Op
}

// single returns the change of op alone.
func single(op Op) Change { return Change{Op: op} }

// Len is the number of operations: 0 for a change of OpNothing.
func (c Change) Len() int {
	if c.Op.Kind == OpNothing {
		return 0
	}
	return 1 + len(c.More)
}

// At returns operation i, 0 <= i < Len(): Op, then More.
func (c Change) At(i int) Op {
	if i == 0 {
		return c.Op
	}
	return c.More[i-1]
}

// With returns c with op appended: a new More, never c's own.
func (c Change) With(op Op) Change {
	if c.Op.Kind == OpNothing {
		return single(op)
	}
	more := make([]Op, len(c.More), len(c.More)+1)
	copy(more, c.More)
	return Change{Op: c.Op, More: append(more, op)}
}

// Has reports whether op is one of c's operations, incarnation included.
func (c Change) Has(op Op) bool {
	return c.Len() > 0 && (c.Op == op || slices.Contains(c.More, op))
}

// Names reports whether one of c's operations is about peer q.
func (c Change) Names(q PeerID) bool {
	for i := range c.Len() {
		if c.At(i).Peer == q {
			return true
		}
	}
	return false
}

// Equal reports whether c and o are the same operations in the same order.
func (c Change) Equal(o Change) bool { return c.Op == o.Op && slices.Equal(c.More, o.More) }

// Apply returns members after every operation of c, as a new slice.
func (c Change) Apply(members []PeerID) []PeerID {
	out := c.Op.Apply(members)
	for _, op := range c.More {
		out = op.Apply(out)
	}
	return out
}

// Next returns the view c makes of v: id v.ID+1, v's members after c, and
// their tags: an added member's from its ADD, the others' as v held them.
// It allocates new slices; v is not modified.
func (c Change) Next(v View) View {
	next := View{ID: v.ID + 1, Members: c.Apply(v.Members)}
	tagged := v.Tags != nil
	for i := range c.Len() {
		if op := c.At(i); op.Kind == OpAdd && !op.Tags.IsZero() {
			tagged = true
		}
	}
	if !tagged {
		return next
	}
	tags := v.tagsFor(next.Members)
	if tags == nil {
		tags = make([]Tags, len(next.Members))
	}
	for k := range c.Len() {
		if op := c.At(k); op.Kind == OpAdd {
			if i, ok := slices.BinarySearch(next.Members, op.Peer); ok {
				tags[i] = op.Tags
			}
		}
	}
	next.Tags = viewTags(tags)
	return next
}

// Changes reports whether every operation of c changes v: a change
// decided for v always does, as each names a different peer and the
// leader only batches operations that change v.
func (c Change) Changes(v View) bool {
	for i := range c.Len() {
		if !c.At(i).Changes(v) {
			return false
		}
	}
	return c.Len() > 0
}

// String renders a single operation as Op.String does, and a batch as its
// operations separated by commas: "ADD 4#1, ADD 5#1".
func (c Change) String() string {
	if len(c.More) == 0 {
		return c.Op.String()
	}
	var sb strings.Builder
	sb.WriteString(c.Op.String())
	for _, op := range c.More {
		sb.WriteString(", ")
		sb.WriteString(op.String())
	}
	return sb.String()
}

// checkChange says what makes first and more no change a peer can decide,
// or "" when they are one: with more, every operation is an ADD or a DEL
// of a peer in 1..maxPeer, no peer is named twice, and there are at most
// MaxChangesPerViewLimit operations. A lone first operation is checked
// by the caller, as before batches existed.
func checkChange(first Op, more []Op, maxPeer PeerID) string {
	if len(more) == 0 {
		return ""
	}
	if len(more)+1 > MaxChangesPerViewLimit {
		return fmt.Sprintf("%d operations, above %d", len(more)+1, MaxChangesPerViewLimit)
	}
	// One bit per peer id, on the stack: encoding must not allocate.
	var seen [MaxPeers/64 + 1]uint64
	for i := range len(more) + 1 {
		op := first
		if i > 0 {
			op = more[i-1]
		}
		if op.Kind != OpAdd && op.Kind != OpDel {
			return fmt.Sprintf("operation %d is %s, want ADD or DEL", i, op)
		}
		if op.Peer < 1 || op.Peer > maxPeer {
			return fmt.Sprintf("operation %d names peer %d, outside 1..%d", i, op.Peer, maxPeer)
		}
		if op.Kind == OpDel && (op.Incarnation != 0 || !op.Tags.IsZero()) {
			return fmt.Sprintf("operation %d is a DEL with incarnation %d or tags, want neither", i, op.Incarnation)
		}
		w, bit := op.Peer/64, uint64(1)<<(op.Peer%64)
		if seen[w]&bit != 0 {
			return fmt.Sprintf("peer %d named twice", op.Peer)
		}
		seen[w] |= bit
	}
	return ""
}
