package protocol_test

import (
	"testing"
	"time"

	"github.com/memberly/memberly/protocol"
)

// BenchmarkStepHeartbeat: one heartbeat received by a member of a 5-peer
// view, the protocol's hot path. Target: <= 250 ns and 0 allocations.
func BenchmarkStepHeartbeat(b *testing.B) {
	p, err := protocol.NewPeer(protocol.DefaultConfig(), 3, 5)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := p.Step(protocol.Event{Type: protocol.EventStart, Incarnation: 1}); err != nil {
		b.Fatal(err)
	}
	nv := protocol.Message{Type: protocol.MsgNewView, From: 1, To: 3, Ballot: protocol.InitialBallot, ViewID: 5,
		Members: []protocol.PeerID{1, 2, 3, 4, 5}, Op: protocol.Op{Kind: protocol.OpAdd, Peer: 3, Incarnation: 1}}
	if _, err := p.Step(protocol.Event{Type: protocol.EventMessage, Msg: nv}); err != nil {
		b.Fatal(err)
	}
	ev := protocol.Event{Type: protocol.EventMessage,
		Msg: protocol.Message{Type: protocol.MsgHeartbeat, From: 2, To: 3, Ballot: protocol.InitialBallot, ViewID: 5}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		ev.Now = time.Duration(i) // time moves on, as it does
		if _, err := p.Step(ev); err != nil {
			b.Fatal(err)
		}
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
