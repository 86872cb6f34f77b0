package protocol_test

import (
	"testing"

	"github.com/memberly/memberly/protocol"
)

// The numbers are the wire format: this pins them.
func TestMsgType_NumbersAreStable(t *testing.T) {
	want := map[protocol.MsgType]string{
		1: "HEARTBEAT", 2: "JOIN", 3: "REDIRECT", 4: "REQ", 5: "OK", 6: "NACK",
		7: "NEWVIEW", 8: "NEWLEADER", 9: "PENDING", 10: "NOTMEMBER", 11: "LEAVE",
	}
	for typ, name := range want {
		if !typ.Valid() || typ.String() != name {
			t.Errorf("MsgType %d: Valid=%v String=%q, want valid %q", typ, typ.Valid(), typ.String(), name)
		}
	}
	for _, typ := range []protocol.MsgType{0, 12, 255} {
		if typ.Valid() {
			t.Errorf("MsgType %d is valid, want invalid", typ)
		}
	}
	if protocol.MsgHeartbeat.Transport() != protocol.Datagram || protocol.MsgReq.Transport() != protocol.Stream {
		t.Errorf("heartbeats must travel as datagrams, everything else on the stream")
	}
}
