package netrt

// frameQueue is a bounded FIFO of frames: a ring, so that dropping the
// oldest frame when it is full costs nothing. It is not safe for
// concurrent use; link guards it.
type frameQueue struct {
	buf   [][]byte
	head  int // index of the oldest frame
	count int
}

func newFrameQueue(capacity int) frameQueue {
	return frameQueue{buf: make([][]byte, capacity)}
}

func (q *frameQueue) len() int { return q.count }

// push appends f, dropping the oldest frame when the queue is full; it
// reports whether it dropped one.
func (q *frameQueue) push(f []byte) (dropped bool) {
	if q.count == len(q.buf) {
		q.pop()
		dropped = true
	}
	q.buf[(q.head+q.count)%len(q.buf)] = f
	q.count++
	return dropped
}

// pushFront puts f back as the oldest frame, after a write of it failed.
// When the queue filled up meanwhile, f is the oldest and is dropped; it
// reports whether it was.
func (q *frameQueue) pushFront(f []byte) (dropped bool) {
	if q.count == len(q.buf) {
		return true
	}
	q.head = (q.head - 1 + len(q.buf)) % len(q.buf)
	q.buf[q.head] = f
	q.count++
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
	return f
}
