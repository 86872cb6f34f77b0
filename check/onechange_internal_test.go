package check

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/memberly/memberly/protocol"
)

// The merge walk diff takes on sorted members finds what the pairwise
// comparison finds, in the same order.
func TestDiff_SortedMatchesPairwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	members := func() []protocol.PeerID {
		var s []protocol.PeerID
		for p := protocol.PeerID(1); p <= 12; p++ {
			if rng.IntN(2) == 0 {
				s = append(s, p)
			}
		}
		return s
	}
	for range 2000 {
		a, b := members(), members()
		if rng.IntN(10) == 0 {
			a = append(a, a...) // not increasing: the pairwise path
		}
		wantAdded, wantRemoved := diffPairwise(a, b)
		added, removed := diff(a, b)
		if !slices.Equal(added, wantAdded) || !slices.Equal(removed, wantRemoved) {
			t.Fatalf("diff(%v, %v) = %v, %v; pairwise: %v, %v", a, b, added, removed, wantAdded, wantRemoved)
		}
	}
}

func TestCheckOneChange_Cases(t *testing.T) {
	add := func(p protocol.PeerID) protocol.Op { return protocol.Op{Kind: protocol.OpAdd, Peer: p, Incarnation: 1} }
	del := func(p protocol.PeerID) protocol.Op { return protocol.Op{Kind: protocol.OpDel, Peer: p} }
	view := func(c protocol.Change, members ...protocol.PeerID) viewRecord {
		return viewRecord{members: members, change: c}
	}
	batch := func(first protocol.Op, more ...protocol.Op) protocol.Change {
		return protocol.Change{Op: first, More: more}
	}
	for _, tc := range []struct {
		name       string
		a, b       viewRecord
		maxChanges int
		want       string
	}{
		{"one add", view(protocol.Change{}, 1, 2), view(batch(add(3)), 1, 2, 3), 1, ""},
		{"one remove, decision unknown", view(protocol.Change{}, 1, 2), view(protocol.Change{}, 1), 1, ""},
		{"two at max 1: the seed's message", view(protocol.Change{}, 1), view(batch(add(2), add(3)), 1, 2, 3), 1,
			"view 4 [1] and view 5 [1,2,3] differ by 2 peers"},
		{"none", view(protocol.Change{}, 1, 2), view(protocol.Change{}, 1, 2), 1, "view 4 [1,2] and view 5 [1,2] differ by 0 peers"},
		{"batch", view(protocol.Change{}, 1, 2, 3), view(batch(add(4), del(2), add(5)), 1, 3, 4, 5), 4, ""},
		{"batch above max", view(protocol.Change{}, 1), view(batch(add(2), add(3), add(4)), 1, 2, 3, 4), 2,
			"view 4 [1] and view 5 [1,2,3,4] differ by 3 peers, want 1 to 2"},
		{"none while batching", view(protocol.Change{}, 1, 2), view(protocol.Change{}, 1, 2), 4,
			"view 4 [1,2] and view 5 [1,2] differ by 0 peers, want 1 to 4"},
		{"part of the decision", view(protocol.Change{}, 1, 2), view(batch(add(3), add(4)), 1, 2, 3), 4,
			"view 4 [1,2] and view 5 [1,2,3] differ by +3, but the decision of view 5 is ADD 3#1, ADD 4#1"},
		{"another decision", view(protocol.Change{}, 1, 2), view(batch(del(2)), 1, 3), 4,
			"view 4 [1,2] and view 5 [1,3] differ by +3 -2, but the decision of view 5 is DEL 2"},
		{"another peer at max 1", view(protocol.Change{}, 1, 2), view(batch(add(4)), 1, 2, 3), 1,
			"view 4 [1,2] and view 5 [1,2,3] differ by +3, but the decision of view 5 is ADD 4#1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkOneChange(4, tc.a, tc.b, tc.maxChanges); got != tc.want {
				t.Errorf("checkOneChange = %q, want %q", got, tc.want)
			}
		})
	}
}
