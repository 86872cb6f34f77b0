package protocol_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

func TestWire_TagsRoundTrip(t *testing.T) {
	db, web := mustTags(t, "role=db", "zone=eu-1"), mustTags(t, "role=web")
	tests := []struct {
		name string
		m    protocol.Message
		want []byte
	}{
		{"JOIN", protocol.Message{Type: protocol.MsgJoin, From: 4, To: 1, Op: protocol.Op{Kind: protocol.OpAdd, Peer: 4, Incarnation: 2, Tags: web}},
			cat(hdr(protocol.MsgJoin, 4, 1), uv(0), []byte{byte(protocol.OpAdd)}, uv(4, 2, 8), []byte("role=web"))},
		{"NEWVIEW", protocol.Message{Type: protocol.MsgNewView, From: 1, To: 2, Ballot: b01, ViewID: 4, Members: ids(1, 2, 4),
			Tags: []protocol.Tags{db, {}, web}, Op: protocol.Op{Kind: protocol.OpAdd, Peer: 4, Incarnation: 2, Tags: web}},
			cat(hdr(protocol.MsgNewView, 1, 2), uv(0, 1, 4), uv(3, 1, 1, 2), // members
				uv(2, 1, 17), []byte("role=db\nzone=eu-1"), uv(2, 8), []byte("role=web"), // tags of positions 0 and 2
				[]byte{byte(protocol.OpAdd)}, uv(4, 2, 8), []byte("role=web"), uv(0))},
		{"NEWVIEW without tags", protocol.Message{Type: protocol.MsgNewView, From: 1, To: 2, Ballot: b01, ViewID: 4, Members: ids(1, 2),
			Op: del(3)}, cat(hdr(protocol.MsgNewView, 1, 2), uv(0, 1, 4), uv(2, 1, 1), uv(0), []byte{byte(protocol.OpDel)}, uv(3, 0), uv(0))},
		{"REQ batch", protocol.Message{Type: protocol.MsgReq, From: 1, To: 2, Ballot: b01, ViewID: 4, Op: del(3),
			More: []protocol.Op{{Kind: protocol.OpAdd, Peer: 5, Incarnation: 1, Tags: web}, add(6, 1)}},
			cat(hdr(protocol.MsgReq, 1, 2), uv(0, 1, 4), []byte{byte(protocol.OpDel) | 0x80}, uv(3, 0), uv(2),
				[]byte{byte(protocol.OpAdd)}, uv(5, 1, 8), []byte("role=web"), []byte{byte(protocol.OpAdd)}, uv(6, 1, 0))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustEncode(t, tt.m)
			if diff := cmp.Diff(tt.want, b); diff != "" {
				t.Errorf("Encode (-want +got):\n%s", diff)
			}
			got, err := protocol.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.m, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

// The largest message the bound allows: a NEWVIEW of MaxPeers members,
// each with MaxTagsSize bytes of tags, and a batch of the most ADDs, each
// with as many, every number at its longest.
func TestWire_LargestTaggedNewViewFits(t *testing.T) {
	full := mustTags(t, "k="+strings.Repeat("v", protocol.MaxTagsSize-2))
	maxBallot := protocol.Ballot{Round: math.MaxUint64 - 1, Leader: protocol.MaxPeers}
	tags := make([]protocol.Tags, protocol.MaxPeers)
	for i := range tags {
		tags[i] = full
	}
	var more []protocol.Op
	for p := protocol.PeerID(protocol.MaxPeers - protocol.MaxChangesPerViewLimit + 1); p < protocol.MaxPeers; p++ {
		more = append(more, protocol.Op{Kind: protocol.OpAdd, Peer: p, Incarnation: math.MaxUint64, Tags: full})
	}
	m := protocol.Message{
		Type: protocol.MsgNewView, From: protocol.MaxPeers, To: protocol.MaxPeers, Incarnation: math.MaxUint64,
		Ballot: maxBallot, ViewID: math.MaxUint64 - 1, Members: everyPeer(), Tags: tags,
		Op: protocol.Op{Kind: protocol.OpAdd, Peer: protocol.MaxPeers, Incarnation: math.MaxUint64, Tags: full}, More: more,
		ToIncarnation: math.MaxUint64,
	}
	b := mustEncode(t, m)
	t.Logf("%d bytes (MaxMessageSize %d)", len(b), protocol.MaxMessageSize)
	// The bound counts an OpBallot that a NEWVIEW lacks, and two-byte
	// positions the densest list does not need: within 2 KB of it.
	if len(b) > protocol.MaxMessageSize || len(b) < protocol.MaxMessageSize-2048 {
		t.Fatalf("encoding of %d bytes, want at most MaxMessageSize %d and within 2 KB of it", len(b), protocol.MaxMessageSize)
	}
	got, err := protocol.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestWire_EncodeRejectsBadTags(t *testing.T) {
	db := mustTags(t, "role=db")
	tests := []struct {
		name string
		m    protocol.Message
		want string
	}{
		{"DEL with tags", protocol.Message{Type: protocol.MsgReq, From: 1, To: 2, Op: protocol.Op{Kind: protocol.OpDel, Peer: 3, Tags: db}},
			"wire: cannot encode REQ: op tags: on DEL, want none"},
		{"DEL with tags in a batch", protocol.Message{Type: protocol.MsgReq, From: 1, To: 2, Op: del(4), More: []protocol.Op{{Kind: protocol.OpDel, Peer: 3, Tags: db}}},
			"wire: cannot encode REQ: batch: operation 1 is a DEL with incarnation 0 or tags, want neither"},
		{"tags not aligned", protocol.Message{Type: protocol.MsgNewView, From: 1, To: 2, Members: ids(1, 2), Tags: []protocol.Tags{db}},
			"wire: cannot encode NEWVIEW: tags: 1 for 2 members"},
		{"tags all empty", protocol.Message{Type: protocol.MsgNewView, From: 1, To: 2, Members: ids(1, 2), Tags: []protocol.Tags{{}, {}}},
			"wire: cannot encode NEWVIEW: tags: none set, want nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := protocol.Encode(&tt.m)
			if err == nil || err.Error() != tt.want || !errors.Is(err, protocol.ErrMalformed) {
				t.Errorf("Encode error = %v, want %q matching ErrMalformed", err, tt.want)
			}
		})
	}
}

// A peer refuses a message carrying tags where they do not belong, as the
// wire would.
func TestPeer_RefusesMisplacedTags(t *testing.T) {
	h := member(t, 2, 5, 3, 1, 2, 3)
	for _, m := range []protocol.Message{
		{Type: protocol.MsgPending, From: 1, To: 2, Ballot: b01, ViewID: 3, Members: ids(1, 2, 3), Tags: []protocol.Tags{mustTags(t, "a=b"), {}, {}}},
		{Type: protocol.MsgNewView, From: 1, To: 2, Ballot: b01, ViewID: 4, Members: ids(1, 2, 3), Tags: []protocol.Tags{mustTags(t, "a=b")}},
		{Type: protocol.MsgReq, From: 1, To: 2, Ballot: b01, ViewID: 3, Op: protocol.Op{Kind: protocol.OpDel, Peer: 3, Tags: mustTags(t, "a=b")}},
		{Type: protocol.MsgNewView, From: 1, To: 2, Ballot: b01, ViewID: 4, Members: ids(1, 2, 3), Tags: []protocol.Tags{{}, {}, {}}},
	} {
		if _, err := h.p.Step(protocol.Event{Type: protocol.EventMessage, Now: h.now, Msg: m}); !errors.Is(err, protocol.ErrBadMessage) {
			t.Errorf("Step(%v) error = %v, want ErrBadMessage", m, err)
		}
	}
}

// BenchmarkNewViewTags encodes and decodes the NEWVIEW of a view of 100
// members, without tags and with about 50 bytes of them per member, and
// reports its size: what tags add to every NEWVIEW.
func BenchmarkNewViewTags(b *testing.B) {
	for _, tagged := range []bool{false, true} {
		name := "untagged"
		if tagged {
			name = "tagged-50B"
		}
		b.Run(name, func(b *testing.B) {
			m := protocol.Message{Type: protocol.MsgNewView, From: 1, To: 2, Ballot: b01, ViewID: 4000, Members: make([]protocol.PeerID, 100), Op: del(200)}
			for i := range m.Members {
				m.Members[i] = protocol.PeerID(i + 1)
			}
			if tagged {
				m.Tags = make([]protocol.Tags, len(m.Members))
				for i := range m.Tags {
					m.Tags[i] = sampleTags("role=storage", "zone=eu-west-1a", "port=7946", "version=1.4.2")
				}
			}
			buf := make([]byte, 0, 64<<10)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = protocol.AppendMessage(buf[:0], &m); err != nil {
					b.Fatal(err)
				}
				if _, err := protocol.Decode(buf); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(buf)), "bytes/msg")
		})
	}
}
