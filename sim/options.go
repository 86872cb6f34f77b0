// Package sim is Memberly's deterministic simulator: it runs the real
// protocol package for every peer of a scenario in virtual time, with one
// seeded random source driving latency, loss, duplication, reordering and
// churn, and checks the safety properties (S1-S5) after every step and the
// liveness property (L1) after the faults stop. The same scenario and seed
// always give the same run, byte for byte.
package sim

import (
	"io"

	"github.com/memberly/memberly/protocol"
)

// Options configure one run. A run is fully determined by its scenario and
// Seed; the other options only change what is shown or recorded, except
// Mutation.
type Options struct {
	// Seed seeds the run's one random source.
	Seed uint64
	// Out receives the printed run: the options, every peer's log lines
	// with virtual time, the faults and the verdict. Nil prints nothing.
	Out io.Writer
	// Verbose also prints every delivered and dropped message.
	Verbose bool
	// Trace records every event in Result.Trace (for the HTML and ShiViz
	// writers).
	Trace bool
	// Mutation breaks the protocol on purpose, to show the checkers fail.
	Mutation protocol.Mutation
	// Replay is the command that replays this run, printed in the header.
	Replay string
}
