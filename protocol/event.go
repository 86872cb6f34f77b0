package protocol

import (
	"strconv"
	"time"
)

// EventType is the kind of input handed to Peer.Step.
type EventType uint8

const (
	// EventStart starts the peer: peer 1 asks the hosts whether a cluster
	// exists and founds view 1 = [1] only if none does; every other peer
	// starts joining. A first start and a restart are the same event: a
	// process without stored state cannot tell them apart.
	EventStart EventType = iota + 1
	// EventMessage delivers Msg, received from Msg.From.
	EventMessage
	// EventTimer reports that Timer fired.
	EventTimer
	// EventEvict asks this peer, which must be the leader, to remove Peer.
	EventEvict
	// EventLeave asks this peer to leave the cluster gracefully.
	EventLeave
	// EventCrash stops the peer for good; it produces the "crashing" note.
	EventCrash
	// EventForceView is an operator's way out of a lost majority: the
	// peer installs a view of itself and the members it hears from, under
	// a view id ForceViewJump above any it knows, and campaigns in it. It
	// can lose decisions (docs/design.md, section 15).
	EventForceView
)

var eventTypeNames = [...]string{
	EventStart:     "start",
	EventMessage:   "message",
	EventTimer:     "timer",
	EventEvict:     "evict",
	EventLeave:     "leave",
	EventCrash:     "crash",
	EventForceView: "force-view",
}

func (t EventType) String() string {
	if t >= EventStart && t <= EventForceView {
		return eventTypeNames[t]
	}
	return "event(" + strconv.Itoa(int(t)) + ")"
}

// Event is one input to Peer.Step.
type Event struct {
	Type EventType
	// Now is the driver's monotonic time: virtual time in the simulator,
	// time since process start in the real runtime. It must never decrease
	// from one Step to the next. The protocol reads no clock; this is its
	// only notion of time.
	Now time.Duration

	Msg   Message // EventMessage
	Timer Timer   // EventTimer
	Peer  PeerID  // EventEvict: the peer to remove
	// Incarnation (EventStart) identifies this process among all the
	// processes that have run or will run as this peer: it must differ from,
	// and should grow over, those of earlier starts (the simulator counts
	// starts; a real process uses its start time). Every message carries
	// it, so a member's restart shows in its first message; JOIN names it in
	// its ADD, so a leader can tell a lost NEWVIEW from a restart, and a
	// fresh process installs only the view that added this very
	// incarnation.
	Incarnation uint64
	// State (EventStart), when not nil, is the durable state the peer
	// stored before it stopped (Output.Save): the peer resumes from it as
	// the same member, under its stored incarnation, and Incarnation is
	// not used. Step refuses (ErrBadState) a state that cannot be this
	// peer's.
	State *DurableState
	// Tags (EventStart) are this process's tags (see Tags): its JOIN
	// carries them, and every view that holds it holds them. A peer
	// resuming from State keeps the tags stored with its incarnation, as
	// the members know it by them, and Tags is not used.
	Tags Tags
}

// TimerKind names one of a peer's timers. A peer has at most one timer of
// each kind armed at a time; arming one replaces the previous one.
type TimerKind uint8

const (
	// TimerHeartbeat fires every heartbeat interval: send heartbeats.
	TimerHeartbeat TimerKind = iota + 1
	// TimerSuspect fires at the earliest moment a member could become
	// suspected (last heard + suspect-after), so suspicion is raised on time
	// rather than at the next heartbeat tick.
	TimerSuspect
	// TimerRetry fires every retry interval while something awaits an answer:
	// REQ, NEWVIEW, NEWLEADER or LEAVE.
	TimerRetry
	// TimerJoin fires every join-retry interval while joining.
	TimerJoin
	// TimerLeave fires once, leave-timeout after a LEAVE began.
	TimerLeave
	// TimerBatch fires once, Config.BatchWait after a leader's decision:
	// the operations queued meanwhile go out as one batch.
	TimerBatch

	timerKindEnd
)

var timerKindNames = [...]string{
	TimerHeartbeat: "heartbeat",
	TimerSuspect:   "suspect",
	TimerRetry:     "retry",
	TimerJoin:      "join",
	TimerLeave:     "leave",
	TimerBatch:     "batch",
}

func (k TimerKind) String() string {
	if k >= TimerHeartbeat && k < timerKindEnd {
		return timerKindNames[k]
	}
	return "timer(" + strconv.Itoa(int(k)) + ")"
}

// Timer identifies one arming of a timer. Gen grows every time a timer of
// that kind is armed or cancelled, so a fire that raced with a re-arm or a
// cancel is recognised as stale and ignored: drivers need not cancel timers
// precisely.
type Timer struct {
	Kind TimerKind
	Gen  uint64
}

// TimerRequest asks the driver to arm Timer to fire After from the Now of the
// Step that returned it (replacing any armed timer of that kind), or, when
// Cancel is set, to disarm the timer of that kind.
type TimerRequest struct {
	Timer  Timer
	After  time.Duration
	Cancel bool
}
