package netrt

// sendQueueBytes bounds the bytes one peer's send queue holds, beside its
// bound in frames (Options.SendQueueLen). Without tags a message is at
// most about 2 KB, and the frame bound binds first; with tags a NEWVIEW
// may approach protocol.MaxMessageSize, and 1024 of them queued for a
// peer that is down would hold half a gigabyte. 16 MiB keeps thirty of
// the largest, more than a peer catching up needs: it is sent the view
// it lacks, not every view in between.
const sendQueueBytes = 16 << 20

// frameQueue is a bounded FIFO of frames: a ring, so that dropping the
// oldest frame when it is full costs nothing. It is not safe for
// concurrent use; link guards it.
//
// Invariant: bytes is the sum of the lengths of the count frames held,
// and at most maxBytes unless a single frame is larger (the newest is
// always kept).
type frameQueue struct {
	buf      [][]byte
	head     int // index of the oldest frame
	count    int
	bytes    int
	maxBytes int
}

func newFrameQueue(capacity, maxBytes int) frameQueue {
	return frameQueue{buf: make([][]byte, capacity), maxBytes: maxBytes}
}

func (q *frameQueue) len() int { return q.count }

// push appends f, dropping the oldest frames while the queue is full, in
// frames or in bytes; it returns how many it dropped.
func (q *frameQueue) push(f []byte) (dropped int) {
	for q.count > 0 && (q.count == len(q.buf) || q.bytes+len(f) > q.maxBytes) {
		q.pop()
		dropped++
	}
	q.buf[(q.head+q.count)%len(q.buf)] = f
	q.count++
	q.bytes += len(f)
	return dropped
}

// pushFront puts f back as the oldest frame, after a write of it failed.
// When the queue filled up meanwhile, in frames or in bytes, f is the
// oldest and is dropped; it reports whether it was.
func (q *frameQueue) pushFront(f []byte) (dropped bool) {
	if q.count == len(q.buf) || (q.count > 0 && q.bytes+len(f) > q.maxBytes) {
		return true
	}
	q.head = (q.head - 1 + len(q.buf)) % len(q.buf)
	q.buf[q.head] = f
	q.count++
	q.bytes += len(f)
	return false
}

// pop removes and returns the oldest frame, nil when empty.
func (q *frameQueue) pop() []byte {
	if q.count == 0 {
		return nil
	}
	f := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.count--
	q.bytes -= len(f)
	return f
}
