package protocol_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/memberly/memberly/protocol"
)

// ExamplePeer_Step drives peer 1 of a universe of three by hand, playing
// the driver and peers 2 and 3. The Peer reads no clock and draws no
// random number: time comes only from Event.Now and a process's identity
// only from Event.Incarnation, so the same events always give the same
// output. Each Output is printed as a driver carries it out: log lines,
// then messages, then timers to arm or cancel.
func ExamplePeer_Step() {
	p, err := protocol.NewPeer(protocol.DefaultConfig(), 1, 3)
	if err != nil {
		panic(err)
	}
	step := func(what string, ev protocol.Event) {
		out, err := p.Step(ev)
		if err != nil {
			panic(err)
		}
		fmt.Println(ev.Now, what)
		show(out)
	}
	// recv delivers m from the first process (incarnation 1) of m.From.
	recv := func(now time.Duration, m protocol.Message) protocol.Event {
		m.To, m.Incarnation = 1, 1
		return protocol.Event{Type: protocol.EventMessage, Now: now, Msg: m}
	}
	join := func(q protocol.PeerID) protocol.Message {
		return protocol.Message{Type: protocol.MsgJoin, From: q, Op: protocol.Op{Kind: protocol.OpAdd, Peer: q, Incarnation: 1}}
	}
	ok := func(from protocol.PeerID, v protocol.ViewID) protocol.Message {
		return protocol.Message{Type: protocol.MsgOK, From: from, Ballot: protocol.InitialBallot, ViewID: v}
	}
	ms := time.Millisecond

	// Peer 1 asks the other hosts whether a cluster exists.
	step("start", protocol.Event{Type: protocol.EventStart, Now: 0, Incarnation: 1})
	// Both answer with a JOIN of a process that never held a view: peer 1
	// founds view 1 and adds them one at a time. Half of [1,2] is a
	// quorum when it holds the lowest id, so peer 1 decides alone so far.
	step("JOIN from 2", recv(10*ms, join(2)))
	step("JOIN from 3", recv(20*ms, join(3)))
	// Peer 2 accepts the REQ for view 2: an OK that is also its promise
	// at view 3. With the leader's own, a quorum of view 3 has promised,
	// which the leader needs before it proposes there.
	step("OK from 2", recv(30*ms, ok(2, 2)))
	// Peer 3 leaves: removing it from [1,2,3] takes peer 2's OK too.
	step("LEAVE from 3", recv(1000*ms, protocol.Message{Type: protocol.MsgLeave, From: 3}))
	step("OK from 2", recv(1010*ms, ok(2, 3)))

	// Output:
	// 0s start
	//   send JOIN 1->2 ADD 1#1
	//   send JOIN 1->3 ADD 1#1
	//   timers: heartbeat in 1.1s, join in 1s
	// 10ms JOIN from 2
	// 20ms JOIN from 3
	//   log {peer_id:1, view_id: 1, leader: 1, memb_list: [1]}
	//   log {peer_id:1, view_id: 2, leader: 1, memb_list: [1,2]}
	//   log {peer_id:1, view_id: 3, leader: 1, memb_list: [1,2,3]}
	//   send NEWVIEW 1->2 b=(0,1) v=2 [1,2] by ADD 2#1 for #1
	//   send REQ 1->2 b=(0,1) v=2 ADD 3#1
	//   send NEWVIEW 1->2 b=(0,1) v=3 [1,2,3] by ADD 3#1 for #1
	//   send NEWVIEW 1->3 b=(0,1) v=3 [1,2,3] by ADD 3#1 for #1
	//   timers: cancel join, retry in 500ms, suspect in 2.2s, suspect in 2.2s
	// 30ms OK from 2
	// 1s LEAVE from 3
	//   send REQ 1->2 b=(0,1) v=3 DEL 3
	//   send REQ 1->3 b=(0,1) v=3 DEL 3
	// 1.01s OK from 2
	//   log {peer_id:1, view_id: 4, leader: 1, memb_list: [1,2]}
	//   send NEWVIEW 1->2 b=(0,1) v=4 [1,2] by DEL 3 for #1
	//   send NEWVIEW 1->3 b=(0,1) v=4 [1,2] by DEL 3
	//   timers: suspect in 2.2s
}

// show prints what out asks of the driver, in the order it must be done;
// of the notes, those that have a seed log line, as that line.
func show(out protocol.Output) {
	for _, n := range out.Notes {
		if line, ok := protocol.FormatNote(n); ok {
			fmt.Println("  log", line)
		}
	}
	for _, m := range out.Messages {
		fmt.Println("  send", m)
	}
	var timers []string
	for _, t := range out.Timers {
		if t.Cancel {
			timers = append(timers, "cancel "+t.Timer.Kind.String())
		} else {
			timers = append(timers, fmt.Sprintf("%s in %v", t.Timer.Kind, t.After))
		}
	}
	if len(timers) > 0 {
		fmt.Println("  timers:", strings.Join(timers, ", "))
	}
	if out.Stopped {
		fmt.Println("  stop")
	}
}
