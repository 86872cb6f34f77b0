// Package explore checks every interleaving of the real protocol for small
// clusters, as a model checker does: from a state reached by replaying a
// scenario's timeline up to its explore_from time, it explores every order
// of the events that may come next (deliveries, losses, duplications,
// stream resets, timer fires, crashes, kills and the scenario's remaining
// actions), breadth first, bounded by a depth and a fault budget, and
// judges S1-S5 in every state it reaches. Peers run through protocol.Node,
// the driver every runtime uses, and are cloned from state to state.
//
// Each distinct state is expanded once: states are keyed by a canonical
// encoding of every peer, the network and the install history that the
// checkers remember (see state.key). Two assumptions make that sound: the
// peers are deterministic (the protocol package's contract), and equal
// datagrams in flight are interchangeable. No further reduction is made:
// every order of independent events is explored.
package explore

import (
	"fmt"
	"io"
	"time"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

// Options bound an exploration.
type Options struct {
	// Depth (transitions) bounds the paths explored from the start state.
	Depth int
	// Faults (losses, duplications, stream resets, crashes, kills) bounds
	// how many faults one path may hold.
	Faults int
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
	opts    Options
	cfg     protocol.Config
	actions []action // the timeline after explore_from, in order
}

// action is a timeline action, or the heal of a partition (heal set) at
// the partition's Until.
type action struct {
	scenarios.Action
	heal bool
}

// node is what the explorer keeps of a visited state: how it was reached.
type node struct {
	parent uint64
	step   pathStep
	depth  int32
}

// Run explores sc from its explore_from time.
func Run(sc scenarios.Scenario, opts Options) (Result, error) {
	if sc.ExploreFrom <= 0 {
		return Result{}, fmt.Errorf("scenario %s has no explore_from: nothing says where exploring begins", sc.Name)
	}
	if a := unmodelled(sc); a != nil {
		return Result{}, fmt.Errorf("%s:%d: the explorer does not model %s actions or triggers (after:); explore a scenario without them", sc.File, a.Line, a.Kind)
	}
	x := &explorer{opts: opts, cfg: sc.Timing}
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
// a shortest path.
func (x *explorer) bfs(start *state, res *Result) {
	began := time.Now()
	lastProgress := began
	var buf []byte
	rootKey, _ := start.key(buf)
	seen := map[uint64]node{rootKey: {depth: 0}}
	frontier := []*state{start}
	keys := []uint64{rootKey}
	var mvs []move
	res.States = 1
	for depth := 0; depth < x.opts.Depth && len(frontier) > 0; depth++ {
		res.Depth = depth + 1
		var next []*state
		var nextKeys []uint64
		for i, s := range frontier {
			mvs = x.moves(s, mvs)
			for _, mv := range mvs {
				c, what := x.apply(s, mv)
				res.Transitions++
				var k uint64
				k, buf = c.key(buf)
				if _, ok := seen[k]; ok {
					continue
				}
				seen[k] = node{parent: keys[i], step: pathStep{mv: mv, what: what}, depth: int32(depth + 1)}
				res.States++
				if c.violation != nil {
					res.path = path(seen, k, rootKey)
					res.Violation = &Violation{Property: c.violation.property, Detail: c.violation.detail,
						Path: res.describe(), Steps: res.steps()}
					res.Elapsed = time.Since(began)
					return
				}
				next = append(next, c)
				nextKeys = append(nextKeys, k)
				if x.opts.MaxStates > 0 && res.States >= x.opts.MaxStates {
					res.Elapsed = time.Since(began)
					return
				}
			}
			if x.opts.Progress != nil && time.Since(lastProgress) >= x.opts.ProgressEvery {
				lastProgress = time.Now()
				fmt.Fprintf(x.opts.Progress, "explore: depth %d, %d states, %d transitions, %d in the next level, %v\n",
					depth+1, res.States, res.Transitions, len(next), time.Since(began).Round(time.Second))
			}
		}
		frontier, keys = next, nextKeys
	}
	res.Exhausted = true
	res.Elapsed = time.Since(began)
}

// path returns the transitions from the root to k.
func path(seen map[uint64]node, k, root uint64) []pathStep {
	var p []pathStep
	for k != root {
		n := seen[k]
		p = append(p, n.step)
		k = n.parent
	}
	for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
		p[i], p[j] = p[j], p[i]
	}
	return p
}
