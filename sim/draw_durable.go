package sim

import (
	"time"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

// durable makes the scenario's peers durable and draws the faults that
// only durable peers survive, or that only they can get wrong:
//
//   - a majority of the peers, or all of them, killed and each restarted
//     after its own delay: a crash-stop view could never change again;
//   - a peer killed or crashed in the middle of a step that stores its
//     state, before or after the fsync, and restarted;
//   - a leader killed as it sends a decision, and one of the acceptors the
//     decision rests on killed and restarted before a new leader recovers
//     it: only a stored acceptance keeps the decision;
//   - without a liveness phase, a damaged state file, which keeps its peer
//     down for good.
func (f *faults) durable(liveness bool) {
	f.sc.Timing.Durable = true
	kinds := 3
	if !liveness {
		kinds = 4
	}
	for range f.intRange(1, 3, "durableFaults") {
		at := f.from + f.ms(0, 35000, "durableAt")
		switch f.intRange(0, kinds-1, "durableFault") {
		case 0:
			k := f.intRange(f.n/2+1, f.n, "killedPeers")
			first := f.peer("firstKilled")
			for i := range k {
				p := (first-1+protocol.PeerID(i))%protocol.PeerID(f.n) + 1
				f.add(scenarios.Action{At: at, Kind: f.crashOrKill(), Peers: one(p)})
				f.add(scenarios.Action{At: at + f.ms(100, 8000, "downFor"), Kind: scenarios.ActRestart, Peers: one(p)})
			}
		case 1:
			p := f.leaderLike("syncVictim")
			ty := pick(f.drawer, []protocol.MsgType{protocol.MsgOK, protocol.MsgReq, protocol.MsgPending,
				protocol.MsgNewLeader, protocol.MsgNewView}, "syncMessage")
			f.add(scenarios.Action{At: at, Kind: f.crashOrKill(), Peers: one(p),
				After: &scenarios.Trigger{Type: ty, From: p, BeforeSync: f.oneIn(2, "beforeSync")}})
			f.add(scenarios.Action{At: at + f.ms(500, 10000, "restartAfter"), Kind: scenarios.ActRestart, Peers: one(p)})
			f.provoke(at, p)
		case 2:
			if f.n < 2 {
				continue
			}
			leader := f.killAfterDecision(at, f.oneIn(2, "restartDecider"))
			acceptor := f.other(leader, "amnesiac")
			killAt := at + f.ms(0, 1500, "amnesiacAt")
			f.add(scenarios.Action{At: killAt, Kind: f.crashOrKill(), Peers: one(acceptor)})
			f.add(scenarios.Action{At: killAt + f.ms(100, 2000, "amnesiacDownFor"), Kind: scenarios.ActRestart, Peers: one(acceptor)})
			f.provoke(at, leader)
		default:
			p := f.peer("damaged")
			f.add(scenarios.Action{At: at, Kind: scenarios.ActKill, Peers: one(p)})
			f.add(scenarios.Action{At: at + time.Millisecond, Kind: pick(f.drawer,
				[]scenarios.ActionKind{scenarios.ActCorrupt, scenarios.ActTear}, "damage"), Peers: one(p)})
			f.add(scenarios.Action{At: at + f.ms(100, 5000, "restartDamagedAfter"), Kind: scenarios.ActRestart, Peers: one(p)})
		}
	}
}
