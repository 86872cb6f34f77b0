package sim

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/memberly/memberly/check"
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
	blocked [][]int32  // [from][to]: how many partitions or cuts stop from's messages to to
	drops   []scenarios.Drop
	net     scenarios.Network
	healed  bool // the liveness phase began: no more faults
	churnOn bool
	down    int // peers down through churn

	hist     *check.History
	rem      removals
	timeline []scenarios.Action // sorted by At, stably
	armed    []scenarios.Action // timeline actions waiting for a message, in timeline order
	happened []scenarios.Action // actions that later items refer to, with the times they happen at
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
	keptDown    bool // taken down for good at the heal (Liveness.KeepDown)
	incarnation uint64
	// hooked: the seed's -t hook is armed, on this process and the ones
	// that follow, until it has fired once.
	hooked, hookFired bool
	// stepping is set while the process's node handles an event; deferred
	// holds events for it that arose meanwhile (a crash set off by one of
	// its own messages), handled once the node returns.
	stepping bool
	deferred []protocol.Event
	// lost holds the messages of the current event that its process,
	// ended during it, never sent: logged together once the event is done.
	lost []protocol.Message

	// disk is a durable peer's synced state file (nil: none); unsynced
	// is the write of the current step, synced at its end with the step's
	// effects held meanwhile (see disk.go).
	disk, unsynced []byte
	syncing        bool
	afterSync      []sideEffect

	pauses int                // pauses in force: while above zero the process is stopped
	held   []heldInput        // what reached it while stopped, in order
	outbox []protocol.Message // the rest of the step a pause stopped it in, sent when it continues
}

// Run runs scenario sc with opts and returns what it found.
func Run(sc scenarios.Scenario, opts Options) Result {
	w := newWorld(sc, opts)
	w.p.header(w)
	for i, a := range w.timeline {
		w.schedule(item{at: a.At, kind: itemAction, step: timelineStep(i)})
	}
	w.schedule(item{at: sc.Expect.Within, kind: itemCheck, check: checkExpect})
	if sc.Liveness != nil {
		w.schedule(item{at: sc.Liveness.HealAt, kind: itemCheck, check: checkHeal})
		w.schedule(item{at: sc.Liveness.HealAt + sc.Liveness.Within, kind: itemCheck, check: checkLiveness})
	}
	for w.q.len() > 0 && !w.done {
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
		blocked:  make([][]int32, n+1),
		timeline: slices.Clone(sc.Timeline),
		hist:     check.NewHistory(n, sc.Timing.MaxChangesPerView),
		rem:      newRemovals(n),
		p:        printer{w: opts.Out, verbose: opts.Verbose},
	}
	w.cfg.Mutation = opts.Mutation
	for id := 1; id <= n; id++ {
		w.peers[id] = &simPeer{id: protocol.PeerID(id)}
	}
	// Each matrix is one allocation, its rows slices of it: (n+1)² entries
	// of 16 and 4 bytes, 20 MB at 1000 peers.
	streams, blocked := make([]stream, (n+1)*(n+1)), make([]int32, (n+1)*(n+1))
	for i := range w.streams {
		w.streams[i] = streams[i*(n+1) : (i+1)*(n+1) : (i+1)*(n+1)]
		w.blocked[i] = blocked[i*(n+1) : (i+1)*(n+1) : (i+1)*(n+1)]
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
			ev := protocol.Event{Type: protocol.EventTimer, Timer: it.timer}
			if sp.pauses > 0 {
				w.hold(sp, ev, 0)
				return
			}
			w.step(sp, ev)
		}
	case itemAction:
		w.due(w.timeline[it.step])
	case itemFire:
		w.act(w.happened[it.kept])
	case itemLift:
		w.unblock(it.kept)
	case itemChurn:
		w.churn(it)
	case itemRestart:
		w.restartPeer(w.peers[it.peer], "churn restart")
	case itemResume:
		w.unpause(it)
	case itemCheck:
		w.check(it.check)
	}
}

// step hands ev to a live peer's node, which carries out what it asks
// through simEffects. An event for a process whose node is busy with
// another (its own message set off a crash of it) waits until that one is
// done: a node handles one event at a time.
func (w *world) step(sp *simPeer, ev protocol.Event) {
	if sp.stepping {
		sp.deferred = append(sp.deferred, ev)
		return
	}
	sp.stepping = true
	w.stepNode(sp, ev)
	w.sync(sp, simEffects{w: w, sp: sp, incarnation: sp.incarnation})
	sp.stepping = false
	w.reportLost(sp)
	for len(sp.deferred) > 0 && sp.alive {
		next := sp.deferred[0]
		sp.deferred = sp.deferred[1:]
		w.step(sp, next)
	}
	sp.deferred = nil
}

func (w *world) stepNode(sp *simPeer, ev protocol.Event) {
	var err error
	switch n := sp.node; ev.Type {
	case protocol.EventStart:
		if ev.State != nil {
			err = n.Resume(w.now, *ev.State)
		} else {
			err = n.StartTagged(w.now, ev.Incarnation, ev.Tags)
		}
	case protocol.EventForceView:
		err = n.ForceView(w.now)
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
		w.fault(sp.id, FaultOther, fmt.Sprintf("p%d refused %s: %v", sp.id, ev.Type, err))
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
		w.hist.Reason(victim, w.now)
		w.rem.touch(victim, w.now)
		w.rem.touch(sp.id, w.now)
		w.fault(sp.id, FaultHook, fmt.Sprintf("p%d leader_crash_hook fires: DEL %d sent to all but p%d, then crash", sp.id, victim, spared))
	})
}

// reportLost logs, in one line, the messages sp's process never sent
// because it ended while sending them.
func (w *world) reportLost(sp *simPeer) {
	if len(sp.lost) > 0 {
		w.fault(sp.id, FaultOther, fmt.Sprintf("p%d ended before sending %s", sp.id, describeMessages(sp.lost)))
		sp.lost = nil
	}
}

// crashPending reports whether a crash of sp's process waits for its node
// to finish the current event: the process ends with that event, and the
// rest of what the event asked for is lost.
func (sp *simPeer) crashPending() bool {
	for _, ev := range sp.deferred {
		if ev.Type == protocol.EventCrash {
			return true
		}
	}
	return false
}

// simEffects carries out one process's outputs in the world, in the order
// its node calls them. Once a checker has failed the run, nothing more is
// sent or armed: the run ends with the violation. What a process would
// do after it ended (a crash or kill set off by one of its own messages)
// is lost, as it is for a real process.
type simEffects struct {
	w           *world
	sp          *simPeer
	incarnation uint64 // the process these effects belong to
}

// gone reports whether the process ended since its node began this step.
func (fx simEffects) gone() bool {
	return !fx.sp.alive || fx.sp.incarnation != fx.incarnation || fx.sp.crashPending()
}

func (fx simEffects) Note(n protocol.Note) {
	if fx.holding() {
		held := n // a copy, so that n itself stays off the heap
		fx.hold(sideEffect{note: &held})
		return
	}
	if !fx.w.done && !fx.gone() {
		fx.w.note(fx.sp, n)
	}
}

func (fx simEffects) Send(m protocol.Message) {
	if fx.holding() {
		held := m // a copy, so that m itself stays off the heap
		fx.hold(sideEffect{msg: &held})
		return
	}
	w, sp := fx.w, fx.sp
	switch {
	case w.done:
	case fx.gone():
		sp.lost = append(sp.lost, m)
	case sp.pauses > 0:
		sp.outbox = append(sp.outbox, m)
	default:
		w.sendChecked(sp, m)
	}
}

func (fx simEffects) Timer(tr protocol.TimerRequest) {
	if fx.holding() {
		held := tr // a copy, so that tr itself stays off the heap
		fx.hold(sideEffect{timer: &held})
		return
	}
	w := fx.w
	if tr.Cancel || w.done || fx.gone() {
		return // stale fires are ignored by the peer
	}
	at := w.now + tr.After
	if late := w.net.TimerLatenessMax; late > 0 {
		at += time.Duration(w.rng.Int64N(int64(late) + 1))
	}
	w.schedule(item{at: at, kind: itemTimer, peer: fx.sp.id, incarnation: fx.incarnation, timer: tr.Timer})
}

// Stop: a crash or a finished leave, the process exits. What it sent is
// still delivered, as the kernel flushes a closing socket.
func (fx simEffects) Stop() {
	if fx.holding() {
		fx.hold(sideEffect{stop: true})
		return
	}
	if fx.sp.incarnation == fx.incarnation {
		fx.sp.alive = false
	}
}

// note records a peer's note: its log line, the history, the checks.
func (w *world) note(sp *simPeer, n protocol.Note) {
	w.p.note(w, n)
	if w.opts.Trace {
		w.res.Trace = append(w.res.Trace, TraceEvent{Time: w.now, Kind: TraceNote, Peer: sp.id, Note: n})
	}
	switch n.Kind {
	case protocol.NoteViewInstalled:
		v := protocol.View{ID: n.ViewID, Members: n.Members, Tags: n.Tags}
		if v.ID == 1 && !w.anyOtherHoldsView(sp) {
			w.hist.NewCluster()
		}
		if _, seen := w.hist.Members(v.ID); !seen {
			before, _ := w.hist.Members(v.ID - 1)
			prev := protocol.View{ID: v.ID - 1, Members: before}
			w.rem.decided(prev, v, w.now, func(q protocol.PeerID) bool { return w.peers[q].alive })
			w.res.FalseRemovals = w.rem.count
		}
		// S1 spans a durable peer's restarts: the same member, under its
		// stored incarnation, never installs a view twice.
		if prop, detail := w.hist.Install(sp.id, sp.p.Incarnation(), v, n.Change(), w.now); prop != "" {
			w.fail(SafetyViolation, prop, detail)
		} else if detail := w.checkTags(sp.id, v); detail != "" {
			w.fail(SafetyViolation, propertyTags, detail)
		}
	case protocol.NoteSuspected:
		w.hist.Reason(n.Subject, w.now)
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

// fault records a change of the world at peer (0: the network, or no one
// peer): what is the text a person reads, kind what a program tells apart.
func (w *world) fault(peer protocol.PeerID, kind FaultKind, what string) {
	w.record(TraceEvent{Kind: TraceFault, Peer: peer, Fault: kind, Reason: what})
}

// record prints a fault event and adds it to the trace, at the current time.
func (w *world) record(ev TraceEvent) {
	w.p.fault(w, ev.Reason)
	if w.opts.Trace {
		ev.Time = w.now
		w.res.Trace = append(w.res.Trace, ev)
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
