package explore

import (
	"testing"

	"github.com/memberly/memberly/protocol"
)

// Every move reads back from its text as itself.
func TestStep_RoundTrip(t *testing.T) {
	moves := []move{
		{kind: deliverStream, from: 3, to: 1},
		{kind: deliverDatagram, index: 4},
		{kind: fireTimer, from: 2, index: int(protocol.TimerSuspect)},
		{kind: fireEarly, from: 2, index: int(protocol.TimerHeartbeat)},
		{kind: nextAction},
		{kind: dropDatagram, index: 0},
		{kind: dupDatagram, index: 7},
		{kind: resetStream, from: 1, to: 2},
		{kind: crashPeer, from: 5},
		{kind: killPeer, from: 1},
	}
	for _, mv := range moves {
		got, err := parseStep(mv.String())
		if err != nil || got != mv {
			t.Errorf("parseStep(%q) = %+v, %v; want %+v", mv.String(), got, err, mv)
		}
	}
}
