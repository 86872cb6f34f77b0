package sim

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

// checkKind names a check Run schedules (an itemCheck).
type checkKind uint8

// The checks scheduled by Run.
const (
	checkExpect   checkKind = iota // the scenario's expectation, at Expect.Within
	checkHeal                      // the liveness phase begins
	checkLiveness                  // L1, at the end of the liveness phase
	checkKeepDown                  // during the liveness phase: take peers down for good once settled
)

// due handles a timeline action at its At: it happens, or, if it waits
// for a message, its trigger is armed.
func (w *world) due(a scenarios.Action) {
	if a.After == nil {
		w.act(a)
		return
	}
	if w.healed {
		return // the liveness phase allows no more faults
	}
	w.fault(0, FaultArm, "arm: "+describeAction(a))
	w.armed = append(w.armed, a)
}

// act carries out an action as it happens: a timeline action at its At,
// or a triggered one with At and Until moved to when it went off.
func (w *world) act(a scenarios.Action) {
	if w.healed && a.Kind != scenarios.ActStart {
		return // the liveness phase allows no more faults
	}
	switch a.Kind {
	case scenarios.ActStart:
		for _, id := range a.Peers {
			if sp := w.peers[id]; !sp.alive {
				w.startPeer(sp, "start")
			}
		}
	case scenarios.ActRestart:
		for _, id := range a.Peers {
			w.restartPeer(w.peers[id], "restart")
		}
	case scenarios.ActCrash:
		for _, id := range a.Peers {
			if sp := w.peers[id]; sp.alive {
				w.fault(id, FaultCrash, fmt.Sprintf("crash p%d", id))
				w.rem.touch(id, w.now)
				sp.endProcess() // a crash ends a stopped process too
				w.step(sp, protocol.Event{Type: protocol.EventCrash})
			}
		}
	case scenarios.ActKill:
		for _, id := range a.Peers {
			w.kill(w.peers[id], "kill")
		}
	case scenarios.ActLeave:
		for _, id := range a.Peers {
			if sp := w.peers[id]; sp.alive {
				w.fault(id, FaultLeave, fmt.Sprintf("p%d leaves", id))
				w.rem.touch(id, w.now)
				w.hist.Reason(id, w.now)
				w.input(sp, protocol.Event{Type: protocol.EventLeave})
			}
		}
	case scenarios.ActEvict:
		w.evict(a.Peer)
	case scenarios.ActPause:
		w.pause(a)
	case scenarios.ActIsolate, scenarios.ActSplit, scenarios.ActCut:
		// Kept even without an end: its number in w.happened is what its
		// trace event and its heal's share.
		n := w.keep(a)
		kind := FaultPartition
		if a.Kind == scenarios.ActCut {
			kind = FaultCut
		}
		w.record(TraceEvent{Kind: TraceFault, Fault: kind, Partition: int(n) + 1, Reason: describePartition(a)})
		w.partition(a, 1)
		if a.Until > a.At {
			w.schedule(item{at: a.Until, kind: itemLift, kept: n})
		}
	case scenarios.ActDrop:
		w.fault(0, FaultDrop, fmt.Sprintf("drop the next %d %s", a.Drop.Count, describeDrop(a.Drop)))
		w.drops = append(w.drops, a.Drop)
	case scenarios.ActNetwork:
		w.net = *a.SetNetwork
		w.fault(0, FaultNetwork, "network: "+describeNetwork(w.net))
	case scenarios.ActHook:
		w.fault(a.Peer, FaultHook, fmt.Sprintf("arm leader_crash_hook on p%d", a.Peer))
		sp := w.peers[a.Peer]
		sp.hooked = true
		if sp.alive {
			w.armHook(sp)
		}
	case scenarios.ActCorrupt, scenarios.ActTear:
		for _, id := range a.Peers {
			w.damage(w.peers[id], a.Kind == scenarios.ActTear)
		}
	case scenarios.ActForceView:
		if sp := w.peers[a.Peer]; sp.alive {
			w.fault(a.Peer, FaultForceView, fmt.Sprintf("operator forces a view at p%d", a.Peer))
			w.input(sp, protocol.Event{Type: protocol.EventForceView})
		} else {
			w.fault(a.Peer, FaultSkipped, fmt.Sprintf("force a view at p%d: it is down; skipped", a.Peer))
		}
	case scenarios.ActChurn:
		w.fault(0, FaultChurn, fmt.Sprintf("churn every %v, down for %v, until %v", a.Churn.Interval, a.Churn.DownFor, a.Until))
		w.churnOn = true
		w.schedule(item{at: w.now + a.Churn.Interval, kind: itemChurn, kept: w.keep(a)})
	}
}

// keep records an action that later items refer to, and returns its
// number in w.happened.
func (w *world) keep(a scenarios.Action) keptAction {
	w.happened = append(w.happened, a)
	return keptAction(len(w.happened) - 1)
}

// unblock lifts the partition or cut that is action n of w.happened.
func (w *world) unblock(n keptAction) {
	if w.healed {
		return // already healed, all at once
	}
	a := w.happened[n]
	w.record(TraceEvent{Kind: TraceFault, Fault: FaultHeal, Partition: int(n) + 1, Reason: "heal: " + describePartition(a)})
	w.partition(a, -1)
}

// partition applies (delta 1) or lifts (delta -1) a partition action.
func (w *world) partition(a scenarios.Action, delta int) {
	for _, l := range a.CutLinks(w.sc.Peers) {
		w.block(l.From, l.To, delta)
	}
}

// startPeer starts a new process for sp: its first start, or a restart.
// A durable peer's resumes from the state on its disk; any other is a
// fresh process under a new incarnation.
func (w *world) startPeer(sp *simPeer, why string) {
	state, refused := w.storedState(sp, why)
	if refused {
		return
	}
	sp.endProcess()
	sp.incarnation++
	node, err := protocol.NewNode(w.cfg, sp.id, w.sc.Peers, simEffects{w: w, sp: sp, incarnation: sp.incarnation})
	if err != nil {
		w.fail(SafetyViolation, "setup", err.Error())
		return
	}
	sp.node, sp.p, sp.alive, sp.started, sp.left = node, node.Peer(), true, true, false
	w.armHook(sp)
	w.resetAll(sp.id) // a new process has new connections
	w.rem.touch(sp.id, w.now)
	if state != nil {
		w.fault(sp.id, startKind(why), fmt.Sprintf("%s p%d from its state file (incarnation %d, view %d, promise %s)",
			why, sp.id, state.Incarnation, state.View.ID, state.Promise))
		w.step(sp, protocol.Event{Type: protocol.EventStart, State: state})
		if !sp.p.Started() {
			sp.alive = false // refused: the binary exits with status 2
		}
		return
	}
	// Every process of a peer starts with the peer's tags, as a machine
	// restarted with the same command line does.
	tags := w.sc.Tags[sp.id]
	if tags.IsZero() {
		w.fault(sp.id, startKind(why), fmt.Sprintf("%s p%d (incarnation %d)", why, sp.id, sp.incarnation))
	} else {
		w.fault(sp.id, startKind(why), fmt.Sprintf("%s p%d (incarnation %d, tags %s)", why, sp.id, sp.incarnation, tags))
	}
	w.step(sp, protocol.Event{Type: protocol.EventStart, Incarnation: sp.incarnation, Tags: tags})
}

// startKind is the kind of fault a start for why is.
func startKind(why string) FaultKind {
	if why == "start" {
		return FaultStart
	}
	return FaultRestart
}

func (w *world) restartPeer(sp *simPeer, why string) {
	if sp.alive || sp.keptDown {
		return
	}
	if why == "churn restart" {
		w.down--
	}
	w.startPeer(sp, why)
}

// kill stops sp at once, as kill -9 does: no log line, and every stream to
// or from it is reset, losing what was in flight.
func (w *world) kill(sp *simPeer, why string) {
	if !sp.alive {
		return
	}
	w.fault(sp.id, FaultKill, fmt.Sprintf("%s p%d", why, sp.id))
	w.rem.touch(sp.id, w.now)
	sp.alive = false
	sp.endProcess()
	w.resetAll(sp.id)
}

// evict asks the current leader to remove target.
func (w *world) evict(target protocol.PeerID) {
	for _, sp := range w.peers[1:] {
		if sp.alive && sp.p.IsLeader() && sp.p.View().Contains(target) {
			w.fault(sp.id, FaultEvict, fmt.Sprintf("evict p%d, asked of leader p%d", target, sp.id))
			w.rem.touch(target, w.now)
			w.hist.Reason(target, w.now)
			w.input(sp, protocol.Event{Type: protocol.EventEvict, Peer: target})
			return
		}
	}
	w.fault(0, FaultSkipped, fmt.Sprintf("evict p%d: no live leader holds it; skipped", target))
}

// churn kills a random live peer (keeping a majority of the universe up)
// and schedules its restart.
func (w *world) churn(it item) {
	a := w.happened[it.kept]
	if w.healed || w.now >= a.Until {
		return
	}
	var live []*simPeer
	for _, sp := range w.peers[1:] {
		if sp.alive {
			live = append(live, sp)
		}
	}
	if w.down < (w.sc.Peers-1)/2 && len(live) > 0 {
		sp := live[w.rng.IntN(len(live))]
		w.kill(sp, "churn kill")
		w.down++
		w.schedule(item{at: w.now + a.Churn.DownFor, kind: itemRestart, peer: sp.id})
	}
	w.schedule(item{at: w.now + a.Churn.Interval, kind: itemChurn, kept: it.kept})
}

// input hands an operator's request to a live peer, or keeps it for the
// peer to handle when it continues, if it is stopped.
func (w *world) input(sp *simPeer, ev protocol.Event) {
	if sp.pauses > 0 {
		w.hold(sp, ev, 0)
		return
	}
	w.step(sp, ev)
}

// heal begins the liveness phase: partitions and cuts lift, loss,
// duplication, reordering and targeted drops stop, paused peers continue,
// and every crashed peer restarts.
func (w *world) heal() {
	w.healed = true
	w.fault(0, FaultHealAll, "liveness phase: heal all partitions, stop loss, resume paused peers, restart crashed peers")
	for i := range w.blocked {
		clear(w.blocked[i])
	}
	w.drops = nil
	w.armed = nil
	w.net.LossPercent, w.net.DuplicatePercent, w.net.ReorderPercent = 0, 0, 0
	for _, sp := range w.peers[1:] {
		if sp.alive && sp.pauses > 0 {
			w.resume(sp)
		}
	}
	for _, sp := range w.peers[1:] {
		if sp.started && !sp.alive && !sp.left {
			w.startPeer(sp, "restart")
		}
	}
	if w.sc.Liveness.KeepDown > 0 {
		w.schedule(item{at: w.now + settleCheckInterval, kind: itemCheck, check: checkKeepDown})
	}
}

// settleCheckInterval is how often, in virtual time, the liveness phase
// looks for the settled cluster it takes peers down from.
const settleCheckInterval = 100 * time.Millisecond

// settled reports whether every live peer holds one view of exactly the
// live peers, its leader has nothing left to do, and no suspicion from
// before the heal can still come: the moment a
// cluster can lose a minority of its members for good and still hold a
// quorum of every view it may install next.
func (w *world) settled() bool {
	// Silences from before the heal may still ripen into suspicions:
	// only once every live peer has had SuspectAfter of lossless
	// heartbeats is a settled view sure to stay.
	quiet := w.sc.Liveness.HealAt + w.cfg.SuspectAfter + w.cfg.HeartbeatInterval
	if w.now < quiet || w.converged() != "" {
		return false
	}
	for _, sp := range w.peers[1:] {
		if sp.alive && sp.p.Idle() {
			return true
		}
	}
	return false
}

// keepDown takes down for good, once the healed cluster has settled,
// Liveness.KeepDown members of its view, drawn with the run's random
// source: a minority of that view at most, so the rest hold a quorum and
// must agree on a view without them (L1 is judged among the live peers).
// Until the cluster settles it looks again every settleCheckInterval.
func (w *world) keepDown() {
	if !w.settled() {
		w.schedule(item{at: w.now + settleCheckInterval, kind: itemCheck, check: checkKeepDown})
		return
	}
	k := w.sc.Liveness.KeepDown
	var view protocol.View
	for _, sp := range w.peers[1:] {
		if sp.alive && sp.p.View().ID > view.ID {
			view = sp.p.View()
		}
	}
	k = min(k, (len(view.Members)-1)/2)
	if k < w.sc.Liveness.KeepDown {
		w.fault(0, FaultOther, fmt.Sprintf("keep down %d of view %s: a minority of it is %d", w.sc.Liveness.KeepDown, view, k))
	}
	members := slices.Clone(view.Members)
	for range k {
		i := w.rng.IntN(len(members))
		sp := w.peers[members[i]]
		members = slices.Delete(members, i, i+1)
		sp.keptDown = true
		if sp.alive {
			w.kill(sp, "keep down for good:")
		} else {
			w.fault(sp.id, FaultOther, fmt.Sprintf("keep down for good: p%d stays down", sp.id))
		}
	}
}

func describePartition(a scenarios.Action) string {
	until := ""
	if a.Until > 0 {
		until = fmt.Sprintf(" until %v", a.Until)
	}
	switch a.Kind {
	case scenarios.ActIsolate:
		return fmt.Sprintf("isolate p%d%s", a.Peer, until)
	case scenarios.ActSplit:
		var groups []string
		for _, g := range a.Groups {
			groups = append(groups, protocol.FormatMembers(g))
		}
		return "split " + strings.Join(groups, " | ") + until
	}
	return fmt.Sprintf("cut p%d->p%d%s", a.From, a.To, until)
}

func describeDrop(d scenarios.Drop) string { return describeMatch(d.Type, d.From, d.To, "messages") }

// describeMatch names the messages a drop or a trigger matches: of type t
// (any: anything), from and to the peers named (0: anyone).
func describeMatch(t protocol.MsgType, from, to protocol.PeerID, anything string) string {
	s := anything
	if t != 0 {
		s = t.String()
	}
	if from != 0 {
		s += fmt.Sprintf(" from p%d", from)
	}
	if to != 0 {
		s += fmt.Sprintf(" to p%d", to)
	}
	return s
}

func describeNetwork(n scenarios.Network) string {
	return fmt.Sprintf("latency_min=%v latency_mean=%v latency_distribution=%s loss_percent=%g duplicate_percent=%g reorder_percent=%g reorder_delay_max=%v timer_lateness_max=%v",
		n.LatencyMin, n.LatencyMean, n.LatencyDistribution, n.LossPercent, n.DuplicatePercent, n.ReorderPercent, n.ReorderDelayMax, n.TimerLatenessMax)
}
