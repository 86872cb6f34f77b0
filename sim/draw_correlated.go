package sim

import (
	"slices"
	"time"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

// The correlated faults: faults that land between two steps of the
// protocol, set off by its messages, or that hit both ends of one link.

// provoke, half of the time, asks at at for a change that does not
// remove p, so that a trigger armed for p's REQ or NEWVIEW goes off
// soon rather than at whatever change comes next, if any. The eviction
// is asked of whoever leads then: p, if it does. Peer 1, the likeliest
// leader, is not evicted.
func (f *faults) provoke(at time.Duration, p protocol.PeerID) {
	if p == 0 || f.n < 3 || !f.oneIn(2, "provoke") {
		return
	}
	var targets []protocol.PeerID
	for q := protocol.PeerID(2); q <= protocol.PeerID(f.n); q++ {
		if q != p {
			targets = append(targets, q)
		}
	}
	f.add(scenarios.Action{At: at + f.ms(0, 50, "provokeAfter"), Kind: scenarios.ActEvict, Peer: pick(f.drawer, targets, "evicted")})
}

// linkCut cuts the link between two peers both ways at at, healing d
// later: every other link stays up.
func (f *faults) linkCut(at, d time.Duration) {
	if f.n < 2 {
		return
	}
	a := f.leaderLike("linkEnd")
	b := f.other(a, "linkOtherEnd")
	f.add(scenarios.Action{At: at, Kind: scenarios.ActSplit, Groups: [][]protocol.PeerID{one(a), one(b)}, Until: at + d})
}

// cutAfterRequest arms, at at, a cut of the link between a proposer and
// one receiver of its REQ that happens up to 10 ms after the REQ leaves:
// the REQ may get through and its OK not, or neither. The cut is both
// ways or, a third of the time, of the OK's way only, and lasts d. It
// returns the proposer, or 0 if there is no link to cut.
func (f *faults) cutAfterRequest(at, d time.Duration) protocol.PeerID {
	if f.n < 2 {
		return 0
	}
	a := f.leaderLike("proposer")
	b := f.other(a, "acceptor")
	cut := scenarios.Action{At: at, Until: at + d,
		After: &scenarios.Trigger{Type: protocol.MsgReq, From: a, To: b, Delay: f.ms(0, 10, "cutDelay")}}
	if f.oneIn(3, "oneWayCut") {
		cut.Kind, cut.From, cut.To = scenarios.ActCut, b, a
	} else {
		cut.Kind, cut.Groups = scenarios.ActSplit, [][]protocol.PeerID{one(a), one(b)}
	}
	f.add(cut)
	return a
}

// killAfterDecision arms, at at, the crash or kill of a peer as it sends
// its next NEWVIEW, to everyone or from one receiver on: it has decided
// and installed a view that none or only some of the others learn. With
// restart, it restarts some seconds after at, if it is down by then. It
// returns the peer.
func (f *faults) killAfterDecision(at time.Duration, restart bool) protocol.PeerID {
	leader := f.leaderLike("decider")
	t := &scenarios.Trigger{Type: protocol.MsgNewView, From: leader}
	if f.n >= 2 && f.oneIn(2, "partialDecision") {
		t.To = f.other(leader, "firstUninformed")
	}
	f.add(scenarios.Action{At: at, Kind: f.crashOrKill(), Peers: one(leader), After: t})
	if restart {
		f.add(scenarios.Action{At: at + f.ms(1000, 20000, "restartAfter"), Kind: scenarios.ActRestart, Peers: one(leader)})
	}
	return leader
}

// cutAfterDecision arms, at at, a cut of the link between a peer and
// each of some others as its NEWVIEW to that one is about to leave: it
// has decided a view that only the rest learn, and may go on deciding
// with them while the others, cut off, elect a leader at the view
// before. Half of the time one of the rest is cut off too, a little
// later, just after the peer's next REQ to it: its OK gets through, the
// view that decides does not. It returns the peer.
func (f *faults) cutAfterDecision(at, d time.Duration) protocol.PeerID {
	leader := f.leaderLike("decider")
	var informed []protocol.PeerID
	for q := protocol.PeerID(1); q <= protocol.PeerID(f.n); q++ {
		switch {
		case q == leader:
		case f.oneIn(2, "uninformed"):
			f.add(scenarios.Action{At: at, Kind: scenarios.ActSplit, Groups: [][]protocol.PeerID{one(leader), one(q)}, Until: at + d,
				After: &scenarios.Trigger{Type: protocol.MsgNewView, From: leader, To: q}})
		default:
			informed = append(informed, q)
		}
	}
	if len(informed) > 0 && f.oneIn(2, "cutInformed") {
		// Armed once the decision is likely out, for the REQ after it.
		later := at + f.ms(100, 2000, "cutInformedAfter")
		q := pick(f.drawer, informed, "cutInformedPeer")
		f.add(scenarios.Action{At: later, Kind: scenarios.ActSplit, Groups: [][]protocol.PeerID{one(leader), one(q)}, Until: later + d,
			After: &scenarios.Trigger{Type: protocol.MsgReq, From: leader, To: q, Delay: f.ms(0, 10, "cutDelay")}})
	}
	return leader
}

// decisionDrop loses a few messages of the decision path between two
// peers: NEWVIEW, OK or PENDING.
func (f *faults) decisionDrop(at time.Duration) {
	if f.n < 2 {
		return
	}
	from := f.peer("dropFrom")
	d := scenarios.Drop{
		Type:  pick(f.drawer, []protocol.MsgType{protocol.MsgNewView, protocol.MsgOK, protocol.MsgPending}, "decisionDropType"),
		From:  from,
		To:    f.other(from, "dropTo"),
		Count: f.intRange(1, 3, "dropCount"),
	}
	f.add(scenarios.Action{At: at, Kind: scenarios.ActDrop, Drop: d})
}

// pause stops a peer for d, at at or, half of the time, as it is about
// to send its next message of the decision path.
func (f *faults) pause(at, d time.Duration) {
	p := f.leaderLike("paused")
	a := scenarios.Action{At: at, Kind: scenarios.ActPause, Peer: p, Until: at + d}
	if f.oneIn(2, "pauseOnMessage") {
		a.After = &scenarios.Trigger{From: p, Type: pick(f.drawer, []protocol.MsgType{protocol.MsgReq, protocol.MsgOK,
			protocol.MsgNewView, protocol.MsgNewLeader, protocol.MsgPending}, "pauseBefore")}
	}
	f.add(a)
}

// crossView stages, with drawn timing, the schedule in which promises of
// one view must not be used in the next (docs/design.md, section 4). In a
// cluster of four, peer 4 joins late, at at. Peer 1 decides ADD 4, but its
// NEWVIEW reaches only 4: its links to 2 and 3 are cut as it is about to
// leave, and no later NEWVIEW of 1 reaches 4. 2 and 3, half of [1,2,3]
// without its lowest id but two of three, elect a leader at view 3, while
// 1 goes on deciding with 4 in view 4, as [1,2,3,4] allows: an operator
// evicts 2 (1 alone suspecting 2 removes nobody, as 4 still hears it).
func (f *faults) crossView(at time.Duration) {
	const joiner = 4
	if f.n != joiner {
		return
	}
	for i := range f.sc.Timeline {
		if a := &f.sc.Timeline[i]; a.Kind == scenarios.ActStart && slices.Equal(a.Peers, one(joiner)) {
			a.At = at
		}
	}
	f.blockedJoiner = joiner
	armed := at - f.ms(0, 1000, "crossViewArmedBefore")
	until := at + f.ms(3000, 20000, "crossViewCutFor")
	for _, u := range []protocol.PeerID{2, 3} {
		f.add(scenarios.Action{At: armed, Kind: scenarios.ActSplit, Groups: [][]protocol.PeerID{one(1), one(u)}, Until: until,
			After: &scenarios.Trigger{Type: protocol.MsgNewView, From: 1, To: u}})
	}
	f.add(scenarios.Action{At: armed, Kind: scenarios.ActDrop,
		Drop:  scenarios.Drop{Type: protocol.MsgNewView, From: 1, To: joiner, Count: 1000},
		After: &scenarios.Trigger{Type: protocol.MsgNewView, From: 1, To: joiner, Delay: time.Millisecond}})
	f.add(scenarios.Action{At: armed, Kind: scenarios.ActEvict, Peer: 2,
		After: &scenarios.Trigger{Type: protocol.MsgNewView, From: 1, To: joiner, Delay: f.ms(2, 1500, "crossViewEvictAfter")}})
}
