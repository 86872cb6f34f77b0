package sim

import (
	"time"

	"github.com/memberly/memberly/protocol"
)

// Verdict is the outcome of a run.
type Verdict uint8

const (
	// Pass: no property was violated and every expectation held.
	Pass Verdict = iota
	// SafetyViolation: one of S1-S5 failed (exit status 1).
	SafetyViolation
	// LivenessFailure: L1 or an expectation did not hold in time (exit
	// status 2).
	LivenessFailure
)

func (v Verdict) String() string {
	switch v {
	case Pass:
		return "pass"
	case SafetyViolation:
		return "safety violation"
	}
	return "liveness failure"
}

// ExitCode is the process exit status for the verdict.
func (v Verdict) ExitCode() int { return int(v) }

// PeerState is where one peer ended.
type PeerState struct {
	ID     protocol.PeerID
	Alive  bool
	View   protocol.View
	Leader protocol.PeerID
}

// Result is what a run found.
type Result struct {
	Verdict  Verdict
	Property string        // the violated property or failed check: "S2", "L1", "expect"
	Detail   string        // what exactly
	At       time.Duration // when it was found
	Final    []PeerState   // by id, 1..n

	Events    uint64 // queued events handled (deliveries, timer fires, actions)
	Steps     uint64 // protocol steps
	Delivered uint64 // messages delivered
	Dropped   uint64 // messages lost
	// FalseRemovals counts the views that removed a peer no fault had
	// touched since it was added (check_removals.go).
	FalseRemovals int
	Virtual       time.Duration // virtual time reached
	Trace         []TraceEvent  // with Options.Trace
}
