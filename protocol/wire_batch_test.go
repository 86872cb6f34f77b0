package protocol_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/memberly/memberly/protocol"
)

// moreGen draws the operations of a batch after first: none half the
// time, and none when first is no operation; else ADDs and DELs of
// distinct peers that first does not name.
func moreGen(first protocol.Op) *rapid.Generator[[]protocol.Op] {
	return rapid.Custom(func(t *rapid.T) []protocol.Op {
		if !rapid.Bool().Draw(t, "batched") || first.Kind == protocol.OpNothing {
			return nil
		}
		peers := rapid.SliceOfNDistinct(peerGen(1), 1, 8, rapid.ID).Filter(func(ps []protocol.PeerID) bool {
			for _, p := range ps {
				if p == first.Peer {
					return false
				}
			}
			return true
		}).Draw(t, "peers")
		more := make([]protocol.Op, len(peers))
		for i, p := range peers {
			more[i] = protocol.Op{Kind: protocol.OpDel, Peer: p}
			if rapid.Bool().Draw(t, "add") {
				more[i] = protocol.Op{Kind: protocol.OpAdd, Peer: p, Incarnation: rapid.Uint64().Draw(t, "incarnation")}
			}
		}
		return more
	})
}

// A message of one operation carries no batch flag and no count. A batch
// sets the flag bit of the first kind, and its operations follow the
// first. An ADD ends with its tags' length (0: none).
func TestWire_SingleOperationBytesUnchanged(t *testing.T) {
	m := protocol.Message{Type: protocol.MsgReq, From: 1, To: 2, Ballot: b01, ViewID: 4, Op: add(9, 3)}
	want := cat(hdr(protocol.MsgReq, 1, 2), uv(0, 1, 4), []byte{byte(protocol.OpAdd)}, uv(9, 3, 0))
	if diff := cmp.Diff(want, mustEncode(t, m)); diff != "" {
		t.Errorf("REQ of one operation (-want +got):\n%s", diff)
	}
	m.More = []protocol.Op{del(5)}
	want = cat(hdr(protocol.MsgReq, 1, 2), uv(0, 1, 4), []byte{byte(protocol.OpAdd) | 0x80}, uv(9, 3, 0), uv(1), []byte{byte(protocol.OpDel)}, uv(5, 0))
	if diff := cmp.Diff(want, mustEncode(t, m)); diff != "" {
		t.Errorf("REQ of a batch (-want +got):\n%s", diff)
	}
}

// reqWithBatch is a REQ's bytes up to its op (ADD 9#3, flagged as
// batched), then tail.
func reqWithBatch(tail ...[]byte) []byte {
	return cat(append([][]byte{hdr(protocol.MsgReq, 1, 2), uv(0, 1, 4), {byte(protocol.OpAdd) | 0x80}, uv(9, 3, 0)}, tail...)...)
}

func TestWire_DecodeRejectsBadBatch(t *testing.T) {
	del := []byte{byte(protocol.OpDel)}
	tooMany := uv(protocol.MaxChangesPerViewLimit)
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"count 0", reqWithBatch(uv(0)), "wire: REQ: batch count at byte 12: 0: a message without a batch sets no batch flag"},
		{"too many", reqWithBatch(tooMany), "wire: REQ: batch count at byte 12: 64 operations after the first, above 64 in all"},
		{"count beyond input", reqWithBatch(uv(3), del, uv(5, 0)), "wire: REQ: batch count at byte 12: 3 operations cannot fit in the 3 bytes left"},
		{"peer twice", reqWithBatch(uv(1), del, uv(9, 0)), "wire: REQ: batch at byte 12: peer 9 named twice"},
		{"peer twice in More", reqWithBatch(uv(2), del, uv(5, 0), del, uv(5, 0)), "wire: REQ: batch at byte 12: peer 5 named twice"},
		{"NOTHING", reqWithBatch(uv(1), []byte{byte(protocol.OpNothing)}, uv(0, 0)), "wire: REQ: batch at byte 12: operation 1 is NOTHING, want ADD or DEL"},
		{"unknown kind", reqWithBatch(uv(1), []byte{7}, uv(5, 0)), "wire: REQ: op kind at byte 13: unknown kind 7"},
		{"flag inside the batch", reqWithBatch(uv(1), []byte{byte(protocol.OpDel) | 0x80}, uv(5, 0)), "wire: REQ: op kind at byte 13: unknown kind 130"},
		{"flag without a batch", cat(hdr(protocol.MsgReq, 1, 2), uv(0, 1, 4), []byte{byte(protocol.OpAdd) | 0x80}, uv(9, 3, 0)), "wire: truncated REQ at byte 12 (reading batch count)"},
		{"flag on JOIN", cat(hdr(protocol.MsgJoin, 9, 1), uv(0), []byte{byte(protocol.OpAdd) | 0x80}, uv(9, 3, 0)), "wire: JOIN: op kind at byte 6: unknown kind 129"},
		{"truncated", reqWithBatch(uv(2), del, uv(5, 0), del), "wire: REQ: batch count at byte 12: 2 operations cannot fit in the 4 bytes left"},
		{"DEL with an incarnation", reqWithBatch(uv(1), del, uv(5, 2)), "wire: REQ: op incarnation at byte 15: 2 on DEL, want 0"},
		{"first NOTHING", cat(hdr(protocol.MsgPending, 1, 2), uv(0, 1, 4, 1, 1), []byte{0x80}, uv(0, 0, 1), del, uv(5, 0)),
			"wire: PENDING: batch at byte 13: operation 0 is NOTHING, want ADD or DEL"},
		{"trailing after batch", reqWithBatch(uv(1), del, uv(5, 0), []byte{0}), "wire: 1 trailing byte after REQ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := protocol.Decode(tt.in)
			if err == nil {
				t.Fatalf("Decode(% x) = %v, want an error", tt.in, m)
			}
			if err.Error() != tt.want {
				t.Errorf("Decode error = %q, want %q", err, tt.want)
			}
			if !errors.Is(err, protocol.ErrMalformed) {
				t.Errorf("errors.Is(%q, ErrMalformed) = false", err)
			}
		})
	}
}

func TestWire_EncodeRejectsBadBatch(t *testing.T) {
	req := func(first protocol.Op, more ...protocol.Op) *protocol.Message {
		return &protocol.Message{Type: protocol.MsgReq, From: 1, To: 2, Ballot: b01, ViewID: 4, Op: first, More: more}
	}
	var tooMany []protocol.Op
	for p := protocol.PeerID(2); p <= protocol.MaxChangesPerViewLimit+1; p++ {
		tooMany = append(tooMany, del(p))
	}
	tests := []struct {
		name string
		m    *protocol.Message
		want string
	}{
		{"peer twice", req(add(9, 1), del(9)), "wire: cannot encode REQ: batch: peer 9 named twice"},
		{"NOTHING first", req(protocol.Op{}, del(9)), "wire: cannot encode REQ: batch: operation 0 is NOTHING, want ADD or DEL"},
		{"NOTHING after", req(del(9), protocol.Op{}), "wire: cannot encode REQ: batch: operation 1 is NOTHING, want ADD or DEL"},
		{"peer 0", req(del(9), protocol.Op{Kind: protocol.OpAdd}), "wire: cannot encode REQ: batch: operation 1 names peer 0, outside 1..1024"},
		{"too many", req(del(1), tooMany...), "wire: cannot encode REQ: batch: 65 operations, above 64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := protocol.AppendMessage(nil, tt.m)
			if err == nil {
				t.Fatalf("AppendMessage succeeded: % x", got)
			}
			if !strings.Contains(err.Error(), tt.want) || !errors.Is(err, protocol.ErrMalformed) {
				t.Errorf("AppendMessage error = %q, want %q matching ErrMalformed", err, tt.want)
			}
		})
	}
}

// The largest batch fits MaxMessageSize beside the largest view.
func TestWire_LargestBatchFits(t *testing.T) {
	maxBallot := protocol.Ballot{Round: math.MaxUint64 - 1, Leader: protocol.MaxPeers}
	var more []protocol.Op
	for p := protocol.PeerID(protocol.MaxPeers - protocol.MaxChangesPerViewLimit + 1); p < protocol.MaxPeers; p++ {
		more = append(more, protocol.Op{Kind: protocol.OpAdd, Peer: p, Incarnation: math.MaxUint64})
	}
	m := protocol.Message{
		Type: protocol.MsgPending, From: protocol.MaxPeers, To: protocol.MaxPeers, Incarnation: math.MaxUint64,
		Ballot: maxBallot, ViewID: math.MaxUint64 - 1, Members: everyPeer(),
		Op: protocol.Op{Kind: protocol.OpAdd, Peer: protocol.MaxPeers, Incarnation: math.MaxUint64}, More: more, OpBallot: maxBallot,
	}
	b := mustEncode(t, m)
	if len(b) > protocol.MaxMessageSize {
		t.Fatalf("encoding of %d bytes exceeds MaxMessageSize %d", len(b), protocol.MaxMessageSize)
	}
	got, err := protocol.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

// everyPeer returns 1..MaxPeers: the largest view.
func everyPeer() []protocol.PeerID {
	all := make([]protocol.PeerID, protocol.MaxPeers)
	for i := range all {
		all[i] = protocol.PeerID(i + 1)
	}
	return all
}
