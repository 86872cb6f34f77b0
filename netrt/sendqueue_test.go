package netrt

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func drain(q *frameQueue) []string {
	var got []string
	for f := q.pop(); f != nil; f = q.pop() {
		got = append(got, string(f))
	}
	return got
}

func TestFrameQueue_DropsOldestWhenFull(t *testing.T) {
	q := newFrameQueue(3, 100)
	var dropped int
	for _, f := range []string{"a", "b", "c", "d", "e"} {
		dropped += q.push([]byte(f))
	}
	if dropped != 2 {
		t.Errorf("dropped %d frames, want 2", dropped)
	}
	if diff := cmp.Diff([]string{"c", "d", "e"}, drain(&q)); diff != "" {
		t.Errorf("queue (-want +got):\n%s", diff)
	}
}

func TestFrameQueue_PushFront(t *testing.T) {
	q := newFrameQueue(3, 100)
	q.push([]byte("a"))
	q.push([]byte("b"))
	f := q.pop()
	q.push([]byte("c"))
	if q.pushFront(f) {
		t.Fatal("pushFront dropped a frame with room left")
	}
	if !q.pushFront([]byte("x")) {
		t.Error("pushFront into a full queue kept the frame")
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, drain(&q)); diff != "" {
		t.Errorf("queue (-want +got):\n%s", diff)
	}
	if q.len() != 0 || q.pop() != nil {
		t.Error("drained queue not empty")
	}
}

// Large frames (a tagged NEWVIEW) fill the queue's bytes before its
// frames: the oldest go first, and the newest is kept even alone above
// the bound.
func TestFrameQueue_DropsOldestPastItsBytes(t *testing.T) {
	q := newFrameQueue(10, 10)
	var dropped int
	for _, f := range []string{"aaaa", "bbbb", "cc", "dddd"} {
		dropped += q.push([]byte(f))
	}
	if dropped != 1 || q.bytes != 10 {
		t.Errorf("dropped %d frames, holding %d bytes; want 1 and 10", dropped, q.bytes)
	}
	if !q.pushFront([]byte("x")) {
		t.Error("pushFront past the bytes kept the frame")
	}
	dropped = q.push([]byte("a frame larger than the bound"))
	if diff := cmp.Diff([]string{"a frame larger than the bound"}, drain(&q)); diff != "" || dropped != 3 {
		t.Errorf("dropped %d, want 3; queue (-want +got):\n%s", dropped, diff)
	}
	if q.bytes != 0 {
		t.Errorf("drained queue holds %d bytes", q.bytes)
	}
}
