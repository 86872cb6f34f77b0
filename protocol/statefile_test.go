package protocol_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

func sampleState() protocol.DurableState {
	return protocol.DurableState{
		ID: 3, Incarnation: 1764640000123456789,
		Promise: protocol.Ballot{Round: 4, Leader: 2}, MaxRound: 5, Following: protocol.Ballot{Round: 4, Leader: 2},
		HasPending: true, PendingOp: protocol.Op{Kind: protocol.OpAdd, Peer: 5, Incarnation: 77}, PendingViewID: 9,
		PendingBallot: protocol.Ballot{Round: 4, Leader: 2},
		View:          protocol.View{ID: 9, Members: []protocol.PeerID{1, 2, 3, 4}}, ViewBallot: protocol.Ballot{Round: 3, Leader: 1},
		ViewOp:       protocol.Op{Kind: protocol.OpDel, Peer: 6},
		Incarnations: []uint64{11, 0, 1764640000123456789, 44}, HeardAs: []uint64{0, 22, 0, 0},
		LatestViewID: 9,
	}
}

func TestStateFile_RoundTrip(t *testing.T) {
	for name, s := range map[string]protocol.DurableState{
		"member":    sampleState(),
		"fresh":     {ID: 3, Incarnation: 1, Promise: protocol.InitialBallot},
		"out, exit": {ID: 3, Incarnation: 2, LatestViewID: 12, Exit: protocol.View{ID: 12, Members: []protocol.PeerID{1, 2}}, ExitOp: protocol.Op{Kind: protocol.OpDel, Peer: 3}},
		"large ids": {ID: 3, Incarnation: ^uint64(0), MaxRound: ^uint64(0) - 1, LatestViewID: ^protocol.ViewID(0) - 1},
	} {
		t.Run(name, func(t *testing.T) {
			b := protocol.EncodeState(s, 0xfeed)
			got, err := protocol.DecodeState(b, 3, 0xfeed)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(s, got); diff != "" {
				t.Errorf("decoded (-want +got):\n%s", diff)
			}
		})
	}
}

// Every damaged file is refused, with the error naming what is wrong:
// none is ever read as some other state, or as no state at all.
func TestStateFile_RefusesDamage(t *testing.T) {
	good := protocol.EncodeState(sampleState(), 0xfeed)
	cases := []struct {
		name string
		b    []byte
		id   protocol.PeerID
		want error
	}{
		{"empty", nil, 3, protocol.ErrStateCorrupt},
		{"not a state file", []byte("peer 1 127.0.0.1:7000\npeer 2 127.0.0.1:7001\n"), 3, protocol.ErrStateCorrupt},
		{"another peer's", good, 4, protocol.ErrStateForeign},
		{"future version", func() []byte { b := clone(good); b[8] = protocol.StateVersion + 1; return b }(), 3, protocol.ErrStateVersion},
	}
	for i := range len(good) {
		cases = append(cases, struct {
			name string
			b    []byte
			id   protocol.PeerID
			want error
		}{"truncated", good[:i], 3, protocol.ErrStateCorrupt})
	}
	for i := range len(good) {
		b := clone(good)
		b[i] ^= 0x10
		want := protocol.ErrStateCorrupt
		if i == 8 {
			want = protocol.ErrStateVersion
		}
		cases = append(cases, struct {
			name string
			b    []byte
			id   protocol.PeerID
			want error
		}{"bit flipped", b, 3, want})
	}
	for _, c := range cases {
		if _, err := protocol.DecodeState(c.b, c.id, 0xfeed); !errors.Is(err, c.want) {
			t.Errorf("%s (%d bytes): %v, want %v", c.name, len(c.b), err, c.want)
		}
	}
	if _, err := protocol.DecodeState(good, 3, 0xbeef); !errors.Is(err, protocol.ErrStateForeign) {
		t.Errorf("another cluster's file: %v, want ErrStateForeign", err)
	}
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// Decoding never panics, whatever the bytes, and what it accepts encodes
// back to the same bytes.
func FuzzDecodeState(f *testing.F) {
	f.Add(protocol.EncodeState(sampleState(), 1))
	f.Add(protocol.EncodeState(protocol.DurableState{ID: 3}, 1))
	f.Add(protocol.EncodeState(batchState(), 1))
	tagged := sampleState()
	tagged.Tags = sampleTags("role=web")
	tagged.View.Tags = []protocol.Tags{sampleTags("role=db"), {}, {}, {}}
	f.Add(protocol.EncodeState(tagged, 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := protocol.DecodeState(b, 3, 1)
		if err != nil {
			return
		}
		if again := protocol.EncodeState(s, 1); string(again) != string(b) {
			t.Fatalf("re-encoded differs:\n%x\n%x", b, again)
		}
	})
}
