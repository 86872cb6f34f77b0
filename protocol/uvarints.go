package protocol

import "encoding/binary"

// uvarints appends values as uvarints: the encoding shared by the state
// file (EncodeState) and the model checker's state keys (AppendState).
type uvarints []byte

func (b *uvarints) u(v uint64) { *b = binary.AppendUvarint(*b, v) }

func (b *uvarints) flag(v bool) {
	if v {
		b.u(1)
	} else {
		b.u(0)
	}
}

func (b *uvarints) ballot(x Ballot) { b.u(x.Round); b.u(uint64(x.Leader)) }

func (b *uvarints) op(o Op) { b.u(uint64(o.Kind)); b.u(uint64(o.Peer)); b.u(o.Incarnation) }

// ops appends a count, then each operation.
func (b *uvarints) ops(more []Op) {
	b.u(uint64(len(more)))
	for _, o := range more {
		b.op(o)
	}
}

// change appends c's first operation, then the others as ops does.
func (b *uvarints) change(c Change) { b.op(c.Op); b.ops(c.More) }

func (b *uvarints) view(v View) {
	b.u(uint64(v.ID))
	b.u(uint64(len(v.Members)))
	for _, q := range v.Members {
		b.u(uint64(q))
	}
}

// tags appends t as its length, then its bytes.
func (b *uvarints) tags(t Tags) { *b = appendTags(*b, t) }

// viewTags appends the tags of a view's members (View.Tags): the count of
// members with tags, then each one's position as a delta from the one
// before (the first from -1) and its tags.
func (b *uvarints) viewTags(tags []Tags) { *b = appendViewTags(*b, tags) }

// changeTags appends the tags of each ADD of c, in order.
func (b *uvarints) changeTags(c Change) {
	for i := range c.Len() {
		if op := c.At(i); op.Kind == OpAdd {
			b.tags(op.Tags)
		}
	}
}

// durable appends s field by field, in the order the state file's layout
// documents (statefile.go).
func (b *uvarints) durable(s *DurableState) {
	b.u(s.Incarnation)
	b.ballot(s.Promise)
	b.u(s.MaxRound)
	b.ballot(s.Following)
	b.flag(s.HasPending)
	b.op(s.PendingOp)
	b.u(uint64(s.PendingViewID))
	b.ballot(s.PendingBallot)
	b.view(s.View)
	b.ballot(s.ViewBallot)
	b.op(s.ViewOp)
	for i := range s.View.Members {
		b.u(s.Incarnations[i])
		b.u(s.HeardAs[i])
	}
	b.u(uint64(s.LatestViewID))
	b.view(s.Exit)
	b.ballot(s.ExitBallot)
	b.op(s.ExitOp)
	if s.hasBatch() || s.hasTags() {
		// Versions 2 and 3 only (statefile.go): a state of single
		// operations without tags keeps version 1's bytes.
		b.ops(s.PendingMore)
		b.ops(s.ViewMore)
		b.ops(s.ExitMore)
	}
	if s.hasTags() {
		// Version 3 only: a state without tags keeps version 2's.
		b.tags(s.Tags)
		b.viewTags(s.View.Tags)
		b.viewTags(s.Exit.Tags)
		b.changeTags(Change{Op: s.PendingOp, More: s.PendingMore})
		b.changeTags(Change{Op: s.ViewOp, More: s.ViewMore})
		b.changeTags(Change{Op: s.ExitOp, More: s.ExitMore})
	}
}
