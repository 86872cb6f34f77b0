package explore

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

// timerKinds sizes a process's timer table: the protocol's kinds are
// small numbers, and one slot per kind is all a peer ever arms.
const timerKinds = 8

// replay plays sc's timeline deterministically up to sc.ExploreFrom and
// returns the state reached, with a log of what happened. Every message
// arrives 1 ms after it is sent, nothing is lost, and timers fire on
// time; events due at the same time run actions first, then messages in
// the order they were sent, then timers by peer and kind. The actions
// after ExploreFrom are left to the exploration, in timeline order.
func (x *explorer) replay(sc scenarios.Scenario) (*state, []string) {
	n := sc.Peers
	s0 := n + 1
	s := &state{views: map[protocol.ViewID]protocol.View{}, viewsOwned: true, target: &target{maxChanges: x.cfg.MaxChangesPerView}}
	s.procs = make([]*proc, n+1)
	s.owned = make([]bool, n+1)
	s.joined, s.reasons = make([]bool, n+1), make([]bool, n+1)
	s.streams, s.streamsOwned = make([][]flight, s0*s0), true
	s.blocked = make([]int, s0*s0)
	for id := 1; id <= n; id++ {
		s.procs[id] = &proc{timers: make([]armed, timerKinds)}
	}
	timeline := actions(sc)
	split := 0
	for split < len(timeline) && timeline[split].At <= sc.ExploreFrom {
		split++
	}
	todo, later := timeline[:split], timeline[split:]
	var log []string
	for s.violation == nil {
		mv, at, ok := earliest(s, todo)
		if !ok || at > sc.ExploreFrom {
			break
		}
		s.now = max(s.now, at)
		var next *state
		var what string
		if mv.kind == nextAction {
			next = s.clone()
			x.act(next, todo[0])
			what = fmt.Sprintf("at %v %s", next.now, todo[0].describe())
			todo = todo[1:]
		} else {
			next, what = x.apply(s, mv)
		}
		*s = *next
		clear(s.owned) // next's processes write into next: copy them again when touched
		log = append(log, what)
	}
	s.now = max(s.now, sc.ExploreFrom)
	x.actions = later
	return s, log
}

// actions returns sc's timeline in time order, with the heal of each
// partition that has an Until placed at that time.
func actions(sc scenarios.Scenario) []action {
	var all []action
	for _, a := range sc.Timeline {
		all = append(all, action{Action: a})
		switch a.Kind {
		case scenarios.ActIsolate, scenarios.ActSplit, scenarios.ActCut:
			if a.Until > 0 {
				heal := a
				heal.At = a.Until
				all = append(all, action{Action: heal, heal: true})
			}
		}
	}
	slices.SortStableFunc(all, func(a, b action) int { return cmp.Compare(a.At, b.At) })
	return all
}

// unmodelled reports the first action of sc the explorer cannot take
// part in, or nil: actions set off by messages, pauses, churn (drawn at
// random) and network changes (the explorer chooses losses itself).
func unmodelled(sc scenarios.Scenario) *scenarios.Action {
	for i, a := range sc.Timeline {
		switch {
		case a.After != nil, a.Kind == scenarios.ActPause, a.Kind == scenarios.ActChurn, a.Kind == scenarios.ActNetwork:
			return &sc.Timeline[i]
		}
	}
	return nil
}

// earliest returns the replay's next event and when it is due: the next
// action, the stream head or datagram due first, or the timer due first.
func earliest(s *state, todo []action) (move, time.Duration, bool) {
	var best move
	var at time.Duration
	found := false
	consider := func(mv move, t time.Duration) {
		if !found || t < at {
			best, at, found = mv, t, true
		}
	}
	if len(todo) > 0 {
		consider(move{kind: nextAction}, todo[0].At)
	}
	n := protocol.PeerID(len(s.procs) - 1)
	for from := protocol.PeerID(1); from <= n; from++ {
		for to := protocol.PeerID(1); to <= n; to++ {
			if q := s.stream(from, to); len(q) > 0 {
				consider(move{kind: deliverStream, from: from, to: to}, q[0].at)
			}
		}
	}
	for i, f := range s.datagrams {
		consider(move{kind: deliverDatagram, index: i}, f.at)
	}
	for id := protocol.PeerID(1); id <= n; id++ {
		p := s.procs[id]
		if p.node == nil || !p.alive {
			continue
		}
		for k, t := range p.timers {
			if t.on {
				consider(move{kind: fireTimer, from: id, index: k}, t.deadline)
			}
		}
	}
	return best, at, found
}
