package protocol_test

import (
	"encoding/binary"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/memberly/memberly/protocol"
)

// FuzzStep feeds a member of a 5-peer view, and a leader, any sequence of
// frames: each input is split into length-prefixed chunks, every chunk that
// decodes is delivered (with its To rewritten to the peer), and timers fire
// in between. Nothing from outside may panic a peer or break its view.
func FuzzStep(f *testing.F) {
	seed := func(ms ...protocol.Message) []byte {
		var b []byte
		for _, m := range ms {
			enc, err := protocol.Encode(&m)
			if err != nil {
				f.Fatal(err)
			}
			b = binary.AppendUvarint(b, uint64(len(enc)))
			b = append(b, enc...)
		}
		return b
	}
	f.Add(seed(protocol.Message{Type: protocol.MsgHeartbeat, From: 2, To: 3, Ballot: b01, ViewID: 5}))
	f.Add(seed(
		protocol.Message{Type: protocol.MsgNewLeader, From: 2, To: 3, Ballot: b12, ViewID: 5},
		protocol.Message{Type: protocol.MsgReq, From: 1, To: 3, Ballot: b01, ViewID: 5, Op: del(4)},
		protocol.Message{Type: protocol.MsgNewView, From: 4, To: 3, Ballot: b23, ViewID: 9, Members: ids(2, 4), Op: del(3)},
	))
	f.Add(seed(
		protocol.Message{Type: protocol.MsgJoin, From: 4, To: 1, Op: add(4, 9)},
		protocol.Message{Type: protocol.MsgPending, From: 2, To: 1, Ballot: b12, ViewID: 5, Members: ids(1, 2, 3), Op: add(5, 1), OpBallot: b01},
		protocol.Message{Type: protocol.MsgLeave, From: 2, To: 1},
	))
	// The last view id and round a peer accepts: nothing after them may
	// wrap.
	f.Add(seed(
		protocol.Message{Type: protocol.MsgNewView, From: 1, To: 3, Ballot: b01, ViewID: math.MaxUint64 - 1, Members: ids(1, 2, 3, 4), Op: del(5)},
		protocol.Message{Type: protocol.MsgNewLeader, From: 2, To: 3, Ballot: protocol.Ballot{Round: math.MaxUint64 - 1, Leader: 2}, ViewID: math.MaxUint64 - 1},
		protocol.Message{Type: protocol.MsgNack, From: 2, To: 1, Ballot: protocol.Ballot{Round: math.MaxUint64 - 1, Leader: 2}, ViewID: 5},
	))
	f.Add([]byte{0xff, 0x01, 0x02})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, h := range []*harness{member(t, 3, 5, 5, 1, 2, 3, 4, 5), leader(t, 5, 5)} {
			self := h.p.ID()
			kinds := []protocol.TimerKind{protocol.TimerHeartbeat, protocol.TimerSuspect, protocol.TimerRetry, protocol.TimerJoin, protocol.TimerLeave}
			for i, rest := 0, data; len(rest) > 0 && !h.p.Stopped(); i++ {
				n, used := binary.Uvarint(rest)
				if used <= 0 || n > uint64(len(rest)-used) {
					break
				}
				chunk := rest[used : used+int(n)]
				rest = rest[used+int(n):]
				h.now += 300 * time.Millisecond
				if m, err := protocol.Decode(chunk); err == nil {
					m.To = self
					// Refusals are fine; panics and broken state are not.
					out, _ := h.p.Step(protocol.Event{Type: protocol.EventMessage, Now: h.now, Msg: m})
					h.record(out)
				}
				if tm, ok := h.timers[kinds[i%len(kinds)]]; ok {
					out, _ := h.p.Step(protocol.Event{Type: protocol.EventTimer, Now: h.now, Timer: tm})
					h.record(out)
				}
				v := h.p.View()
				if v.ID != 0 && (!slices.IsSorted(v.Members) || !v.Contains(self)) {
					t.Fatalf("peer %d holds broken view %s", self, v)
				}
			}
		}
	})
}
