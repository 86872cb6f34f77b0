package netrt

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

func TestJoinLimiter_Bucket(t *testing.T) {
	const every = 500 * time.Millisecond
	type join struct {
		id protocol.PeerID
		at time.Duration
	}
	for _, tc := range []struct {
		name  string
		joins []join
		want  []bool
	}{
		{"a burst of three, then none",
			[]join{{3, 0}, {3, 0}, {3, 0}, {3, 0}, {3, every - 1}},
			[]bool{true, true, true, false, false}},
		{"one more per refill",
			[]join{{3, 0}, {3, 0}, {3, 0}, {3, every}, {3, every}, {3, 2 * every}, {3, 2*every + every/2}},
			[]bool{true, true, true, true, false, true, false}},
		{"a rest refills the burst, no more",
			[]join{{3, 0}, {3, 0}, {3, 0}, {3, time.Hour}, {3, time.Hour}, {3, time.Hour}, {3, time.Hour}},
			[]bool{true, true, true, true, true, true, false}},
		{"each id its own bucket",
			[]join{{3, 0}, {3, 0}, {3, 0}, {3, 0}, {2, 0}, {4, 0}, {0, 0}},
			[]bool{true, true, true, false, true, true, true}},
		{"an id past the hosts is refused",
			[]join{{6, 0}, {1024, 0}},
			[]bool{false, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newJoinLimiter(5, every)
			var got []bool
			for _, j := range tc.joins {
				got = append(got, l.allow(j.id, j.at))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("JOINs let through (-want +got):\n%s", diff)
			}
		})
	}
}

// An honest joiner is never limited: one JOIN per join-retry interval,
// each followed at once by another (as after a redirect to the leader),
// for a long time.
func TestJoinLimiter_HonestJoinerPasses(t *testing.T) {
	const joinRetry = time.Second
	l := newJoinLimiter(5, joinRefill(joinRetry))
	refused := 0
	for k := range 1000 {
		at := time.Duration(k) * joinRetry
		for _, d := range []time.Duration{0, time.Millisecond} {
			if !l.allow(2, at+d) {
				refused++
			}
		}
	}
	if diff := cmp.Diff(0, refused); diff != "" {
		t.Errorf("honest JOINs refused, two per interval over 1000 intervals (-want +got):\n%s", diff)
	}
}

func TestJoinRefill(t *testing.T) {
	if diff := cmp.Diff(500*time.Millisecond, joinRefill(protocol.DefaultConfig().JoinRetryInterval)); diff != "" {
		t.Errorf("refill at the default join-retry interval (-want +got):\n%s", diff)
	}
}
