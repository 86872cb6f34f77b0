package protocol_test

import (
	"math/bits"
	"testing"

	"github.com/memberly/memberly/protocol"
)

// TestIsQuorum_Exhaustive checks every subset of every view of 1 to 9
// members (with ids that do not start at 1, so "the lowest id" is not
// simply 1) against the rule, and checks that any two quorums of a view
// intersect.
func TestIsQuorum_Exhaustive(t *testing.T) {
	for n := 1; n <= 9; n++ {
		view := make([]protocol.PeerID, n)
		for i := range view {
			view[i] = protocol.PeerID(3 + 2*i)
		}
		var quorums []uint
		for mask := uint(0); mask < 1<<n; mask++ {
			has := func(p protocol.PeerID) bool {
				for i, q := range view {
					if q == p {
						return mask&(1<<i) != 0
					}
				}
				return false
			}
			size := bits.OnesCount(mask)
			want := 2*size > n || (2*size == n && mask&1 != 0)
			if got := protocol.IsQuorum(view, has); got != want {
				t.Errorf("view %v, subset %0*b: IsQuorum = %v, want %v", view, n, mask, got, want)
			}
			if want {
				quorums = append(quorums, mask)
			}
		}
		for _, a := range quorums {
			for _, b := range quorums {
				if a&b == 0 {
					t.Errorf("view of %d: quorums %0*b and %0*b do not intersect", n, n, a, n, b)
				}
			}
		}
	}
}

func TestIsQuorum_DesignExamples(t *testing.T) {
	in := func(set ...protocol.PeerID) func(protocol.PeerID) bool {
		return func(p protocol.PeerID) bool {
			for _, q := range set {
				if q == p {
					return true
				}
			}
			return false
		}
	}
	cases := []struct {
		view []protocol.PeerID
		set  []protocol.PeerID
		want bool
	}{
		{[]protocol.PeerID{1, 2}, []protocol.PeerID{1}, true},
		{[]protocol.PeerID{1, 2}, []protocol.PeerID{2}, false},
		{[]protocol.PeerID{1}, []protocol.PeerID{1}, true},
		{[]protocol.PeerID{1, 2, 3, 4}, []protocol.PeerID{1, 4}, true},
		{[]protocol.PeerID{1, 2, 3, 4}, []protocol.PeerID{2, 3}, false},
		{[]protocol.PeerID{1, 2, 3, 4, 5}, []protocol.PeerID{2, 3, 4}, true},
		{[]protocol.PeerID{1, 2, 3, 4, 5}, []protocol.PeerID{1, 5}, false},
		{nil, nil, false},
	}
	for _, c := range cases {
		if got := protocol.IsQuorum(c.view, in(c.set...)); got != c.want {
			t.Errorf("IsQuorum(%v, %v) = %v, want %v", c.view, c.set, got, c.want)
		}
	}
}
