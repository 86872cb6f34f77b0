// Package explore checks every interleaving of the real protocol for small
// clusters, as a model checker does: from a state reached by replaying a
// scenario's timeline up to its explore_from time, it explores every order
// of the events that may come next (deliveries, losses, duplications,
// stream resets, timer fires, crashes, kills and the scenario's remaining
// actions), breadth first, bounded by a depth and a fault budget, and
// judges S1-S5 in every state it reaches. Peers run through protocol.Node,
// the driver every runtime uses, and are cloned from state to state.
//
// Each distinct state is kept once: states are keyed by a canonical
// encoding of every peer, the network and the install history that the
// checkers remember (see explorer.key). Three assumptions make that
// sound: the peers are deterministic (the protocol package's contract),
// equal datagrams in flight are interchangeable, and no two states share
// a 64-bit hash (the odds that a search of a million states merges two
// are about 3 in 10^8). Searches of every order also prune with sleep
// sets (sleep.go), which skip orders of independent deliveries already
// explored and lose no state; delay-bounded searches (delays.go) reach
// deeper by straying little from a default schedule.
package explore

import (
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

// Options bound an exploration.
type Options struct {
	// Depth (transitions) bounds the paths explored from the start state.
	Depth int
	// Faults (losses, duplications, stream resets, crashes, kills, early
	// timers) bounds how many faults one path may hold.
	Faults int
	// Delays, when above 0, bounds how often a path may stray from the
	// default schedule (delays.go), for bugs too deep for every order.
	// 0: no bound, every order of the events is explored. Below 0: none,
	// the default schedule with the faults of the budget alone.
	Delays int
	// MaxStates (distinct states, 0 = no bound) stops an exploration
	// early, for a quick check.
	MaxStates int
	// Mutation breaks the protocol on purpose, to show the checkers fail.
	Mutation protocol.Mutation
	// Progress, when set, receives a progress line every ProgressEvery.
	Progress      io.Writer
	ProgressEvery time.Duration
}

// Result is what an exploration found.
type Result struct {
	States      int // distinct states reached
	Transitions int // transitions taken, to new states or not
	Depth       int // deepest level fully or partly explored
	Elapsed     time.Duration
	// Exhausted: every state within the bounds was explored.
	Exhausted bool
	// Violation, when not nil, is the first property broken, with the
	// shortest path to it from the start state.
	Violation *Violation
	// Start is the replay that led to the start state, as a readable log.
	Start []string

	path []pathStep // Replay's steps so far
}

// pathStep is one transition of a path: the move, and what it did.
type pathStep struct {
	mv   move
	what string
}

func (r Result) describe() []string {
	var d []string
	for _, p := range r.path {
		d = append(d, p.what)
	}
	return d
}

func (r Result) steps() []string {
	var d []string
	for _, p := range r.path {
		d = append(d, p.mv.String())
	}
	return d
}

// Violation is a broken property and how to get there.
type Violation struct {
	Property, Detail string
	Path             []string // the transitions from the start state, in order, described
	// Steps are the same transitions as schedule steps: a scenario with
	// them under schedule replays this very violation (Replay).
	Steps []string
}

// Verdict names the outcome for the stats line.
func (r Result) Verdict() string {
	switch {
	case r.Violation != nil:
		return "SAFETY VIOLATION " + r.Violation.Property
	case r.Exhausted:
		return "pass"
	}
	return "pass (stopped at max states)"
}

// StatsLine is the line simulate prints at the end of an exploration.
func (r Result) StatsLine() string {
	rate := 0.0
	if r.Elapsed > 0 {
		rate = float64(r.States) / r.Elapsed.Seconds()
	}
	return fmt.Sprintf("explore: states=%d transitions=%d depth=%d states/s=%.0f verdict=%s",
		r.States, r.Transitions, r.Depth, rate, r.Verdict())
}

// explorer is one exploration in progress.
type explorer struct {
	opts Options
	// unreduced turns the sleep sets off (sleep.go), for the test that
	// shows they lose no state.
	unreduced bool
	cfg       protocol.Config
	tags      map[protocol.PeerID]protocol.Tags // Scenario.Tags: every process of a peer starts with its tags
	actions   []action                          // the timeline after explore_from, in order
}

// action is a timeline action, or the heal of a partition (heal set) at
// the partition's Until.
type action struct {
	scenarios.Action
	heal bool
}

// node is what the explorer keeps of a visited state: how it was reached,
// and the delays spent on the way (Options.Delays).
type node struct {
	parent uint64
	mv     move
	depth  int32
	delays int32
	sleep  sleepSet // the deliveries it is expanded without (sleep.go)
	// expandedDelays is the fewest delays spent on a path it was expanded
	// from, with sleep as it is now; unexpanded when it has not been.
	// Levels are expanded in order, so an entry with at least as many
	// delays spent is covered by that expansion.
	expandedDelays int32
}

// unexpanded marks a node whose moves are still to be taken.
const unexpanded = math.MaxInt32

// entry is a state in the frontier, with its key and the delays spent on
// the path that put it there.
type entry struct {
	s      *state
	key    uint64
	delays int32
}

// Run explores sc from its explore_from time.
func Run(sc scenarios.Scenario, opts Options) (Result, error) {
	if sc.ExploreFrom <= 0 {
		return Result{}, fmt.Errorf("scenario %s has no explore_from: nothing says where exploring begins", sc.Name)
	}
	if a := unmodelled(sc); a != nil {
		return Result{}, fmt.Errorf("%s:%d: the explorer does not model %s actions or triggers (after:); explore a scenario without them", sc.File, a.Line, a.Kind)
	}
	x := &explorer{opts: opts, cfg: sc.Timing, tags: sc.Tags}
	x.cfg.Mutation = opts.Mutation
	start, log := x.replay(sc)
	res := Result{Start: log}
	if start.violation != nil {
		res.Violation = &Violation{Property: start.violation.property, Detail: start.violation.detail + " (during the replay)"}
		return res, nil
	}
	x.bfs(start, &res)
	return res, nil
}

// bfs explores breadth first from start, so the first violation found has
// a shortest path within the bounds.
func (x *explorer) bfs(start *state, res *Result) {
	began := time.Now()
	lastProgress := began
	var buf []byte
	rootKey, _ := x.key(start, buf)
	seen := map[uint64]node{rootKey: {depth: 0, expandedDelays: unexpanded}}
	frontier := []entry{{s: start, key: rootKey}}
	var mvs []move
	res.States = 1
	for depth := 0; depth < x.opts.Depth && len(frontier) > 0; depth++ {
		res.Depth = depth + 1
		var next []entry
		for _, e := range frontier {
			n := seen[e.key]
			if n.expandedDelays <= e.delays {
				continue // expanded already, with no more spent nor more asleep
			}
			n.expandedDelays = e.delays
			seen[e.key] = n
			sleeping := n.sleep
			mvs = x.moves(e.s, mvs)
			def, hasDef := x.defaultMove(e.s)
			reduce := x.opts.Delays == 0 && !x.unreduced && e.s.reducible()
			var done sleepSet // the deliveries taken from e so far
			for _, mv := range mvs {
				t, delivery := e.s.sleeperOf(mv)
				delivery = delivery && reduce
				if delivery && sleeping&t != 0 {
					continue // an order already explored takes it
				}
				delays := e.delays
				if x.opts.Delays != 0 && !mv.fault() && (!hasDef || mv != def) {
					if delays++; int(delays) > max(x.opts.Delays, 0) {
						continue
					}
				}
				var sleep sleepSet
				if delivery {
					sleep = (sleeping | done) &^ streamsTo(mv.to, len(e.s.procs)-1)
					done |= t
				}
				c, _ := x.step(e.s, mv, false)
				res.Transitions++
				var k uint64
				k, buf = x.key(c, buf)
				n, ok := seen[k]
				switch {
				case ok && n.delays > delays:
					// Known, but now with delays to spare.
					n.parent, n.mv, n.depth, n.delays = e.key, mv, int32(depth+1), delays
				case ok && n.sleep&^sleep != 0:
					// Known, but less of it sleeps now: the path it was
					// reached by stays, and it is expanded (again).
					n.sleep, n.expandedDelays = n.sleep&sleep, unexpanded
				case ok:
					continue
				}
				if ok {
					seen[k] = n
					next = append(next, entry{s: c, key: k, delays: n.delays})
					continue
				}
				seen[k] = node{parent: e.key, mv: mv, depth: int32(depth + 1), delays: delays, sleep: sleep, expandedDelays: unexpanded}
				res.States++
				if c.violation != nil {
					res.path = x.path(start, seen, k, rootKey)
					res.Violation = &Violation{Property: c.violation.property, Detail: c.violation.detail,
						Path: res.describe(), Steps: res.steps()}
					res.Elapsed = time.Since(began)
					return
				}
				next = append(next, entry{s: c, key: k, delays: delays})
				if x.opts.MaxStates > 0 && res.States >= x.opts.MaxStates {
					res.Elapsed = time.Since(began)
					return
				}
			}
			if x.opts.Progress != nil && time.Since(lastProgress) >= x.opts.ProgressEvery {
				lastProgress = time.Now()
				var mem runtime.MemStats
				runtime.ReadMemStats(&mem)
				fmt.Fprintf(x.opts.Progress, "explore: depth %d, %d states, %d transitions, %d in the next level, %d MB heap, %v\n",
					depth+1, res.States, res.Transitions, len(next), mem.HeapAlloc>>20, time.Since(began).Round(time.Second))
			}
		}
		frontier = next
	}
	res.Exhausted = true
	res.Elapsed = time.Since(began)
}

// path returns the transitions from the root to k, described: it takes
// them again from start, the root's state, this time saying what each did.
func (x *explorer) path(start *state, seen map[uint64]node, k, root uint64) []pathStep {
	var mvs []move
	for k != root {
		n := seen[k]
		mvs = append(mvs, n.mv)
		k = n.parent
	}
	slices.Reverse(mvs)
	p := make([]pathStep, len(mvs))
	s := start
	for i, mv := range mvs {
		var what string
		s, what = x.apply(s, mv)
		p[i] = pathStep{mv: mv, what: what}
	}
	return p
}
