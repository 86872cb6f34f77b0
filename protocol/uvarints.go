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
	if s.hasBatch() {
		// Version 2 only (statefile.go): a state of single operations
		// keeps version 1's bytes.
		b.ops(s.PendingMore)
		b.ops(s.ViewMore)
		b.ops(s.ExitMore)
	}
}
