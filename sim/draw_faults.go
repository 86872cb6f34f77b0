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
}

func (f *faults) add(a scenarios.Action) { f.sc.Timeline = append(f.sc.Timeline, a) }

func (f *faults) peer(label string) protocol.PeerID { return f.drawer.peer(f.n, label) }

// one is a single peer, as the actions that take a list name it.
func one(id protocol.PeerID) []protocol.PeerID { return []protocol.PeerID{id} }

// survivable draws the faults of a scenario with a liveness phase:
// crashes or partitions, not both. Crashes come without loss: lost
// heartbeats cause false removals, and a view shrunk by one can lose its
// majority to the next crash for good.
func (f *faults) survivable() {
	if f.oneIn(2, "crashesNotPartitions") {
		f.sc.Network.LossPercent = 0
		at := f.from + f.ms(0, 5000, "crashAt")
		for range f.intRange(0, (f.n-1)/2, "crashes") {
			kind := pick(f.drawer, []scenarios.ActionKind{scenarios.ActCrash, scenarios.ActKill}, "crashHow")
			f.add(scenarios.Action{At: at, Kind: kind, Peers: one(f.peer("victim"))})
			at += f.ms(15000, 20000, "crashGap")
		}
		return
	}
	for range f.intRange(0, 3, "partitions") {
		f.partition(f.from+f.ms(0, 30000, "partitionAt"), f.ms(1000, 10000, "partitionFor"))
	}
}

// any draws the faults of a scenario without a liveness phase, where only
// safety is checked: any mix of faults goes.
func (f *faults) any() {
	for range f.intRange(0, 6, "faults") {
		at := f.from + f.ms(0, 40000, "faultAt")
		switch f.intRange(0, 7, "fault") {
		case 0:
			f.add(scenarios.Action{At: at, Kind: scenarios.ActCrash, Peers: one(f.peer("victim"))})
		case 1:
			victim := f.peer("victim")
			f.add(scenarios.Action{At: at, Kind: scenarios.ActKill, Peers: one(victim)})
			f.add(scenarios.Action{At: at + f.ms(100, 10000, "downFor"), Kind: scenarios.ActRestart, Peers: one(victim)})
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
		}
	}
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
