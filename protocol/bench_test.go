package protocol_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/memberly/memberly/protocol"
)

// viewSizes are the view sizes the per-step benchmarks run at: a Step must
// not cost more as the view grows, for the common events.
var viewSizes = []int{5, 100, 1000}

// benchMember returns peer n of a universe of n, a member of view n =
// [1..n] led by 1 (in a large view, outside the line of succession, as
// most members are), started at time 0 and with no suspicion, and the
// timers it armed last, by kind.
func benchMember(b *testing.B, n int) (*protocol.Peer, map[protocol.TimerKind]protocol.Timer) {
	b.Helper()
	me := protocol.PeerID(n)
	p, err := protocol.NewPeer(protocol.DefaultConfig(), me, n)
	if err != nil {
		b.Fatal(err)
	}
	timers := map[protocol.TimerKind]protocol.Timer{}
	step := func(ev protocol.Event) {
		out, err := p.Step(ev)
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range out.Timers {
			timers[t.Timer.Kind] = t.Timer
		}
	}
	step(protocol.Event{Type: protocol.EventStart, Incarnation: 1})
	members := make([]protocol.PeerID, n)
	for i := range members {
		members[i] = protocol.PeerID(i + 1)
	}
	nv := protocol.Message{Type: protocol.MsgNewView, From: 1, To: me, Ballot: protocol.InitialBallot, ViewID: protocol.ViewID(n),
		Members: members, Op: protocol.Op{Kind: protocol.OpAdd, Peer: me, Incarnation: 1}}
	step(protocol.Event{Type: protocol.EventMessage, Msg: nv})
	return p, timers
}

// BenchmarkStepHeartbeat: one heartbeat received by a member, with no
// suspicion anywhere, the protocol's hot path. Target at a view of five:
// <= 250 ns and 0 allocations; and no growth with the view size.
func BenchmarkStepHeartbeat(b *testing.B) {
	for _, n := range viewSizes {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			p, _ := benchMember(b, n)
			ev := protocol.Event{Type: protocol.EventMessage,
				Msg: protocol.Message{Type: protocol.MsgHeartbeat, From: 2, To: protocol.PeerID(n), Ballot: protocol.InitialBallot, ViewID: protocol.ViewID(n)}}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				ev.Now = time.Duration(i) // time moves on, as it does
				if _, err := p.Step(ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStepTimerHeartbeat: the heartbeat timer fires at a member, which
// sends one heartbeat to each of the n-1 others: O(n) by nature, so it also
// reports the cost per message sent.
func BenchmarkStepTimerHeartbeat(b *testing.B) {
	for _, n := range viewSizes {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			p, timers := benchMember(b, n)
			timer := timers[protocol.TimerHeartbeat]
			sent := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				out, err := p.Step(protocol.Event{Type: protocol.EventTimer, Now: time.Duration(1 + i), Timer: timer})
				if err != nil {
					b.Fatal(err)
				}
				sent += len(out.Messages)
				timer = out.Timers[len(out.Timers)-1].Timer
			}
			b.StopTimer()
			want := n - 1 // a small view: every other member
			if n > protocol.DefaultObservers+1 {
				want = protocol.DefaultObservers // a large one: its watchers
			}
			if sent != b.N*want {
				b.Fatalf("sent %d heartbeats in %d steps, want %d each", sent, b.N, want)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(sent), "ns/msg")
		})
	}
}

// BenchmarkStepTimerSuspect: the suspect timer fires at a member before
// anyone is due (it fires early after heartbeats moved the deadlines on), so
// it only re-arms.
func BenchmarkStepTimerSuspect(b *testing.B) {
	for _, n := range viewSizes {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			p, timers := benchMember(b, n)
			timer := timers[protocol.TimerSuspect]
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				out, err := p.Step(protocol.Event{Type: protocol.EventTimer, Now: time.Duration(1 + i), Timer: timer})
				if err != nil {
					b.Fatal(err)
				}
				if len(out.Timers) != 1 || len(out.Messages) != 0 {
					b.Fatalf("suspect timer: %d timers, %d messages, want 1 re-arm and nothing sent", len(out.Timers), len(out.Messages))
				}
				timer = out.Timers[0].Timer
			}
		})
	}
}

// BenchmarkJoinFive: a full 5-peer join (the seed's case 1, with peers
// starting 2 s apart) through the in-memory driver, heartbeats included,
// until 20 virtual seconds.
func BenchmarkJoinFive(b *testing.B) {
	b.ReportAllocs()
	delivered := 0
	for range b.N {
		c := newCluster(b, 5, protocol.DefaultConfig())
		seedJoin(c)
		c.runUntil(sec(20))
		if c.nodes[5].peer.View().ID != 5 {
			b.Fatalf("join did not complete: %s", c.nodes[5].peer.View())
		}
		delivered += c.delivered
	}
	b.ReportMetric(float64(delivered)/float64(b.N), "msgs/op")
}
