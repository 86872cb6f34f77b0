package netrt

import (
	"math"
	"testing"

	"github.com/memberly/memberly/protocol"
)

// The UDP reader's buffer holds the longest heartbeat a peer can send:
// suspects naming every peer, every number at its longest, sealed.
func TestDatagram_LargestHeartbeatFits(t *testing.T) {
	suspects := make([]protocol.PeerID, protocol.MaxPeers)
	for i := range suspects {
		suspects[i] = protocol.PeerID(i + 1)
	}
	// Fewer suspects, each id 128 or more past the one before: the
	// deltas that take two bytes.
	var spread []protocol.PeerID
	for p := protocol.PeerID(128); p <= protocol.MaxPeers; p += 128 {
		spread = append(spread, p)
	}
	s, err := newSealer([][]byte{testKey(1)})
	if err != nil {
		t.Fatal(err)
	}
	for _, members := range [][]protocol.PeerID{suspects, spread} {
		m := protocol.Message{Type: protocol.MsgHeartbeat, From: protocol.MaxPeers, To: protocol.MaxPeers - 1, Incarnation: math.MaxUint64,
			Ballot: protocol.Ballot{Round: maxRound, Leader: protocol.MaxPeers}, ViewID: maxRound, Members: members}
		plain := encode(t, m)
		sealed := mustSeal(t, s, plain)
		if len(plain) > protocol.MaxHeartbeatSize || len(sealed) > maxDatagramSize {
			t.Errorf("heartbeat with %d suspects: %d bytes, %d sealed; want within %d and %d",
				len(members), len(plain), len(sealed), protocol.MaxHeartbeatSize, maxDatagramSize)
		}
	}
	// A datagram must also fit what UDP carries at all.
	if maxDatagramSize > 65507 {
		t.Errorf("maxDatagramSize %d exceeds the largest UDP payload, 65507", maxDatagramSize)
	}
}
