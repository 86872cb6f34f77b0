package sim

import (
	"math/rand/v2"
	"time"

	"github.com/memberly/memberly/protocol"
)

// Chooser makes the choices a drawn scenario is made of. RandomScenario
// feeds DrawScenario from a seeded math/rand source; the property tests
// feed it from rapid, which can then shrink a failing scenario. Both so
// draw by the same rules.
type Chooser interface {
	// IntRange returns a whole number in [lo, hi], where lo <= hi. label
	// names the choice, for a shrinker's report.
	IntRange(lo, hi int, label string) int
}

// randChooser draws uniformly from a math/rand source.
type randChooser struct{ r *rand.Rand }

func (c randChooser) IntRange(lo, hi int, _ string) int { return lo + c.r.IntN(hi-lo+1) }

// drawer draws the kinds of values a scenario needs from a Chooser.
type drawer struct{ c Chooser }

func (d drawer) intRange(lo, hi int, label string) int { return d.c.IntRange(lo, hi, label) }

// oneIn is true with chance 1/n.
func (d drawer) oneIn(n int, label string) bool { return d.c.IntRange(0, n-1, label) == 0 }

// ms draws a duration of lo to hi milliseconds.
func (d drawer) ms(lo, hi int, label string) time.Duration {
	return time.Duration(d.c.IntRange(lo, hi, label)) * time.Millisecond
}

// peer draws one of peers 1..n.
func (d drawer) peer(n int, label string) protocol.PeerID {
	return protocol.PeerID(d.c.IntRange(1, n, label))
}

// pick draws one of choices, which must not be empty.
func pick[T any](d drawer, choices []T, label string) T {
	return choices[d.c.IntRange(0, len(choices)-1, label)]
}
