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
	q := newFrameQueue(3)
	var dropped int
	for _, f := range []string{"a", "b", "c", "d", "e"} {
		if q.push([]byte(f)) {
			dropped++
		}
	}
	if dropped != 2 {
		t.Errorf("dropped %d frames, want 2", dropped)
	}
	if diff := cmp.Diff([]string{"c", "d", "e"}, drain(&q)); diff != "" {
		t.Errorf("queue (-want +got):\n%s", diff)
	}
}

func TestFrameQueue_PushFront(t *testing.T) {
	q := newFrameQueue(3)
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
