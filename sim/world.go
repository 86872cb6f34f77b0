package sim

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

// world is one run in progress.
type world struct {
	sc   scenarios.Scenario
	opts Options
	cfg  protocol.Config
	rng  *rand.Rand // the run's only random source
	now  time.Duration
	seq  uint64
	q    queue

	peers   []*simPeer // by id; index 0 unused
	streams [][]stream // [from][to]
	blocked [][]int    // [from][to]: how many partitions or cuts stop from's messages to to
	drops   []scenarios.Drop
	net     scenarios.Network
	healed  bool // the liveness phase began: no more faults
	churnOn bool
	down    int // peers down through churn

	hist     history
	timeline []scenarios.Action // sorted by At, stably
	msgID    uint64
	done     bool
	res      Result
	p        printer
}

// stream is the state of the reliable stream from one peer to another.
type stream struct {
	epoch  uint64        // bumped when the stream breaks: what was in flight is lost
	lastAt time.Duration // delivery time of the last message queued: FIFO
}

// simPeer is one peer's process slot.
type simPeer struct {
	id          protocol.PeerID
	node        *protocol.Node
	p           *protocol.Peer // node's, for reading its state
	alive       bool
	started     bool // ever started
	left        bool // left gracefully: not restarted by the liveness phase
	incarnation uint64
	// hooked: the seed's -t hook is armed, on this process and the ones
	// that follow, until it has fired once.
	hooked, hookFired bool
}

// Run runs scenario sc with opts and returns what it found.
func Run(sc scenarios.Scenario, opts Options) Result {
	w := newWorld(sc, opts)
	w.p.header(w)
	for i, a := range w.timeline {
		w.schedule(item{at: a.At, kind: itemAction, action: i})
	}
	w.schedule(item{at: sc.Expect.Within, kind: itemCheck, action: checkExpect})
	if sc.Liveness != nil {
		w.schedule(item{at: sc.Liveness.HealAt, kind: itemCheck, action: checkHeal})
		w.schedule(item{at: sc.Liveness.HealAt + sc.Liveness.Within, kind: itemCheck, action: checkLiveness})
	}
	for len(w.q) > 0 && !w.done {
		it := w.q.pop()
		if it.at > sc.RunFor {
			break
		}
		w.now = it.at
		w.res.Events++
		w.handle(it)
	}
	if !w.done {
		w.now = max(w.now, sc.RunFor)
	}
	w.res.Virtual = w.now
	for _, sp := range w.peers[1:] {
		st := PeerState{ID: sp.id, Alive: sp.alive}
		if sp.p != nil {
			st.View, st.Leader = sp.p.View(), sp.p.Leader()
		}
		w.res.Final = append(w.res.Final, st)
	}
	w.p.verdict(w)
	return w.res
}

func newWorld(sc scenarios.Scenario, opts Options) *world {
	n := sc.Peers
	w := &world{
		sc:       sc,
		opts:     opts,
		cfg:      sc.Timing,
		rng:      rand.New(rand.NewPCG(opts.Seed, 0x6d656d6265726c79)), // "memberly"
		net:      sc.Network,
		peers:    make([]*simPeer, n+1),
		streams:  make([][]stream, n+1),
		blocked:  make([][]int, n+1),
		timeline: slices.Clone(sc.Timeline),
		hist:     newHistory(n),
		p:        printer{w: opts.Out, verbose: opts.Verbose},
	}
	w.cfg.Mutation = opts.Mutation
	for id := 1; id <= n; id++ {
		w.peers[id] = &simPeer{id: protocol.PeerID(id)}
	}
	for i := range w.streams {
		w.streams[i] = make([]stream, n+1)
		w.blocked[i] = make([]int, n+1)
	}
	slices.SortStableFunc(w.timeline, func(a, b scenarios.Action) int { return cmp.Compare(a.At, b.At) })
	return w
}

func (w *world) schedule(it item) {
	w.seq++
	it.seq = w.seq
	w.q.push(it)
}

func (w *world) handle(it item) {
	switch it.kind {
	case itemDeliver:
		w.deliver(it)
	case itemTimer:
		sp := w.peers[it.peer]
		if sp.alive && sp.incarnation == it.incarnation {
			w.step(sp, protocol.Event{Type: protocol.EventTimer, Timer: it.timer})
		}
	case itemAction:
		if it.action >= len(w.timeline) {
			w.unblock(w.timeline[it.action-len(w.timeline)])
			return
		}
		w.act(w.timeline[it.action], it.action)
	case itemChurn:
		w.churn(it)
	case itemRestart:
		w.restartPeer(w.peers[it.peer], "churn restart")
	case itemCheck:
		w.check(it.action)
	}
}

// step hands ev to a live peer's node, which carries out what it asks
// through simEffects.
func (w *world) step(sp *simPeer, ev protocol.Event) {
	var err error
	switch n := sp.node; ev.Type {
	case protocol.EventStart:
		err = n.Start(w.now, ev.Incarnation)
	case protocol.EventMessage:
		err = n.Receive(w.now, ev.Msg)
	case protocol.EventTimer:
		err = n.Fire(w.now, ev.Timer)
	case protocol.EventEvict:
		err = n.Evict(w.now, ev.Peer)
	case protocol.EventLeave:
		err = n.Leave(w.now)
	case protocol.EventCrash:
		err = n.Crash(w.now)
	}
	w.res.Steps++
	if err != nil {
		w.fault(sp.id, fmt.Sprintf("p%d refused %s: %v", sp.id, ev.Type, err))
	}
}

// armHook arms the seed's -t hook on sp's process, unless it already fired.
func (w *world) armHook(sp *simPeer) {
	if !sp.hooked || sp.hookFired || sp.node == nil {
		return
	}
	sp.node.ArmLeaderCrashHook(func(victim, spared protocol.PeerID) {
		sp.hookFired = true
		// The hook evicts the highest peer: an eviction, for S5.
		w.hist.reason(victim, w.now)
		w.fault(sp.id, fmt.Sprintf("p%d leader_crash_hook fires: DEL %d sent to all but p%d, then crash", sp.id, victim, spared))
	})
}

// simEffects carries out one process's outputs in the world, in the order
// its node calls them. Once a checker has failed the run, nothing more is
// sent or armed: the run ends with the violation.
type simEffects struct {
	w  *world
	sp *simPeer
}

func (fx simEffects) Note(n protocol.Note) {
	if !fx.w.done {
		fx.w.note(fx.sp, n)
	}
}

func (fx simEffects) Send(m protocol.Message) {
	if !fx.w.done {
		fx.w.send(fx.sp, m)
	}
}

func (fx simEffects) Timer(tr protocol.TimerRequest) {
	w := fx.w
	if tr.Cancel || w.done {
		return // stale fires are ignored by the peer
	}
	at := w.now + tr.After
	if late := w.net.TimerLatenessMax; late > 0 {
		at += time.Duration(w.rng.Int64N(int64(late) + 1))
	}
	w.schedule(item{at: at, kind: itemTimer, peer: fx.sp.id, incarnation: fx.sp.incarnation, timer: tr.Timer})
}

// Stop: a crash or a finished leave, the process exits. What it sent is
// still delivered, as the kernel flushes a closing socket.
func (fx simEffects) Stop() { fx.sp.alive = false }

// note records a peer's note: its log line, the history, the checks.
func (w *world) note(sp *simPeer, n protocol.Note) {
	w.p.note(w, n)
	if w.opts.Trace {
		w.res.Trace = append(w.res.Trace, TraceEvent{Time: w.now, Kind: TraceNote, Peer: sp.id, Note: n})
	}
	switch n.Kind {
	case protocol.NoteViewInstalled:
		v := protocol.View{ID: n.ViewID, Members: n.Members}
		if v.ID == 1 && !w.anyOtherHoldsView(sp) {
			w.hist.newCluster()
		}
		if prop, detail := w.hist.install(sp.id, sp.incarnation, v, w.now); prop != "" {
			w.fail(SafetyViolation, prop, detail)
		}
	case protocol.NoteSuspected:
		w.hist.reason(n.Subject, w.now)
	case protocol.NoteLeft:
		sp.left = true
	}
}

// anyOtherHoldsView reports whether a live process other than sp holds a
// view: whether the cluster sp founds a view 1 beside is still alive.
func (w *world) anyOtherHoldsView(sp *simPeer) bool {
	for _, o := range w.peers[1:] {
		if o != sp && o.alive && o.p.View().ID != 0 {
			return true
		}
	}
	return false
}

// fault records a change of the world.
func (w *world) fault(peer protocol.PeerID, what string) {
	w.p.fault(w, what)
	if w.opts.Trace {
		w.res.Trace = append(w.res.Trace, TraceEvent{Time: w.now, Kind: TraceFault, Peer: peer, Reason: what})
	}
}

// fail ends the run with a violation.
func (w *world) fail(v Verdict, prop, detail string) {
	if w.done {
		return
	}
	w.done = true
	w.res.Verdict, w.res.Property, w.res.Detail, w.res.At = v, prop, detail, w.now
}
