package protocol

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Decode parses one encoded message (see AppendMessage for the layout). The
// input comes from the network, so Decode trusts nothing: it never panics,
// never allocates more than the input can justify, and refuses every input
// that is not the canonical encoding of a valid message. Its errors match
// ErrMalformed and read like
//
//	wire: unsupported version 7
//	wire: truncated REQ at byte 9 (reading op peer)
//	wire: NEWVIEW: member 3 at byte 17: id 5 not above previous id 5
//	wire: NEWVIEW: view id at byte 6: 18446744073709551615 is the largest value: the next one would wrap
//
// Fields the type does not carry are left zero; Members and More are nil
// unless the type carries a non-empty list.
func Decode(b []byte) (Message, error) {
	if len(b) > MaxMessageSize {
		return Message{}, wireErrorf("message of %d bytes exceeds MaxMessageSize %d", len(b), MaxMessageSize)
	}
	if len(b) == 0 {
		return Message{}, wireErrorf("empty message")
	}
	if b[0] != WireVersion {
		return Message{}, wireErrorf("unsupported version %d", b[0])
	}
	if len(b) < 2 {
		return Message{}, wireErrorf("truncated message at byte 1 (reading type)")
	}
	t := MsgType(b[1])
	l, ok := layoutOf(t)
	if !ok {
		return Message{}, wireErrorf("unknown message type %d", b[1])
	}
	d := decoder{b: b, off: 2, typ: t}
	m := Message{Type: t}
	m.From = d.peer(named("from"), false)
	m.To = d.peer(named("to"), false)
	m.Incarnation = d.uvarint(named("incarnation"))
	if l&carriesBallot != 0 {
		m.Ballot = d.ballot("ballot round", "ballot leader")
	}
	if l&carriesViewID != 0 {
		m.ViewID = ViewID(d.counter(named("view id")))
	}
	if l&carriesMembers != 0 {
		m.Members = d.members()
	}
	if l&carriesTags != 0 {
		m.Tags = d.viewTags(len(m.Members))
	}
	if l&carriesOp != 0 {
		var batched bool
		m.Op, batched = d.op(l&carriesMore != 0)
		if batched {
			m.More = d.batch(m.Op)
		}
	}
	if l&carriesOpBallot != 0 {
		m.OpBallot = d.ballot("op ballot round", "op ballot leader")
	}
	if l&carriesLeader != 0 {
		m.Leader = d.peer(named("leader"), true)
	}
	if l&carriesToIncarnation != 0 {
		m.ToIncarnation = d.uvarint(named("to incarnation"))
	}
	if d.err != nil {
		return Message{}, d.err
	}
	switch rest := len(b) - d.off; {
	case rest == 1:
		return Message{}, wireErrorf("1 trailing byte after %s", t)
	case rest > 1:
		return Message{}, wireErrorf("%d trailing bytes after %s", rest, t)
	}
	return m, nil
}

// field names what the decoder is reading, for error messages. It is a
// value rather than a formatted string so that naming "member 3" costs
// nothing unless an error is actually reported.
type field struct {
	name  string
	index int // position in the member list, or -1
}

func named(name string) field { return field{name: name, index: -1} }

func (f field) String() string {
	if f.index < 0 {
		return f.name
	}
	return fmt.Sprintf("%s %d", f.name, f.index)
}

// decoder reads fields from b at off. The first error sticks: later reads
// return zero values and change nothing, so Decode can read a whole layout
// straight through and check once at the end.
type decoder struct {
	b   []byte
	off int
	typ MsgType
	err error
}

// fail records that the field starting at byte start is invalid.
func (d *decoder) fail(start int, f field, format string, args ...any) {
	if d.err == nil {
		d.err = wireErrorf("%s: %s at byte %d: %s", d.typ, f, start, fmt.Sprintf(format, args...))
	}
}

// uvarint reads one canonical uvarint.
func (d *decoder) uvarint(f field) uint64 {
	if d.err != nil {
		return 0
	}
	start := d.off
	v, n := binary.Uvarint(d.b[start:])
	switch {
	case n == 0:
		d.err = wireErrorf("truncated %s at byte %d (reading %s)", d.typ, start, f)
		return 0
	case n < 0:
		d.fail(start, f, "uvarint overflows 64 bits")
		return 0
	case n > 1 && d.b[start+n-1] == 0:
		// A last group of 0 adds nothing: the same value has a shorter
		// encoding. Refusing it keeps the encoding canonical.
		d.fail(start, f, "non-minimal uvarint")
		return 0
	}
	d.off += n
	return v
}

// peer reads a peer id: at most MaxPeers, and 0 only if zeroOK.
func (d *decoder) peer(f field, zeroOK bool) PeerID {
	start := d.off
	v := d.uvarint(f)
	if d.err != nil {
		return 0
	}
	if v > MaxPeers {
		d.fail(start, f, "%d above MaxPeers %d", v, MaxPeers)
		return 0
	}
	if v == 0 && !zeroOK {
		d.fail(start, f, "is 0, want a peer id in 1..%d", MaxPeers)
	}
	return PeerID(v)
}

// counter reads a view id or a ballot round. Both grow one at a time (a
// leader decides view V+1 on view V, a candidate takes the highest round
// it has seen plus one), so the largest uint64 is refused: it leaves no
// next value, and the increment would wrap to 0, below every view and
// ballot.
func (d *decoder) counter(f field) uint64 {
	start := d.off
	v := d.uvarint(f)
	if d.err == nil && v == math.MaxUint64 {
		d.fail(start, f, "%d is the largest value: the next one would wrap", v)
		return 0
	}
	return v
}

func (d *decoder) ballot(round, leader string) Ballot {
	r := d.counter(named(round))
	return Ballot{Round: r, Leader: d.peer(named(leader), true)}
}

// op reads an operation. With batchOK, the kind byte may carry
// opBatchFlag, and batched reports whether it did: a batch follows.
func (d *decoder) op(batchOK bool) (op Op, batched bool) {
	if d.err != nil {
		return Op{}, false
	}
	start := d.off
	if start >= len(d.b) {
		d.err = wireErrorf("truncated %s at byte %d (reading op kind)", d.typ, start)
		return Op{}, false
	}
	kind := OpKind(d.b[start])
	if batchOK && kind&opBatchFlag != 0 {
		kind &^= opBatchFlag
		batched = true
	}
	if kind != OpNothing && kind != OpAdd && kind != OpDel {
		d.fail(start, named("op kind"), "unknown kind %d", uint8(d.b[start]))
		return Op{}, false
	}
	d.off++
	start = d.off
	p := d.peer(named("op peer"), true)
	if d.err != nil {
		return Op{}, false
	}
	switch {
	case kind == OpNothing && p != 0:
		d.fail(start, named("op peer"), "NOTHING with peer %d, want 0", p)
		return Op{}, false
	case kind != OpNothing && p == 0:
		d.fail(start, named("op peer"), "is 0, want a peer id in 1..%d", MaxPeers)
		return Op{}, false
	}
	start = d.off
	inc := d.uvarint(named("op incarnation"))
	if d.err != nil {
		return Op{}, false
	}
	if kind != OpAdd && inc != 0 {
		d.fail(start, named("op incarnation"), "%d on %s, want 0", inc, opKindName(kind))
		return Op{}, false
	}
	op = Op{Kind: kind, Peer: p, Incarnation: inc}
	if kind == OpAdd {
		op.Tags = d.tags(named("op tags"), true)
	}
	return op, batched
}

// tags reads tags: a length, 0 only if zeroOK, then the canonical
// encoding.
func (d *decoder) tags(f field, zeroOK bool) Tags {
	start := d.off
	n := d.uvarint(f)
	if d.err != nil {
		return Tags{}
	}
	switch left := len(d.b) - d.off; {
	case n == 0 && !zeroOK:
		d.fail(start, f, "empty, want 1 to %d bytes", MaxTagsSize)
		return Tags{}
	case n > MaxTagsSize:
		d.fail(start, f, "%d bytes above MaxTagsSize %d", n, MaxTagsSize)
		return Tags{}
	case n > uint64(left):
		d.err = wireErrorf("truncated %s at byte %d (reading %s: %d bytes, %d left)", d.typ, start, f, n, left)
		return Tags{}
	}
	if n == 0 {
		return Tags{}
	}
	t, err := decodeTags(string(d.b[d.off : d.off+int(n)]))
	if err != nil {
		d.fail(start, f, "%v", err)
		return Tags{}
	}
	d.off += int(n)
	return t
}

// viewTags reads a view's tags for its n members: a count, then each
// tagged member's position as a delta and its tags. It returns nil when
// no member has tags, else a slice as long as the members.
func (d *decoder) viewTags(n int) []Tags {
	start := d.off
	k := d.uvarint(named("tags count"))
	if d.err != nil || k == 0 {
		return nil
	}
	// Each tagged member takes at least two bytes (position, length) and
	// one of tags: a forged count costs what was sent.
	if left := len(d.b) - d.off; k > uint64(n) || k > uint64(left/3) {
		d.fail(start, named("tags count"), "%d tagged members for %d members and %d bytes left", k, n, left)
		return nil
	}
	tags := make([]Tags, n)
	pos := -1
	for i := range int(k) {
		f := field{name: "tags position", index: i}
		start := d.off
		delta := d.uvarint(f)
		switch {
		case d.err != nil:
			return nil
		case delta == 0:
			d.fail(start, f, "delta 0, want positions strictly ascending")
			return nil
		case delta > uint64(n-1-pos):
			d.fail(start, f, "position %d+%d past the %d members", pos, delta, n)
			return nil
		}
		pos += int(delta)
		tags[pos] = d.tags(field{name: "tags", index: i}, false)
		if d.err != nil {
			return nil
		}
	}
	return tags
}

// members reads a member list: a count, then ascending ids as deltas.
func (d *decoder) members() []PeerID {
	start := d.off
	n := d.uvarint(named("member count"))
	if d.err != nil {
		return nil
	}
	// Check the count before allocating for it: both against MaxPeers and
	// against the input left, since every member takes at least one byte.
	// A forged count thus costs at most what the sender actually sent.
	if n > MaxPeers {
		d.fail(start, named("member count"), "%d above MaxPeers %d", n, MaxPeers)
		return nil
	}
	if left := len(d.b) - d.off; n > uint64(left) {
		d.fail(start, named("member count"), "%d members cannot fit in the %d bytes left", n, left)
		return nil
	}
	if n == 0 {
		return nil
	}
	ids := make([]PeerID, 0, n)
	var prev uint64
	for i := range int(n) {
		f := field{name: "member", index: i}
		start := d.off
		delta := d.uvarint(f)
		switch {
		case d.err != nil:
			return nil
		case delta == 0 && i == 0:
			d.fail(start, f, "is 0, want a peer id in 1..%d", MaxPeers)
			return nil
		case delta == 0:
			d.fail(start, f, "id %d not above previous id %d", prev, prev)
			return nil
		case delta > MaxPeers-prev:
			// Compared this way round, as prev+delta could wrap.
			d.fail(start, f, "id above MaxPeers %d (previous %d + delta %d)", MaxPeers, prev, delta)
			return nil
		}
		prev += delta
		ids = append(ids, PeerID(prev))
	}
	return ids
}

// minOpLen is the shortest encoded Op: kind, peer and incarnation, a byte
// each (a DEL; an ADD has a tags length more).
const minOpLen = 3

// batch reads the operations after first (Message.More): a count of at
// least 1, since a message without a batch does not set the flag, then
// each operation. It refuses what no leader decides: too many operations, one
// that is not an ADD or DEL, a peer named twice.
func (d *decoder) batch(first Op) []Op {
	start := d.off
	n := d.uvarint(named("batch count"))
	if d.err != nil {
		return nil
	}
	// The count is checked before allocating for it, as a member count is.
	switch left := len(d.b) - d.off; {
	case n == 0:
		d.fail(start, named("batch count"), "0: a message without a batch sets no batch flag")
		return nil
	case n > MaxChangesPerViewLimit-1:
		d.fail(start, named("batch count"), "%d operations after the first, above %d in all", n, MaxChangesPerViewLimit)
		return nil
	case n > uint64(left/minOpLen):
		d.fail(start, named("batch count"), "%d operations cannot fit in the %d bytes left", n, left)
		return nil
	}
	more := make([]Op, 0, n)
	for range int(n) {
		op, _ := d.op(false)
		if d.err != nil {
			return nil
		}
		more = append(more, op)
	}
	if problem := checkChange(first, more, MaxPeers); problem != "" {
		d.fail(start, named("batch"), "%s", problem)
		return nil
	}
	return more
}
