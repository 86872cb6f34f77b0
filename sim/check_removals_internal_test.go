package sim

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

// A removal is false when the peer ran untouched since it was added, and
// excused when a fault concerned it since, or its process is gone.
func TestRemovals_FalseUnlessAFaultExcusesIt(t *testing.T) {
	s := time.Second
	view := func(id protocol.ViewID, m ...protocol.PeerID) protocol.View { return protocol.View{ID: id, Members: m} }
	alive := map[protocol.PeerID]bool{1: true, 2: true, 3: true}
	isAlive := func(q protocol.PeerID) bool { return alive[q] }

	r := newRemovals(3)
	r.touch(1, 0)
	r.touch(2, 0)
	r.touch(3, 0)
	r.decided(view(0), view(1, 1), 0, isAlive)
	r.decided(view(1, 1), view(2, 1, 2), 1*s, isAlive)
	r.decided(view(2, 1, 2), view(3, 1, 2, 3), 2*s, isAlive)

	// 3 removed while running untouched: false.
	r.decided(view(3, 1, 2, 3), view(4, 1, 2), 10*s, isAlive)
	// 3 added again, then cut off by a partition, then removed: excused.
	r.decided(view(4, 1, 2), view(5, 1, 2, 3), 11*s, isAlive)
	r.touch(3, 12*s)
	r.decided(view(5, 1, 2, 3), view(6, 1, 2), 13*s, isAlive)
	// 2 crashed (its process is gone): excused.
	alive[2] = false
	r.decided(view(6, 1, 2), view(7, 1), 14*s, isAlive)

	type got struct {
		False int
		First string
	}
	want := got{1, "view 4 removed p3 at 10s, which ran untouched by any fault since it was added at 2s"}
	if diff := cmp.Diff(want, got{r.count, r.first}); diff != "" {
		t.Errorf("false removals (-want +got):\n%s", diff)
	}
}
