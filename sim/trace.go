package sim

import (
	"time"

	"github.com/memberly/memberly/protocol"
)

// TraceKind is the kind of a trace event.
type TraceKind uint8

const (
	// TraceSend: Peer sent Msg (MsgID links it to its delivery or drop).
	TraceSend TraceKind = iota + 1
	// TraceDeliver: Msg (MsgID) reached Msg.To, which stepped it.
	TraceDeliver
	// TraceDrop: Msg (MsgID) was lost; Reason says why. Both ends are in Msg.
	TraceDrop
	// TraceNote: Peer noted Note (a view installed, a suspicion, ...).
	TraceNote
	// TraceFault: the world changed (a crash, a partition, a heal, ...):
	// Reason describes it; Peer is the peer concerned, if one.
	TraceFault
)

var traceKindNames = [...]string{TraceSend: "send", TraceDeliver: "deliver", TraceDrop: "drop", TraceNote: "note", TraceFault: "fault"}

func (k TraceKind) String() string {
	if int(k) < len(traceKindNames) && traceKindNames[k] != "" {
		return traceKindNames[k]
	}
	return "trace(?)"
}

// TraceEvent is one recorded event of a run, in virtual time. A run's trace
// lists them in the order they happened; package sim/trace renders it.
type TraceEvent struct {
	Time   time.Duration
	Kind   TraceKind
	Peer   protocol.PeerID // where it happened: the sender of a send, the receiver of a delivery
	Msg    protocol.Message
	MsgID  uint64 // send, deliver, drop: the same id for one message (a duplicate gets its own)
	Note   protocol.Note
	Reason string // drop, fault
}
