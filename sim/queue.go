package sim

import (
	"time"

	"github.com/memberly/memberly/protocol"
)

// itemKind says what a queued item does when its time comes.
type itemKind uint8

const (
	itemDeliver itemKind = iota + 1 // deliver msg to msg.To
	itemTimer                       // fire timer at peer
	itemAction                      // timeline action number action is due
	itemFire                        // happened action number action happens: a trigger went off before
	itemLift                        // the partition of happened action number action heals
	itemChurn                       // a churn tick of happened action number action
	itemRestart                     // restart peer (churn)
	itemCheck                       // run the end-of-phase check number action
	itemResume                      // end one pause of peer's process incarnation
)

// item is one scheduled event. Items are ordered by (at, seq): equal times
// break ties by scheduling order, so runs are deterministic.
type item struct {
	at   time.Duration
	seq  uint64
	kind itemKind

	peer        protocol.PeerID
	incarnation uint64 // the process the item is for: stale ones are dropped
	msg         protocol.Message
	msgID       uint64
	stream      bool
	epoch       uint64 // stream epoch at send: a reset stream loses it
	timer       protocol.Timer
	action      int
}

// queue is a binary min-heap of items. It is written out rather than
// built on container/heap, whose interface boxes every pushed item.
type queue []item

func (q queue) less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}

func (q *queue) push(it item) {
	*q = append(*q, it)
	h := *q
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (q *queue) pop() item {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = item{} // let the message's slices go
	h = h[:last]
	for i := 0; ; {
		l, r, smallest := 2*i+1, 2*i+2, i
		if l < len(h) && h.less(l, smallest) {
			smallest = l
		}
		if r < len(h) && h.less(r, smallest) {
			smallest = r
		}
		if smallest == i {
			break
		}
		h[i], h[smallest] = h[smallest], h[i]
		i = smallest
	}
	*q = h
	return top
}
