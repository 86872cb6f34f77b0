package trace

import (
	"bufio"
	"io"
	"strconv"
	"strings"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/sim"
)

// shiVizRegexp is the log parsing regular expression ShiViz is given on the
// first line of the file. It is the format of GoVector, ShiViz's companion
// vector-clock logging library, which ShiViz users will have seen: every
// event is two lines, the host and its vector clock as a JSON object, then
// the event's text. (ShiViz only needs the named groups host, clock and
// event; their order is up to the regexp.)
const shiVizRegexp = `(?<host>\S*) (?<clock>{.*})\n(?<event>.*)`

// WriteShiViz writes trace as a log for ShiViz
// (https://bestchai.bitbucket.io/shiviz/, "upload a log file"):
//
//	(?<host>\S*) (?<clock>{.*})\n(?<event>.*)
//
//	p1 {"p1":1}
//	0.000s fault: start p1 (incarnation 1)
//	p1 {"p1":2}
//	0.000s note: {peer_id:1, view_id: 1, leader: 1, memb_list: [1]}
//	p2 {"p2":1}
//	2.000s fault: start p2 (incarnation 1)
//	p2 {"p2":2}
//	2.000s send JOIN 2->1 ADD 2#1
//	p1 {"p1":3,"p2":2}
//	2.005s deliver JOIN 2->1 ADD 2#1
//
// A log file loaded into ShiViz starts with two lines: the parsing regular
// expression, and the regular expression that would split several
// executions, here empty as there is one. (Pasting the log instead, put the
// first line in the parser field and the rest in the log box.) Then each
// event takes two lines: the host
// ("p" and the peer id) and its vector clock as a JSON object keyed by host,
// in peer order, zero entries left out; then the virtual time and what
// happened:
//
//   - "send <message>" at the sender;
//   - "deliver <message>" at the receiver;
//   - "drop: <reason>: <message>" at the sender, since the receiver never
//     saw it: ShiViz draws no arrow for it, but the loss shows on the
//     sender's timeline where it happened;
//   - "note: <seed log line>" for the notes the seed logs, "note: <Note>"
//     for the others;
//   - "fault: <reason>" for a fault at one peer.
//
// Faults that concern no one peer (partitions, heals, network changes) are
// left out: a pseudo-host would have no causal link to any peer, so ShiViz
// would draw it beside everything and order it against nothing.
//
// Vector clocks are computed as the textbook says: every event at a peer
// adds one to that peer's own entry, and a delivery first takes the
// entry-wise maximum with the clock the message carried, the sender's
// clock at its send (found by message id; a duplicated datagram's copy by
// its original's). So a delivery's clock dominates its send's, and each
// host's own entry counts 1, 2, 3, ... as ShiViz requires. A restarted peer
// keeps its host and its count: it is the same timeline in the diagram.
//
// The only error returned is w's.
func WriteShiViz(w io.Writer, trace []sim.TraceEvent) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(shiVizRegexp + "\n\n") //nolint:errcheck // Flush reports it

	n := 0
	for _, ev := range trace {
		n = max(n, int(shiVizHost(ev)))
	}
	clocks := make([][]uint64, n+1)   // by peer; nil until its first event
	carried := make(map[int][]uint64) // by index of the send in trace
	sends := indexSends(trace)
	var buf []byte
	for i, ev := range trace {
		p := shiVizHost(ev)
		if p == 0 {
			continue
		}
		c := clocks[p]
		if c == nil {
			c = make([]uint64, n+1)
			clocks[p] = c
		}
		var text string
		switch ev.Kind {
		case sim.TraceSend:
			text = "send " + ev.Msg.String()
		case sim.TraceDeliver:
			if j, ok := findSend(trace, sends, ev); ok {
				for q, v := range carried[j] {
					c[q] = max(c[q], v)
				}
			}
			text = "deliver " + ev.Msg.String()
		case sim.TraceDrop:
			text = "drop: " + ev.Reason + ": " + ev.Msg.String()
		case sim.TraceNote:
			if line, ok := protocol.FormatNote(ev.Note); ok {
				text = "note: " + line
			} else {
				text = "note: " + ev.Note.String()
			}
		case sim.TraceFault:
			text = "fault: " + ev.Reason
		default:
			text = ev.Kind.String()
		}
		c[p]++
		if ev.Kind == sim.TraceSend {
			carried[i] = append([]uint64(nil), c...)
		}

		buf = append(buf[:0], 'p')
		buf = strconv.AppendUint(buf, uint64(p), 10)
		buf = append(buf, " {"...)
		first := true
		for q, v := range c {
			if v == 0 {
				continue
			}
			if !first {
				buf = append(buf, ',')
			}
			first = false
			buf = append(buf, `"p`...)
			buf = strconv.AppendUint(buf, uint64(q), 10)
			buf = append(buf, `":`...)
			buf = strconv.AppendUint(buf, v, 10)
		}
		buf = append(buf, "}\n"...)
		buf = append(buf, secs(ev.Time)...)
		buf = append(buf, ' ')
		// One event is one line: a line break in a reason would split
		// it and throw the parser out of step for the rest of the file.
		buf = append(buf, shiVizOneLine.Replace(text)...)
		buf = append(buf, '\n')
		bw.Write(buf) //nolint:errcheck
	}
	return bw.Flush()
}

var shiVizOneLine = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

// shiVizHost returns the peer at which ev is an event for ShiViz (a drop
// is the sender's), or 0 when ev is left out.
func shiVizHost(ev sim.TraceEvent) protocol.PeerID {
	p := ev.Peer
	if ev.Kind == sim.TraceDrop {
		p = ev.Msg.From
	}
	if p > protocol.MaxPeers {
		// A bogus id would make the clocks as long as it is large.
		return 0
	}
	return p
}
