package protocol

import (
	"math/rand/v2"
	"testing"
)

// countedSet's count must always be how many peers its set holds, whatever
// order of adds, deletes (of peers held or not) and clears led there, and
// a clone must share nothing.
func TestCountedSet_CountMatchesSet(t *testing.T) {
	const universe = 20
	s := newCountedSet(universe)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 10000 {
		q := PeerID(1 + r.IntN(universe))
		switch r.IntN(20) {
		case 0:
			s.clear()
		case 1, 2, 3, 4, 5, 6, 7, 8, 9:
			s.add(q)
		default:
			s.del(q)
		}
		want := 0
		for _, in := range s.peerSet {
			if in {
				want++
			}
		}
		if s.n != want || s.empty() != (want == 0) {
			t.Fatalf("after op %d: count %d, empty %v; the set holds %d", i, s.n, s.empty(), want)
		}
	}
	s.add(3)
	c := s.clone()
	c.del(3)
	if !s.has(3) || c.has(3) || s.n == c.n {
		t.Fatal("a clone shares its set with the original")
	}
}
