package sim

import (
	"time"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

// faults draws the fault schedule of a scenario whose peers have all
// started by from.
type faults struct {
	drawer
	sc   *scenarios.Scenario
	n    int           // peers
	from time.Duration // when the faults begin
	end  time.Duration // when they end: the run, or its faults phase, ends
	// blockedJoiner is a peer whose join a drawn shape means to cut short
	// (crossView's joiner), or 0: it may never become a member.
	blockedJoiner protocol.PeerID
}

// add adds a to the schedule, unless it would come after the end, where
// it could not happen (a restart drawn late, for instance): left in, it
// would only make the schedule an invalid scenario file.
func (f *faults) add(a scenarios.Action) {
	if a.At <= f.end {
		f.sc.Timeline = append(f.sc.Timeline, a)
	}
}

func (f *faults) peer(label string) protocol.PeerID { return f.drawer.peer(f.n, label) }

// other draws a peer other than p; there must be two peers at least.
func (f *faults) other(p protocol.PeerID, label string) protocol.PeerID {
	q := protocol.PeerID(f.intRange(1, f.n-1, label))
	if q >= p {
		q++
	}
	return q
}

// leaderLike draws peer 1, the first leader, half of the time, and any
// peer else: faults that hit a leader hit the protocol hardest.
func (f *faults) leaderLike(label string) protocol.PeerID {
	if f.oneIn(2, label+"IsPeer1") {
		return 1
	}
	return f.peer(label)
}

// one is a single peer, as the actions that take a list name it.
func one(id protocol.PeerID) []protocol.PeerID { return []protocol.PeerID{id} }

// survivable draws the faults of a scenario with a liveness phase:
// crashes or partitions, not both. Crashes, restarts included, come
// without loss and hit fewer than half of the peers: lost heartbeats
// cause false removals, and a view that loses a majority of its members
// for good cannot change any more. Partitions, cuts and pauses all heal.
func (f *faults) survivable() {
	if f.oneIn(2, "crashesNotPartitions") {
		f.sc.Network.LossPercent = 0
		at := f.from + f.ms(0, 5000, "crashAt")
		for crashes := f.intRange(0, (f.n-1)/2, "crashes"); crashes > 0; crashes-- {
			switch f.intRange(0, 2, "crashKind") {
			case 0:
				f.add(scenarios.Action{At: at, Kind: f.crashOrKill(), Peers: one(f.peer("victim"))})
			case 1:
				f.restart(at, f.leaderLike("restarted"))
			default:
				leader := f.killAfterDecision(at, false)
				// An eviction would shrink the view under the crashes
				// that count on its size; a crash that the leader's next
				// decision removes spends one more of them instead.
				if crashes > 1 && f.oneIn(2, "provokeByCrash") {
					f.add(scenarios.Action{At: at + f.ms(0, 50, "provokeAfter"), Kind: f.crashOrKill(),
						Peers: one(f.other(leader, "victim"))})
					crashes--
				}
			}
			at += f.ms(15000, 20000, "crashGap")
		}
		return
	}
	for range f.intRange(0, 3, "partitions") {
		at := f.from + f.ms(0, 30000, "partitionAt")
		switch f.intRange(0, 3, "partitionKind") {
		case 0:
			f.partition(at, f.ms(1000, 10000, "partitionFor"))
		case 1:
			f.linkCut(at, f.ms(1000, 10000, "linkCutFor"))
		case 2:
			f.provoke(at, f.cutAfterRequest(at, f.ms(500, 10000, "linkCutFor")))
		default:
			// Short: the peer may be removed, but not kept away long.
			f.pause(at, f.ms(100, 2000, "pauseFor"))
		}
	}
}

// any draws the faults of a scenario without a liveness phase, where only
// safety is checked: any mix of faults goes, correlated ones included,
// such as a leader killed between its decision and its NEWVIEW.
func (f *faults) any() {
	if f.n == 4 && f.oneIn(3, "crossView") {
		f.crossView(f.from + f.ms(0, 30000, "crossViewAt"))
	}
	for range f.intRange(0, 8, "faults") {
		at := f.from + f.ms(0, 40000, "faultAt")
		switch f.intRange(0, 15, "fault") {
		case 0:
			f.add(scenarios.Action{At: at, Kind: scenarios.ActCrash, Peers: one(f.peer("victim"))})
		case 1:
			f.restart(at, f.peer("restarted"))
		case 2, 3:
			f.partition(at, f.ms(1000, 15000, "partitionFor"))
		case 4:
			d := scenarios.Drop{Count: f.intRange(1, 5, "dropCount"), From: f.peer("dropFrom")}
			if f.oneIn(2, "dropAnyType") {
				d.Type = pick(f.drawer, []protocol.MsgType{protocol.MsgReq, protocol.MsgOK, protocol.MsgNewView,
					protocol.MsgNewLeader, protocol.MsgPending}, "dropType")
			}
			f.add(scenarios.Action{At: at, Kind: scenarios.ActDrop, Drop: d})
		case 5:
			f.add(scenarios.Action{At: at, Kind: scenarios.ActLeave, Peers: one(f.peer("leaver"))})
		case 6:
			f.add(scenarios.Action{At: at, Kind: scenarios.ActEvict, Peer: f.peer("evicted")})
		case 7:
			if f.n >= 3 {
				f.add(scenarios.Action{At: 0, Kind: scenarios.ActHook, Peer: 1})
			}
		case 8:
			f.linkCut(at, f.ms(1000, 15000, "linkCutFor"))
		case 9:
			f.provoke(at, f.cutAfterRequest(at, f.ms(500, 15000, "linkCutFor")))
		case 10:
			f.provoke(at, f.killAfterDecision(at, f.oneIn(2, "restartAfterKill")))
		case 11:
			f.decisionDrop(at)
		case 12, 13:
			f.restart(at, 1)
		case 14:
			f.pause(at, f.ms(100, 12000, "pauseFor"))
		default:
			f.provoke(at, f.cutAfterDecision(at, f.ms(1000, 15000, "cutFor")))
		}
	}
}

func (f *faults) crashOrKill() scenarios.ActionKind {
	return pick(f.drawer, []scenarios.ActionKind{scenarios.ActCrash, scenarios.ActKill}, "crashHow")
}

// restart crashes or kills victim at at and restarts it a little later,
// often before anyone suspects it.
func (f *faults) restart(at time.Duration, victim protocol.PeerID) {
	f.add(scenarios.Action{At: at, Kind: f.crashOrKill(), Peers: one(victim)})
	f.add(scenarios.Action{At: at + f.ms(100, 10000, "downFor"), Kind: scenarios.ActRestart, Peers: one(victim)})
}

// partition adds an isolation, a split in two or a one-way cut at at,
// healing d later.
func (f *faults) partition(at, d time.Duration) {
	if f.n < 2 {
		return
	}
	a := scenarios.Action{At: at, Until: at + d}
	switch f.intRange(0, 2, "partitionKind") {
	case 0:
		a.Kind, a.Peer = scenarios.ActIsolate, f.peer("isolated")
	case 1:
		a.Kind = scenarios.ActSplit
		var left, right []protocol.PeerID
		for id := 1; id <= f.n; id++ {
			if f.oneIn(2, "splitSide") {
				left = append(left, protocol.PeerID(id))
			} else {
				right = append(right, protocol.PeerID(id))
			}
		}
		if len(left) == 0 || len(right) == 0 {
			return
		}
		a.Groups = [][]protocol.PeerID{left, right}
	default:
		a.Kind, a.From, a.To = scenarios.ActCut, f.peer("cutFrom"), f.peer("cutTo")
		if a.From == a.To {
			return
		}
	}
	f.add(a)
}
