// Package trace renders a simulated run's trace (the sim.TraceEvent list a
// run records with sim.Options.Trace) for people and tools: WriteHTML draws a
// space-time diagram as one self-contained HTML page, WriteShiViz writes a
// log with vector clocks for ShiViz. The simulator records; this package
// only reads what it recorded, so it imports sim and never the reverse.
package trace

import (
	"strconv"
	"time"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/sim"
)

// indexSends indexes the send events of trace by message id.
func indexSends(trace []sim.TraceEvent) map[uint64]int {
	sends := make(map[uint64]int)
	for i, ev := range trace {
		if ev.Kind == sim.TraceSend {
			sends[ev.MsgID] = i
		}
	}
	return sends
}

// findSend returns the index of the send of the message that ev (a
// delivery or a drop) concerns. A duplicated datagram's copy gets the id
// after its original's and has no send of its own (the simulator records one
// send per datagram), so an id without a send falls back to the previous id
// when that send is the same datagram.
func findSend(trace []sim.TraceEvent, sends map[uint64]int, ev sim.TraceEvent) (int, bool) {
	if i, ok := sends[ev.MsgID]; ok {
		return i, true
	}
	if ev.MsgID == 0 {
		return 0, false
	}
	i, ok := sends[ev.MsgID-1]
	if !ok {
		return 0, false
	}
	s := trace[i].Msg
	if s.Type != ev.Msg.Type || s.From != ev.Msg.From || s.To != ev.Msg.To || s.Type.Transport() != protocol.Datagram {
		return 0, false
	}
	return i, true
}

// secs renders a virtual time as the printed run does: seconds with
// milliseconds, so that a tooltip can be matched to the run's log.
func secs(t time.Duration) string {
	return strconv.FormatFloat(t.Seconds(), 'f', 3, 64) + "s"
}

// peerNumber is a peer id in decimal: the labels put a "p" before it.
func peerNumber(p protocol.PeerID) string { return strconv.FormatUint(uint64(p), 10) }
