package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The wire format of a Message, version 4:
//
//	byte 0     WireVersion
//	byte 1     Type (MsgType)
//	uvarint    From
//	uvarint    To
//	uvarint    Incarnation (the sender's)
//	then only the fields the type carries, in this order:
//	Ballot     uvarint Round, uvarint Leader   HEARTBEAT REQ OK NACK NEWVIEW NEWLEADER PENDING
//	ViewID     uvarint                         HEARTBEAT JOIN REQ OK NACK NEWVIEW NEWLEADER PENDING NOTMEMBER
//	Members    uvarint count, then each id as  HEARTBEAT (its suspects) NEWVIEW PENDING
//	           a uvarint delta from the one
//	           before (the first from 0)
//	Tags       uvarint count of the members    NEWVIEW
//	           with tags, then for each its
//	           position in Members as a
//	           uvarint delta from the one
//	           before (the first from -1), and
//	           its tags as uvarint length (1 to
//	           MaxTagsSize) and bytes
//	Op         byte Kind, uvarint Peer,        JOIN REQ NEWVIEW PENDING
//	           uvarint Incarnation (0 unless
//	           Kind is ADD), and for an ADD
//	           its tags as uvarint length (0
//	           to MaxTagsSize) and bytes; in
//	           REQ, NEWVIEW and PENDING, Kind
//	           has bit 0x80 set when More
//	           follows
//	More       uvarint count (at least 1),     REQ NEWVIEW PENDING, right
//	           then each op as Op is, never    after Op, only when Op's
//	           with bit 0x80                   Kind has bit 0x80
//	OpBallot   uvarint Round, uvarint Leader   PENDING
//	Leader     uvarint                         REDIRECT NOTMEMBER
//	ToIncarnation uvarint                      NEWVIEW
//
// LEAVE carries nothing after To.
//
// A batch (Message.More) is announced by the flag bit of Op's kind and
// present only then, so a message of one operation is encoded exactly as
// before batches existed, under the same version: a cluster that never
// batches (Config.MaxChangesPerView 1) sends the same bytes. A build that
// predates batches refuses one as an unknown op kind, as every peer of a
// cluster is meant to run one configuration. With More, Op and every
// operation of More are ADD or DEL, of distinct peers, at most
// MaxChangesPerViewLimit in all.
//
// The encoding is canonical: every Message has exactly one encoding, and
// Decode refuses anything else (non-minimal uvarints, trailing bytes, member
// deltas of 0). So decoding and re-encoding reproduces the input byte for
// byte, and two peers never disagree about what a frame says.
//
// View ids and ballot rounds (OpBallot's too) are below math.MaxUint64:
// each grows one at a time, and the largest value would leave no next one.

// WireVersion is the first byte of every encoded message. A peer refuses
// other versions outright rather than guess at a layout it does not know.
// Version 2 added the sender's incarnation to every message and the
// joiner's highest known view id to JOIN; version 3, the sender's
// suspicions to HEARTBEAT; version 4, tags to ADD operations and to
// NEWVIEW's members.
const WireVersion = 4

const (
	// maxIDLen is the longest uvarint of a peer id or member count: both
	// are at most MaxPeers, and MaxPeers < 1<<14 fits in two 7-bit groups.
	maxIDLen = 2
	// maxU64Len is the longest uvarint of a uint64 (ballot rounds, view
	// ids, incarnations).
	maxU64Len = binary.MaxVarintLen64
	// maxBallotLen is the longest encoded Ballot: round, then leader.
	maxBallotLen = maxU64Len + maxIDLen
	// maxTagsLen is the longest encoded Tags: a length of at most
	// MaxTagsSize (two uvarint bytes), then the bytes.
	maxTagsLen = 2 + MaxTagsSize
	// maxOpLen is the longest encoded Op: kind, peer, incarnation, tags.
	maxOpLen = 1 + maxIDLen + maxU64Len + maxTagsLen
)

// Both MaxTagsSize and a tag position (below MaxPeers) must fit in two
// uvarint bytes, as maxTagsLen and MaxMessageSize assume.
const _ = uint(1<<14 - 1 - MaxTagsSize)

// This fails to compile if MaxPeers outgrows two uvarint bytes, which
// maxIDLen, and so MaxMessageSize, assume.
const _ = uint(1<<14 - 1 - MaxPeers)

// MaxMessageSize bounds the length of any encoded message, so a receiver
// can refuse a frame without reading it all. The largest message is a
// NEWVIEW of MaxPeers members, each with MaxTagsSize bytes of tags, and a
// batch of MaxChangesPerViewLimit ADDs, every number at its longest (it
// carries no OpBallot, counted below all the same):
//
//	version, type                              2
//	From, To          2*2 =                    4
//	Incarnation                               10
//	Ballot, OpBallot  2*(10+2) =              24
//	ViewID                                    10
//	Op: kind, peer,   1+2+10+514 =           527
//	    incarnation, tags
//	member count                               2
//	member deltas     1024 + 1024/128 =     1032
//	tags count                                 2
//	tags              1024*(2+514) =      528384
//	batch count                                2
//	batch ops         63*527 =             33201
//	ToIncarnation                             10
//	                                      ------
//	                                      563210
//
// The member deltas: a list of n <= MaxPeers members takes n bytes, plus
// one more for each delta of 128 or above (two uvarint bytes; none needs
// three, as MaxPeers < 1<<14). The deltas add up to the last id, at most
// MaxPeers, so at most MaxPeers/128 of them can be that large. A batch
// holds at most MaxChangesPerViewLimit operations, Op being the first.
//
// A view without tags costs one byte more than the members (the tags
// count), and a cluster whose members have none sends messages of a few
// dozen bytes to a few KB: runtimes should read a frame into a buffer of
// its announced size, not hold MaxMessageSize per connection.
const MaxMessageSize = 2 + // version, type
	2*maxIDLen + // From, To
	maxU64Len + // Incarnation
	2*maxBallotLen + // Ballot, OpBallot
	maxU64Len + // ViewID
	maxOpLen + // Op: kind, peer, incarnation
	maxIDLen + // member count
	MaxPeers + MaxPeers/128 + // member deltas
	maxIDLen + // tags count
	MaxPeers*(maxIDLen+maxTagsLen) + // tags: position, then tags
	maxIDLen + // batch count
	(MaxChangesPerViewLimit-1)*maxOpLen + // batch ops after Op
	maxU64Len // ToIncarnation

// MaxHeartbeatSize bounds an encoded HEARTBEAT, the one message that
// travels as a datagram (MsgType.Transport): the header, its ballot and
// view id, and its suspects as a member list, counted as MaxMessageSize
// counts members. Heartbeats carry no tags, so a runtime's datagram
// buffer need not follow MaxMessageSize.
const MaxHeartbeatSize = 2 + // version, type
	2*maxIDLen + // From, To
	maxU64Len + // Incarnation
	maxBallotLen + // Ballot
	maxU64Len + // ViewID
	maxIDLen + // suspect count
	MaxPeers + MaxPeers/128 // suspect deltas

// opBatchFlag, set in the kind byte of a message's Op, says that the
// operations of More follow it. Op kinds are small numbers, so the bit
// can never be read as one.
const opBatchFlag = 0x80

// ErrMalformed is matched (errors.Is) by every error Decode and
// AppendMessage return: the bytes, or the message, break the wire format.
// The error's text says what is wrong and where.
var ErrMalformed = errors.New("wire: malformed message")

// wireError is the concrete error of this file and wire_decode.go. A
// distinct type, rather than fmt.Errorf("%w"), keeps ErrMalformed's own
// text out of every message while still matching it.
type wireError struct{ msg string }

func (e *wireError) Error() string { return e.msg }

// Unwrap lets errors.Is(err, ErrMalformed) hold for every wire error.
func (e *wireError) Unwrap() error { return ErrMalformed }

func wireErrorf(format string, args ...any) error {
	return &wireError{msg: "wire: " + fmt.Sprintf(format, args...)}
}

// layout is the set of optional fields a message type carries.
type layout uint16

const (
	carriesBallot layout = 1 << iota
	carriesViewID
	carriesMembers
	carriesOp
	carriesOpBallot
	carriesLeader
	carriesToIncarnation
	carriesMore
	carriesTags
)

// layouts is the one place that says which fields each type carries; both
// AppendMessage and Decode follow it, so they cannot disagree. It is also
// the wire's list of types: a new MsgType must be added here to be sent.
var layouts = [...]layout{
	MsgHeartbeat: carriesBallot | carriesViewID | carriesMembers,
	MsgJoin:      carriesViewID | carriesOp,
	MsgRedirect:  carriesLeader,
	MsgReq:       carriesBallot | carriesViewID | carriesOp | carriesMore,
	MsgOK:        carriesBallot | carriesViewID,
	MsgNack:      carriesBallot | carriesViewID,
	MsgNewView:   carriesBallot | carriesViewID | carriesMembers | carriesTags | carriesOp | carriesToIncarnation | carriesMore,
	MsgNewLeader: carriesBallot | carriesViewID,
	MsgPending:   carriesBallot | carriesViewID | carriesMembers | carriesOp | carriesOpBallot | carriesMore,
	MsgNotMember: carriesViewID | carriesLeader,
	MsgLeave:     0,
}

// layoutOf returns the layout of t, and false if the wire knows no type t.
// It deliberately does not rely on MsgType.Valid: what the wire accepts is
// decided by this file's table alone.
func layoutOf(t MsgType) (layout, bool) {
	if t == 0 || int(t) >= len(layouts) {
		return 0, false
	}
	return layouts[t], true
}

// Encode returns the encoding of m in a new slice; see AppendMessage.
func Encode(m *Message) ([]byte, error) {
	return AppendMessage(nil, m)
}

// AppendMessage appends the encoding of m to dst and returns the extended
// slice. Only the fields m.Type carries are encoded; the others are ignored.
//
// It refuses (returning dst unchanged and an error matching ErrMalformed)
// exactly the messages Decode would refuse: an unknown Type, From or To
// outside 1..MaxPeers, any other id above MaxPeers, an Op kind other than
// OpNothing/OpAdd/OpDel, an Op peer that is not 0 exactly when the kind is
// OpNothing, an Op incarnation other than 0 when the kind is not OpAdd,
// more than MaxPeers members, members not strictly ascending or containing
// 0, a view id or ballot round (OpBallot's included) of math.MaxUint64, a
// batch (More) that is no change a peer could decide (see checkChange). So
// whatever it encodes decodes back to the same message.
//
// Appending to a buffer with room for MaxMessageSize more bytes does not
// allocate.
func AppendMessage(dst []byte, m *Message) ([]byte, error) {
	if m == nil {
		return dst, wireErrorf("cannot encode a nil message")
	}
	l, err := checkEncodable(m)
	if err != nil {
		return dst, err
	}
	dst = append(dst, WireVersion, byte(m.Type))
	dst = binary.AppendUvarint(dst, uint64(m.From))
	dst = binary.AppendUvarint(dst, uint64(m.To))
	dst = binary.AppendUvarint(dst, m.Incarnation)
	if l&carriesBallot != 0 {
		dst = appendBallot(dst, m.Ballot)
	}
	if l&carriesViewID != 0 {
		dst = binary.AppendUvarint(dst, uint64(m.ViewID))
	}
	if l&carriesMembers != 0 {
		dst = binary.AppendUvarint(dst, uint64(len(m.Members)))
		var prev PeerID
		for _, id := range m.Members {
			// checkEncodable found the list strictly ascending, so every
			// delta is >= 1: a 0 on the wire can only be corruption.
			dst = binary.AppendUvarint(dst, uint64(id-prev))
			prev = id
		}
	}
	if l&carriesTags != 0 {
		dst = appendViewTags(dst, m.Tags)
	}
	if l&carriesOp != 0 {
		if l&carriesMore == 0 || len(m.More) == 0 {
			dst = appendOp(dst, m.Op, 0)
		} else {
			dst = appendOp(dst, m.Op, opBatchFlag)
			dst = binary.AppendUvarint(dst, uint64(len(m.More)))
			for _, op := range m.More {
				dst = appendOp(dst, op, 0)
			}
		}
	}
	if l&carriesOpBallot != 0 {
		dst = appendBallot(dst, m.OpBallot)
	}
	if l&carriesLeader != 0 {
		dst = binary.AppendUvarint(dst, uint64(m.Leader))
	}
	if l&carriesToIncarnation != 0 {
		dst = binary.AppendUvarint(dst, m.ToIncarnation)
	}
	return dst, nil
}

// appendOp appends op, its kind byte or'ed with flag.
func appendOp(dst []byte, op Op, flag byte) []byte {
	dst = append(dst, byte(op.Kind)|flag)
	dst = binary.AppendUvarint(dst, uint64(op.Peer))
	dst = binary.AppendUvarint(dst, op.Incarnation)
	if op.Kind == OpAdd {
		dst = appendTags(dst, op.Tags)
	}
	return dst
}

func appendTags(dst []byte, t Tags) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(t.enc)))
	return append(dst, t.enc...)
}

// appendViewTags appends a view's tags: the count of members with tags,
// then each one's position (as a delta) and tags.
func appendViewTags(dst []byte, tags []Tags) []byte {
	n := 0
	for _, t := range tags {
		if !t.IsZero() {
			n++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(n))
	prev := -1
	for i, t := range tags {
		if !t.IsZero() {
			dst = binary.AppendUvarint(dst, uint64(i-prev))
			dst = appendTags(dst, t)
			prev = i
		}
	}
	return dst
}

func appendBallot(dst []byte, b Ballot) []byte {
	dst = binary.AppendUvarint(dst, b.Round)
	return binary.AppendUvarint(dst, uint64(b.Leader))
}

// checkEncodable applies Decode's rules to the fields m.Type carries, so an
// invalid message is caught at the sender, where the bug is, rather than
// dropped as garbage by every receiver. It returns the layout of m.Type.
func checkEncodable(m *Message) (layout, error) {
	l, ok := layoutOf(m.Type)
	if !ok {
		return 0, wireErrorf("cannot encode unknown message type %d", uint8(m.Type))
	}
	fail := func(field, format string, args ...any) error {
		return wireErrorf("cannot encode %s: %s: %s", m.Type, field, fmt.Sprintf(format, args...))
	}
	peer := func(field string, p PeerID, zeroOK bool) error {
		if p > MaxPeers {
			return fail(field, "%d above MaxPeers %d", p, MaxPeers)
		}
		if p == 0 && !zeroOK {
			return fail(field, "is 0, want a peer id in 1..%d", MaxPeers)
		}
		return nil
	}
	if err := peer("from", m.From, false); err != nil {
		return 0, err
	}
	if err := peer("to", m.To, false); err != nil {
		return 0, err
	}
	// View ids and ballot rounds grow one at a time: the largest value
	// leaves no next one (see decoder.counter).
	counter := func(field string, v uint64) error {
		if v == math.MaxUint64 {
			return fail(field, "%d is the largest value: the next one would wrap", v)
		}
		return nil
	}
	if l&carriesBallot != 0 {
		if err := counter("ballot round", m.Ballot.Round); err != nil {
			return 0, err
		}
		if err := peer("ballot leader", m.Ballot.Leader, true); err != nil {
			return 0, err
		}
	}
	if l&carriesViewID != 0 {
		if err := counter("view id", uint64(m.ViewID)); err != nil {
			return 0, err
		}
	}
	if l&carriesMembers != 0 {
		if len(m.Members) > MaxPeers {
			return 0, fail("members", "%d members above MaxPeers %d", len(m.Members), MaxPeers)
		}
		var prev PeerID
		for i, id := range m.Members {
			// Checked inline, not through peer, so the field name is only
			// formatted on failure: encoding must not allocate.
			switch {
			case i > 0 && id <= prev:
				return 0, fail(fmt.Sprintf("member %d", i), "id %d not above previous id %d", id, prev)
			case id == 0:
				return 0, fail(fmt.Sprintf("member %d", i), "is 0, want a peer id in 1..%d", MaxPeers)
			case id > MaxPeers:
				return 0, fail(fmt.Sprintf("member %d", i), "%d above MaxPeers %d", id, MaxPeers)
			}
			prev = id
		}
	}
	if l&carriesOp != 0 {
		switch m.Op.Kind {
		case OpNothing:
			if m.Op.Peer != 0 {
				return 0, fail("op peer", "NOTHING with peer %d, want 0", m.Op.Peer)
			}
		case OpAdd, OpDel:
			if err := peer("op peer", m.Op.Peer, false); err != nil {
				return 0, err
			}
		default:
			return 0, fail("op kind", "unknown kind %d", uint8(m.Op.Kind))
		}
		// The incarnation names the process being added: only an ADD has
		// one (which may itself be 0).
		if m.Op.Kind != OpAdd && m.Op.Incarnation != 0 {
			return 0, fail("op incarnation", "%d on %s, want 0", m.Op.Incarnation, opKindName(m.Op.Kind))
		}
		if m.Op.Kind != OpAdd && !m.Op.Tags.IsZero() {
			return 0, fail("op tags", "on %s, want none", opKindName(m.Op.Kind))
		}
	}
	if l&carriesTags != 0 {
		if problem := viewTagsProblem(m.Members, m.Tags); problem != "" {
			return 0, fail("tags", "%s", problem)
		}
	}
	if l&carriesOpBallot != 0 {
		if err := counter("op ballot round", m.OpBallot.Round); err != nil {
			return 0, err
		}
		if err := peer("op ballot leader", m.OpBallot.Leader, true); err != nil {
			return 0, err
		}
	}
	if l&carriesLeader != 0 {
		if err := peer("leader", m.Leader, true); err != nil {
			return 0, err
		}
	}
	if len(m.More) > 0 && l&carriesMore != 0 {
		if problem := checkChange(m.Op, m.More, MaxPeers); problem != "" {
			return 0, fail("batch", "%s", problem)
		}
	}
	return l, nil
}

// opKindName names a valid op kind in error messages.
func opKindName(k OpKind) string {
	switch k {
	case OpNothing:
		return "NOTHING"
	case OpAdd:
		return "ADD"
	case OpDel:
		return "DEL"
	}
	return fmt.Sprintf("kind %d", uint8(k))
}
