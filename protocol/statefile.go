package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
)

// The state file of a durable peer, version 1, 2 or 3:
//
//	8 bytes    "MEMBERLY"
//	byte       StateVersion
//	8 bytes    cluster: the driver's fingerprint of its cluster, little-endian
//	uvarint    peer id
//	uvarint    length of the body, in bytes
//	body       the DurableState, field by field as uvarints (below)
//	4 bytes    CRC-32C of everything before it, little-endian
//
// The body: Incarnation; Promise (round, leader); MaxRound; Following;
// HasPending (0 or 1); PendingOp (kind, peer, incarnation); PendingViewID;
// PendingBallot; View (id, member count, members); ViewBallot; ViewOp;
// then per member of View its incarnation and heard-as incarnation;
// LatestViewID; Exit (id, count, members); ExitBallot; ExitOp; and in
// versions 2 and 3, PendingMore, ViewMore and ExitMore, each a count and
// then its operations; in version 3, then the tags: this process's (a
// length, then the bytes), View's and Exit's (each the count of members
// with tags, then per such member its position as a delta from the one
// before, the first from -1, and its tags), and those of every ADD of
// the pending, view and exit changes, in that order.
//
// A state holding tags is written as version 3; one holding a batch
// (Config.MaxChangesPerView above 1) but no tags as version 2; any other
// as version 1: a peer that never batches nor tags writes the bytes it
// always wrote, and a build that predates either refuses a file it cannot
// read whole by its version, never by a checksum. Every version is read.
//
// A file is whole or refused: a torn write (which write-then-rename
// prevents, but a disk may still do), a flipped bit or a truncation fails
// the checksum or the length; a file of another peer or cluster, or of a
// later version, is refused by name. None is ever read as a fresh start.

// StateVersion is the latest version of the state file layout, which
// this build writes for a state holding a batch; it reads every version
// from stateVersionSingle on.
const StateVersion = 3

// stateVersionSingle is the layout of a state without a batch or tags,
// and stateVersionBatch of one with a batch but no tags, which this build
// still writes for them.
const (
	stateVersionSingle = 1
	stateVersionBatch  = 2
)

// stateMagic opens every state file.
const stateMagic = "MEMBERLY"

// Errors DecodeState wraps: what is wrong with a state file.
var (
	ErrStateCorrupt = errors.New("state file is corrupt")
	ErrStateVersion = errors.New("state file has an unknown version")
	ErrStateForeign = errors.New("state file belongs to another peer or cluster")
)

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// EncodeState returns the state file holding s, for the cluster whose
// fingerprint is cluster.
func EncodeState(s DurableState, cluster uint64) []byte {
	var body uvarints
	body.durable(&s)
	version := byte(stateVersionSingle)
	switch {
	case s.hasTags():
		version = StateVersion
	case s.hasBatch():
		version = stateVersionBatch
	}
	b := append([]byte(stateMagic), version)
	b = binary.LittleEndian.AppendUint64(b, cluster)
	b = binary.AppendUvarint(b, uint64(s.ID))
	b = binary.AppendUvarint(b, uint64(len(body)))
	b = append(b, body...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, crc32c))
}

// DecodeState reads the state file b of peer id in the cluster whose
// fingerprint is cluster. Whether the state makes sense for the peer is
// checked when it starts from it (ErrBadState).
func DecodeState(b []byte, id PeerID, cluster uint64) (DurableState, error) {
	var s DurableState
	head := len(stateMagic) + 1 + 8
	if len(b) < head+4 || !bytes.HasPrefix(b, []byte(stateMagic)) {
		return s, fmt.Errorf("%w: %d bytes, not a state file", ErrStateCorrupt, len(b))
	}
	version := b[len(stateMagic)]
	if version < stateVersionSingle || version > StateVersion {
		return s, fmt.Errorf("%w: version %d, this build reads versions %d to %d", ErrStateVersion, version, stateVersionSingle, StateVersion)
	}
	sum := binary.LittleEndian.Uint32(b[len(b)-4:])
	if got := crc32.Checksum(b[:len(b)-4], crc32c); got != sum {
		return s, fmt.Errorf("%w: checksum %08x, stored %08x (torn or damaged)", ErrStateCorrupt, got, sum)
	}
	if c := binary.LittleEndian.Uint64(b[len(stateMagic)+1:]); c != cluster {
		return s, fmt.Errorf("%w: cluster %016x, this peer's is %016x", ErrStateForeign, c, cluster)
	}
	d := stateDecoder{b: b[head : len(b)-4]}
	if who := d.u(); who != uint64(id) {
		if d.err != nil {
			return s, d.err
		}
		return s, fmt.Errorf("%w: it is peer %d's, this is peer %d", ErrStateForeign, who, id)
	}
	s.ID = id
	if n := d.u(); d.err == nil && n != uint64(len(d.b)) {
		return s, fmt.Errorf("%w: body of %d bytes, %d stored", ErrStateCorrupt, n, len(d.b))
	}
	s.Incarnation = d.u()
	s.Promise = d.ballot()
	s.MaxRound = d.u()
	s.Following = d.ballot()
	switch d.u() {
	case 0:
	case 1:
		s.HasPending = true
	default:
		d.fail("pending flag")
	}
	s.PendingOp = d.op()
	s.PendingViewID = ViewID(d.u())
	s.PendingBallot = d.ballot()
	s.View = d.view()
	s.ViewBallot = d.ballot()
	s.ViewOp = d.op()
	if n := len(s.View.Members); n > 0 && d.err == nil {
		s.Incarnations = make([]uint64, n)
		s.HeardAs = make([]uint64, n)
		for i := range n {
			s.Incarnations[i], s.HeardAs[i] = d.u(), d.u()
		}
	}
	s.LatestViewID = ViewID(d.u())
	s.Exit = d.view()
	s.ExitBallot = d.ballot()
	s.ExitOp = d.op()
	if version >= stateVersionBatch {
		s.PendingMore, s.ViewMore, s.ExitMore = d.ops(), d.ops(), d.ops()
		if d.err == nil && version == stateVersionBatch && !s.hasBatch() {
			// Version 2 is written only for a batch: one is canonical.
			d.fail("version 2 without a batch")
		}
	}
	if version >= 3 {
		s.Tags = d.tags()
		s.View.Tags = d.viewTags(len(s.View.Members))
		s.Exit.Tags = d.viewTags(len(s.Exit.Members))
		s.PendingOp, s.PendingMore = d.changeTags(s.PendingOp, s.PendingMore)
		s.ViewOp, s.ViewMore = d.changeTags(s.ViewOp, s.ViewMore)
		s.ExitOp, s.ExitMore = d.changeTags(s.ExitOp, s.ExitMore)
		if d.err == nil && !s.hasTags() {
			// Version 3 is written only for tags: one is canonical.
			d.fail("version 3 without tags")
		}
	}
	if d.err == nil && len(d.b) > 0 {
		d.fail(fmt.Sprintf("%d bytes after the state", len(d.b)))
	}
	return s, d.err
}

// stateDecoder reads uvarints until the first error, which it keeps.
type stateDecoder struct {
	b   []byte
	err error
}

func (d *stateDecoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s", ErrStateCorrupt, what)
	}
}

func (d *stateDecoder) u() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("number")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *stateDecoder) id() PeerID {
	v := d.u()
	if v > MaxPeers {
		d.fail("peer id")
		return 0
	}
	return PeerID(v)
}

func (d *stateDecoder) ballot() Ballot { return Ballot{Round: d.u(), Leader: d.id()} }

func (d *stateDecoder) op() Op {
	k := d.u()
	if k > uint64(OpDel) {
		d.fail("operation kind")
	}
	return Op{Kind: OpKind(k), Peer: d.id(), Incarnation: d.u()}
}

// ops reads a count, then that many operations; nil for none. Whether
// they make a change is checked at start (checkState).
func (d *stateDecoder) ops() []Op {
	n := d.u()
	if n > MaxChangesPerViewLimit {
		d.fail("batch count")
		return nil
	}
	if n == 0 || d.err != nil {
		return nil
	}
	more := make([]Op, n)
	for i := range more {
		more[i] = d.op()
	}
	return more
}

// tags reads a length, then that many bytes of canonical tags.
func (d *stateDecoder) tags() Tags {
	n := d.u()
	if d.err != nil {
		return Tags{}
	}
	if n > MaxTagsSize || n > uint64(len(d.b)) {
		d.fail("tags length")
		return Tags{}
	}
	t, err := decodeTags(string(d.b[:n]))
	if err != nil {
		d.fail("tags")
		return Tags{}
	}
	d.b = d.b[n:]
	return t
}

// viewTags reads the tags of a view of n members: nil when none has any.
func (d *stateDecoder) viewTags(n int) []Tags {
	k := d.u()
	if d.err != nil || k == 0 {
		return nil
	}
	if k > uint64(n) {
		d.fail("tags count")
		return nil
	}
	tags := make([]Tags, n)
	pos := -1
	for range k {
		delta := d.u()
		if d.err != nil {
			return nil
		}
		if delta == 0 || delta > uint64(n-1-pos) {
			d.fail("tags position")
			return nil
		}
		pos += int(delta)
		if tags[pos] = d.tags(); d.err == nil && tags[pos].IsZero() {
			d.fail("empty tags")
		}
	}
	return tags
}

// changeTags reads the tags of each ADD of first and more, and returns
// them with their tags (more in a new slice).
func (d *stateDecoder) changeTags(first Op, more []Op) (Op, []Op) {
	if first.Kind == OpAdd {
		first.Tags = d.tags()
	}
	if len(more) > 0 {
		more = slices.Clone(more)
		for i := range more {
			if more[i].Kind == OpAdd {
				more[i].Tags = d.tags()
			}
		}
	}
	return first, more
}

func (d *stateDecoder) view() View {
	v := View{ID: ViewID(d.u())}
	n := d.u()
	if n > MaxPeers {
		d.fail("member count")
		return v
	}
	if n > 0 && d.err == nil {
		v.Members = make([]PeerID, n)
		for i := range v.Members {
			v.Members[i] = d.id()
		}
	}
	return v
}
