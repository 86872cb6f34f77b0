package sim

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
