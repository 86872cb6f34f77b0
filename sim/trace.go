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
	// Fault says how, Reason describes it; Peer is the peer concerned, if one.
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
	Reason string // drop, fault: for people to read
	Fault  FaultKind
	// Partition, for a fault of kind FaultPartition, FaultCut or FaultHeal,
	// is a number shared by a partition and its heal, and by no other.
	Partition int
}

// FaultKind is what a fault event is, so that a program need not parse its
// Reason, which is worded for people.
type FaultKind uint8

const (
	// FaultOther: none of the kinds below (a refused message, a lost
	// state write, a refused state file, messages a process never sent, ...).
	FaultOther     FaultKind = iota + 1
	FaultStart               // a peer's first process starts
	FaultRestart             // a peer's process starts again: restart, churn, the liveness phase
	FaultCrash               // a peer crashes, logging it
	FaultKill                // a peer's process is killed (kill -9): by the scenario, churn, or kept down for good
	FaultLeave               // a peer is asked to leave
	FaultEvict               // a leader is asked to evict a peer
	FaultForceView           // an operator forces a view at a peer
	FaultPause               // a peer's process is stopped (SIGSTOP)
	FaultResume              // a stopped process continues
	FaultPartition           // a partition begins: a peer isolated, or the peers split in groups
	FaultCut                 // a one-way link is cut
	FaultHeal                // a partition or cut ends; Partition says which
	FaultHealAll             // the liveness phase: every partition and cut ends, loss stops
	FaultDrop                // targeted drops of the next matching messages begin
	FaultNetwork             // the network's loss, delay, duplication or reordering changes
	FaultChurn               // churn begins
	FaultDamage              // a state file is torn or corrupted
	FaultHook                // the leader_crash_hook is armed, or fires
	FaultArm                 // an action waits for a message: its trigger is armed
	FaultTrigger             // a trigger goes off
	FaultSkipped             // an action had nothing to act on (its peer down, no leader)
)

var faultKindNames = [...]string{FaultOther: "other", FaultStart: "start", FaultRestart: "restart",
	FaultCrash: "crash", FaultKill: "kill", FaultLeave: "leave", FaultEvict: "evict", FaultForceView: "force-view",
	FaultPause: "pause", FaultResume: "resume", FaultPartition: "partition", FaultCut: "cut", FaultHeal: "heal",
	FaultHealAll: "heal-all", FaultDrop: "drop", FaultNetwork: "network", FaultChurn: "churn", FaultDamage: "damage",
	FaultHook: "hook", FaultArm: "arm", FaultTrigger: "trigger", FaultSkipped: "skipped"}

func (k FaultKind) String() string {
	if int(k) < len(faultKindNames) && faultKindNames[k] != "" {
		return faultKindNames[k]
	}
	return "fault(?)"
}
