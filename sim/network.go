package sim

import (
	"fmt"
	"time"

	"github.com/memberly/memberly/protocol"
)

// latency draws one message's latency from the network in force.
func (w *world) latency() time.Duration {
	d := w.net.LatencyMin
	if mean := float64(w.net.LatencyMean); mean > 0 {
		if w.net.LatencyDistribution == "uniform" {
			d += time.Duration(w.rng.Float64() * 2 * mean)
		} else {
			d += time.Duration(w.rng.ExpFloat64() * mean)
		}
	}
	return d
}

// percent draws true with probability p percent.
func (w *world) percent(p float64) bool { return p > 0 && w.rng.Float64()*100 < p }

// send puts a message on the network, or loses it.
func (w *world) send(sp *simPeer, m protocol.Message) {
	w.msgID++
	id := w.msgID
	if w.opts.Trace {
		w.res.Trace = append(w.res.Trace, TraceEvent{Time: w.now, Kind: TraceSend, Peer: sp.id, Msg: m, MsgID: id})
	}
	if int(m.To) < 1 || int(m.To) > w.sc.Peers || m.To == m.From {
		// Not something a network can carry: a protocol bug.
		w.fail(SafetyViolation, "output", fmt.Sprintf("p%d sent %s to no valid peer", sp.id, m))
		return
	}
	w.hist.Sent(m, w.now)
	if reason := w.lostAtSend(m); reason != "" {
		w.drop(m, id, reason)
		return
	}
	if m.Type.Transport() == protocol.Stream {
		s := &w.streams[m.From][m.To]
		at := max(w.now+w.latency(), s.lastAt) // FIFO per ordered pair
		s.lastAt = at
		w.schedule(item{at: at, kind: itemDeliver, msg: m, msgID: id, stream: true, epoch: s.epoch,
			incarnation: w.peers[m.To].incarnation})
		return
	}
	copies := 1
	if w.percent(w.net.DuplicatePercent) {
		copies = 2
	}
	for c := range copies {
		at := w.now + w.latency()
		if w.percent(w.net.ReorderPercent) && w.net.ReorderDelayMax > 0 {
			at += time.Duration(w.rng.Int64N(int64(w.net.ReorderDelayMax) + 1))
		}
		msgID := id
		if c > 0 {
			w.msgID++
			msgID = w.msgID
		}
		w.schedule(item{at: at, kind: itemDeliver, msg: m, msgID: msgID, incarnation: w.peers[m.To].incarnation})
	}
}

// lostAtSend says why m is lost as it is sent, or "".
func (w *world) lostAtSend(m protocol.Message) string {
	if w.blocked[m.From][m.To] > 0 {
		return "partition"
	}
	for i := range w.drops {
		d := &w.drops[i]
		if d.Count > 0 && (d.Type == 0 || d.Type == m.Type) && (d.From == 0 || d.From == m.From) && (d.To == 0 || d.To == m.To) {
			d.Count--
			return "targeted drop"
		}
	}
	if m.Type.Transport() == protocol.Datagram && w.percent(w.net.LossPercent) {
		return "loss"
	}
	return ""
}

// deliver hands a message to its receiver, if it can still get there.
func (w *world) deliver(it item) {
	m := it.msg
	to := w.peers[m.To]
	switch {
	case it.stream && w.streams[m.From][m.To].epoch != it.epoch:
		w.drop(m, it.msgID, "stream reset")
	case w.blocked[m.From][m.To] > 0:
		w.drop(m, it.msgID, "partition")
	case !to.alive || to.incarnation != it.incarnation:
		w.drop(m, it.msgID, "receiver down")
	case to.pauses > 0:
		// In the stopped process's socket: it reads it when it continues.
		w.hold(to, protocol.Event{Type: protocol.EventMessage, Msg: m}, it.msgID)
	default:
		w.handOver(to, m, it.msgID)
	}
}

// handOver has the receiver handle a message that reached it.
func (w *world) handOver(to *simPeer, m protocol.Message, msgID uint64) {
	w.res.Delivered++
	if w.opts.Trace {
		w.res.Trace = append(w.res.Trace, TraceEvent{Time: w.now, Kind: TraceDeliver, Peer: m.To, Msg: m, MsgID: msgID})
	}
	w.p.delivered(w, m)
	w.step(to, protocol.Event{Type: protocol.EventMessage, Msg: m})
}

// drop records a lost message, with both ends.
func (w *world) drop(m protocol.Message, id uint64, reason string) {
	w.res.Dropped++
	if w.opts.Trace {
		w.res.Trace = append(w.res.Trace, TraceEvent{Time: w.now, Kind: TraceDrop, Peer: m.To, Msg: m, MsgID: id, Reason: reason})
	}
	w.p.dropped(w, m, reason)
}

// resetStreams breaks every stream between a and b, both ways: what was in
// flight is lost, as with a TCP reset.
func (w *world) resetStreams(a, b protocol.PeerID) {
	w.streams[a][b].epoch++
	w.streams[b][a].epoch++
}

// resetAll breaks every stream to and from p.
func (w *world) resetAll(p protocol.PeerID) {
	for q := 1; q <= w.sc.Peers; q++ {
		w.resetStreams(p, protocol.PeerID(q))
	}
}

// block stops (delta 1) or lets through again (delta -1) from's messages to
// to. Blocking breaks the streams between them.
func (w *world) block(from, to protocol.PeerID, delta int) {
	w.blocked[from][to] += int32(delta)
	w.rem.touch(from, w.now)
	w.rem.touch(to, w.now)
	if delta > 0 {
		w.resetStreams(from, to)
	}
}
