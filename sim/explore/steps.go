package explore

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

// A step is a move written as text, the form a counterexample takes in a
// scenario file (the schedule key), so that the exact interleaving the
// explorer found can be replayed:
//
//	deliver p3->p1          the head of the stream from 3 to 1 arrives
//	deliver datagram 2      datagram 2 in flight arrives
//	fire p2 suspect         p2's suspect timer fires, due first
//	fire-early p2 heartbeat p2's heartbeat timer fires before one due earlier
//	action                  the scenario's next action happens
//	lose datagram 2         datagram 2 is lost
//	duplicate datagram 2    datagram 2 is delivered twice
//	reset p1->p2            the stream from 1 to 2 breaks
//	crash p2, kill p2       p2 crashes, or is killed
//
// Datagrams are numbered in the order they went into flight, which a
// replay reproduces.

// String renders mv as a step.
func (mv move) String() string {
	switch mv.kind {
	case deliverStream:
		return fmt.Sprintf("deliver p%d->p%d", mv.from, mv.to)
	case deliverDatagram:
		return fmt.Sprintf("deliver datagram %d", mv.index)
	case fireTimer:
		return fmt.Sprintf("fire p%d %s", mv.from, protocol.TimerKind(mv.index))
	case fireEarly:
		return fmt.Sprintf("fire-early p%d %s", mv.from, protocol.TimerKind(mv.index))
	case nextAction:
		return "action"
	case dropDatagram:
		return fmt.Sprintf("lose datagram %d", mv.index)
	case dupDatagram:
		return fmt.Sprintf("duplicate datagram %d", mv.index)
	case resetStream:
		return fmt.Sprintf("reset p%d->p%d", mv.from, mv.to)
	case crashPeer:
		return fmt.Sprintf("crash p%d", mv.from)
	case killPeer:
		return fmt.Sprintf("kill p%d", mv.from)
	}
	return "?"
}

// parseStep reads a step written by move.String.
func parseStep(s string) (move, error) {
	f := strings.Fields(s)
	bad := func() (move, error) {
		return move{}, fmt.Errorf("step %q: want one of deliver pA->pB, deliver datagram N, fire pA KIND, fire-early pA KIND, "+
			"action, lose datagram N, duplicate datagram N, reset pA->pB, crash pA, kill pA", s)
	}
	link := func(t string) (protocol.PeerID, protocol.PeerID, bool) {
		a, b, ok := strings.Cut(t, "->")
		x, okA := peerOf(a)
		y, okB := peerOf(b)
		return x, y, ok && okA && okB
	}
	index := func(t string) (int, bool) {
		n, err := strconv.Atoi(t)
		return n, err == nil && n >= 0
	}
	switch {
	case len(f) == 1 && f[0] == "action":
		return move{kind: nextAction}, nil
	case len(f) == 2 && f[0] == "deliver":
		if a, b, ok := link(f[1]); ok {
			return move{kind: deliverStream, from: a, to: b}, nil
		}
	case len(f) == 2 && f[0] == "reset":
		if a, b, ok := link(f[1]); ok {
			return move{kind: resetStream, from: a, to: b}, nil
		}
	case len(f) == 3 && f[1] == "datagram" && (f[0] == "deliver" || f[0] == "lose" || f[0] == "duplicate"):
		if i, ok := index(f[2]); ok {
			kind := map[string]moveKind{"deliver": deliverDatagram, "lose": dropDatagram, "duplicate": dupDatagram}[f[0]]
			return move{kind: kind, index: i}, nil
		}
	case len(f) == 3 && (f[0] == "fire" || f[0] == "fire-early"):
		p, okP := peerOf(f[1])
		for k := protocol.TimerKind(1); k < timerKinds; k++ {
			if okP && k.String() == f[2] {
				kind := fireTimer
				if f[0] == "fire-early" {
					kind = fireEarly
				}
				return move{kind: kind, from: p, index: int(k)}, nil
			}
		}
	case len(f) == 2 && (f[0] == "crash" || f[0] == "kill"):
		if p, ok := peerOf(f[1]); ok {
			if f[0] == "crash" {
				return move{kind: crashPeer, from: p}, nil
			}
			return move{kind: killPeer, from: p}, nil
		}
	}
	return bad()
}

func peerOf(s string) (protocol.PeerID, bool) {
	n, err := strconv.Atoi(strings.TrimPrefix(s, "p"))
	return protocol.PeerID(n), err == nil && strings.HasPrefix(s, "p") && n >= 1 && n <= protocol.MaxPeers
}

// enabled reports whether mv is one of the moves enabled in s.
func (x *explorer) enabled(s *state, mv move) bool {
	for _, m := range x.moves(s, nil) {
		if m == mv {
			return true
		}
	}
	return false
}

// Replay plays sc's schedule: the replay up to explore_from, then each
// step in order, judging every state as an exploration does. It is how
// a counterexample written by simulate -explore -explore-out is run
// again. A step that is not enabled where it comes is an error naming it.
func Replay(sc scenarios.Scenario, mutation protocol.Mutation) (Result, error) {
	if sc.ExploreFrom <= 0 {
		return Result{}, fmt.Errorf("scenario %s has a schedule but no explore_from: nothing says where it begins", sc.Name)
	}
	if a := unmodelled(sc); a != nil {
		return Result{}, fmt.Errorf("%s:%d: the explorer does not model %s actions or triggers (after:)", sc.File, a.Line, a.Kind)
	}
	x := &explorer{opts: Options{Faults: len(sc.Schedule)}, cfg: sc.Timing, tags: sc.Tags}
	x.cfg.Mutation = mutation
	s, log := x.replay(sc)
	res := Result{Start: log, Exhausted: true}
	for i, text := range sc.Schedule {
		if s.violation != nil {
			break
		}
		mv, err := parseStep(text)
		if err != nil {
			return res, fmt.Errorf("%s: schedule step %d: %v", sc.File, i+1, err)
		}
		if !x.enabled(s, mv) {
			return res, fmt.Errorf("%s: schedule step %d %q is not possible there", sc.File, i+1, text)
		}
		var what string
		s, what = x.apply(s, mv)
		res.Depth, res.States, res.Transitions = i+1, i+2, i+1
		res.path = append(res.path, pathStep{mv: mv, what: what})
	}
	if s.violation != nil {
		res.Violation = &Violation{Property: s.violation.property, Detail: s.violation.detail, Path: res.describe(), Steps: res.steps()}
	}
	return res, nil
}
