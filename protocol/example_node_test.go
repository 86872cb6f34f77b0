package protocol_test

import (
	"fmt"
	"time"

	"github.com/memberly/memberly/protocol"
)

// printer is an Effects that prints what its Node asks of it. A real
// driver writes notes to its log, sends messages over TCP or UDP as
// Message.Type.Transport says, arms timers on its clock, writes and syncs
// the state file in Save, and exits in Stop.
type printer struct {
	now   time.Duration                         // the driver's clock, at the current call
	armed map[protocol.TimerKind]protocol.Timer // the timers to hand back to Node.Fire
}

func (d *printer) Save(s protocol.DurableState) error {
	fmt.Printf("  save   view %v, promise %v\n", s.View, s.Promise)
	return nil
}

// Note prints the seed's log line of n; notes that have none (a
// proposal, a leadership, a finished leave) are for other observers.
func (d *printer) Note(n protocol.Note) {
	if line, ok := protocol.FormatNote(n); ok {
		fmt.Println("  log   ", line)
	}
}

func (d *printer) Send(m protocol.Message) { fmt.Println("  send  ", m.Type.Transport(), m) }

func (d *printer) Timer(t protocol.TimerRequest) {
	if t.Cancel {
		delete(d.armed, t.Timer.Kind)
		fmt.Println("  timer  cancel", t.Timer.Kind)
		return
	}
	d.armed[t.Timer.Kind] = t.Timer
	fmt.Println("  timer ", t.Timer.Kind, "at", d.now+t.After)
}

func (d *printer) Stop() { fmt.Println("  stop") }

// ExampleNode wires a Node to an Effects, as a runtime embedding a peer
// does: the runtime turns a process start, a received message, a fired
// timer and an operator's request into calls on the Node, which carries
// out each step through Effects in order: Save (for a durable peer),
// notes, messages, timers, then Stop. Here peer 1 of two founds the
// cluster, adds peer 2, heartbeats once and leaves.
func ExampleNode() {
	cfg := protocol.DefaultConfig()
	cfg.Durable = true // so that Save is asked for
	d := &printer{armed: map[protocol.TimerKind]protocol.Timer{}}
	n, err := protocol.NewNode(cfg, 1, 2, d)
	if err != nil {
		panic(err)
	}
	at := func(now time.Duration, what string) time.Duration {
		d.now = now
		fmt.Println(now, what)
		return now
	}

	if err := n.Start(at(0, "start"), 1); err != nil {
		panic(err)
	}
	join := protocol.Message{Type: protocol.MsgJoin, From: 2, To: 1, Incarnation: 1,
		Op: protocol.Op{Kind: protocol.OpAdd, Peer: 2, Incarnation: 1}}
	if err := n.Receive(at(5*time.Millisecond, "JOIN from 2"), join); err != nil {
		panic(err)
	}
	hb := d.armed[protocol.TimerHeartbeat]
	if err := n.Fire(at(1100*time.Millisecond, "heartbeat timer fires"), hb); err != nil {
		panic(err)
	}
	if err := n.Leave(at(2*time.Second, "leave")); err != nil {
		panic(err)
	}
	fmt.Println("peer 1 stopped:", n.Peer().Stopped())

	// Output:
	// 0s start
	//   save   view 0[], promise (0,1)
	//   send   stream JOIN 1->2 ADD 1#1
	//   timer  heartbeat at 1.1s
	//   timer  join at 1s
	// 5ms JOIN from 2
	//   save   view 2[1,2], promise (0,1)
	//   log    {peer_id:1, view_id: 1, leader: 1, memb_list: [1]}
	//   log    {peer_id:1, view_id: 2, leader: 1, memb_list: [1,2]}
	//   send   stream NEWVIEW 1->2 b=(0,1) v=2 [1,2] by ADD 2#1 for #1
	//   timer  cancel join
	//   timer  retry at 505ms
	//   timer  suspect at 2.205s
	// 1.1s heartbeat timer fires
	//   send   datagram HEARTBEAT 1->2 b=(0,1) v=2
	//   timer  heartbeat at 2.2s
	// 2s leave
	//   save   view 0[], promise (0,1)
	//   send   stream REQ 1->2 b=(0,1) v=2 DEL 1
	//   send   stream NEWVIEW 1->2 b=(0,1) v=3 [2] by DEL 1 for #1
	//   timer  leave at 7s
	//   stop
	// peer 1 stopped: true
}
