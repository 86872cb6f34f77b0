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
	itemAction                      // timeline action step is due
	itemFire                        // happened action kept happens: a trigger went off before
	itemLift                        // the partition of happened action kept heals
	itemChurn                       // a churn tick of happened action kept
	itemRestart                     // restart peer (churn)
	itemCheck                       // run the end-of-phase check
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
	// What an item about the scenario refers to, each by its own type:
	// a timeline action (itemAction), an action that happened and that
	// later items come back to (itemFire, itemLift, itemChurn), or a
	// check (itemCheck).
	step  timelineStep
	kept  keptAction
	check checkKind
}

// timelineStep numbers an action in world.timeline.
type timelineStep int

// keptAction numbers an action in world.happened (see world.keep).
type keptAction int

// queue is a min-heap of items by (at, seq). The heap itself holds only
// each item's key and the slot its item waits in, so that sifting moves
// 24 bytes rather than a whole item (message included); slots are reused
// once their item is popped, so the slab grows only to the most items
// ever waiting at once. It is written out rather than built on
// container/heap, whose interface boxes every pushed item.
type queue struct {
	heap  []queueKey
	slots []item
	free  []int32 // slots no item waits in
}

type queueKey struct {
	at   time.Duration
	seq  uint64
	slot int32
}

func (k queueKey) less(o queueKey) bool {
	if k.at != o.at {
		return k.at < o.at
	}
	return k.seq < o.seq
}

// len reports how many items wait.
func (q *queue) len() int { return len(q.heap) }

func (q *queue) push(it item) {
	var slot int32
	if n := len(q.free); n > 0 {
		slot = q.free[n-1]
		q.free = q.free[:n-1]
		q.slots[slot] = it
	} else {
		slot = int32(len(q.slots))
		q.slots = append(q.slots, it)
	}
	k := queueKey{at: it.at, seq: it.seq, slot: slot}
	q.heap = append(q.heap, k)
	h := q.heap
	i := len(h) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !k.less(h[parent]) {
			break
		}
		h[i] = h[parent]
		i = parent
	}
	h[i] = k
}

func (q *queue) pop() item {
	h := q.heap
	top := h[0]
	last := len(h) - 1
	k := h[last]
	h = h[:last]
	q.heap = h
	if last > 0 {
		i := 0
		for {
			l := 2*i + 1
			if l >= last {
				break
			}
			c := l
			if r := l + 1; r < last && h[r].less(h[l]) {
				c = r
			}
			if !h[c].less(k) {
				break
			}
			h[i] = h[c]
			i = c
		}
		h[i] = k
	}
	it := q.slots[top.slot]
	q.slots[top.slot] = item{} // let the message's slices go
	q.free = append(q.free, top.slot)
	return it
}
