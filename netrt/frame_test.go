package netrt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

// readFrames reads every frame of r until it ends, copying each payload.
func readFrames(t *testing.T, f *frameReader) [][]byte {
	t.Helper()
	var got [][]byte
	for {
		p, err := f.next()
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, bytes.Clone(p))
	}
}

func TestFrame_RoundTrip(t *testing.T) {
	payloads := [][]byte{{1}, []byte("hello"), bytes.Repeat([]byte{7}, maxPayloadSize), []byte("after")}
	var stream []byte
	for _, p := range payloads {
		stream = appendFrame(stream, p)
	}
	// Half reads: the large frame arrives in pieces, as from a socket.
	got := readFrames(t, newFrameReader(iotest.HalfReader(bytes.NewReader(stream))))
	if diff := cmp.Diff(payloads, got); diff != "" {
		t.Errorf("frames read back (-want +got):\n%s", diff)
	}
}

func TestFrame_Errors(t *testing.T) {
	long := binary.BigEndian.AppendUint32(nil, maxPayloadSize+1)
	for _, tc := range []struct {
		name  string
		input []byte
		want  error
	}{
		{"end between frames", nil, io.EOF},
		{"header cut short", []byte{0, 0}, io.ErrUnexpectedEOF},
		{"payload cut short", append(binary.BigEndian.AppendUint32(nil, 10), 1, 2, 3), io.ErrUnexpectedEOF},
		{"payload missing", binary.BigEndian.AppendUint32(nil, 10), io.ErrUnexpectedEOF},
		{"large payload cut short", append(binary.BigEndian.AppendUint32(nil, 3*initialFrameBuf), make([]byte, 2*initialFrameBuf)...), io.ErrUnexpectedEOF},
		{"oversized", append(long, make([]byte, maxPayloadSize+1)...), errOversized},
		{"huge length", []byte{0xff, 0xff, 0xff, 0xff}, errOversized},
		{"empty frame", []byte{0, 0, 0, 0}, errEmptyFrame},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newFrameReader(bytes.NewReader(tc.input)).next()
			if !errors.Is(err, tc.want) {
				t.Errorf("next = %v, want %v", err, tc.want)
			}
		})
	}
}

// An inbound connection's buffer starts at initialFrameBuf, not at
// maxPayloadSize, grows only as the bytes of a longer frame arrive, and
// not for a length that is merely announced.
func TestFrameReader_BufferFollowsWhatArrives(t *testing.T) {
	type sizes struct{ Start, AfterSmall, AfterForged, AfterLarge int }
	var got sizes

	small := appendFrame(appendFrame(nil, []byte("hello")), bytes.Repeat([]byte{1}, initialFrameBuf))
	f := newFrameReader(bytes.NewReader(small))
	got.Start = f.size()
	readFrames(t, f)
	got.AfterSmall = f.size()

	// Announces the largest payload, sends ten bytes and stops.
	forged := append(binary.BigEndian.AppendUint32(nil, maxPayloadSize), make([]byte, 10)...)
	f = newFrameReader(bytes.NewReader(forged))
	if _, err := f.next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("forged length: next = %v, want %v", err, io.ErrUnexpectedEOF)
	}
	got.AfterForged = f.size()

	f = newFrameReader(bytes.NewReader(appendFrame(nil, make([]byte, 100_000))))
	readFrames(t, f)
	got.AfterLarge = f.size()

	want := sizes{Start: initialFrameBuf, AfterSmall: initialFrameBuf, AfterForged: initialFrameBuf,
		AfterLarge: 32 * initialFrameBuf} // the first doubling of 4 KiB that holds 100,000 bytes
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("buffer sizes (-want +got):\n%s", diff)
	}
}

// maxRound is the largest view id or ballot round a message may carry:
// they stop one below math.MaxUint64.
const maxRound = math.MaxUint64 - 1

// largestUntagged returns the longest messages of a cluster without tags:
// a NEWVIEW and a PENDING of MaxPeers members with a full batch of ADDs,
// every number at its longest.
func largestUntagged() []protocol.Message {
	members := make([]protocol.PeerID, protocol.MaxPeers)
	for i := range members {
		members[i] = protocol.PeerID(i + 1)
	}
	ops := make([]protocol.Op, protocol.MaxChangesPerViewLimit)
	for i := range ops {
		ops[i] = protocol.Op{Kind: protocol.OpAdd, Peer: protocol.PeerID(protocol.MaxPeers - i), Incarnation: math.MaxUint64}
	}
	b := protocol.Ballot{Round: maxRound, Leader: protocol.MaxPeers}
	head := protocol.Message{From: protocol.MaxPeers, To: protocol.MaxPeers - 1, Incarnation: math.MaxUint64, Ballot: b,
		ViewID: maxRound, Members: members, Op: ops[0], More: ops[1:]}
	nv, pending := head, head
	nv.Type, nv.ToIncarnation = protocol.MsgNewView, math.MaxUint64
	pending.Type, pending.OpBallot = protocol.MsgPending, b
	return []protocol.Message{nv, pending}
}

// A cluster whose members have no tags never grows a connection's buffer.
func TestFrame_UntaggedMessagesFitTheInitialBuffer(t *testing.T) {
	s, err := newSealer([][]byte{testKey(1)})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range largestUntagged() {
		sealed := mustSeal(t, s, encode(t, m))
		f := newFrameReader(bytes.NewReader(appendFrame(nil, sealed)))
		if _, err := f.next(); err != nil {
			t.Fatal(err)
		}
		if len(sealed) > initialFrameBuf || f.size() != initialFrameBuf {
			t.Errorf("%s of %d members, sealed: %d bytes, buffer %d, want both within %d",
				m.Type, len(m.Members), len(sealed), f.size(), initialFrameBuf)
		}
	}
}

// largestTaggedNewView returns a NEWVIEW of MaxPeers members, each with
// MaxTagsSize bytes of tags of its own, and a full batch of tagged ADDs:
// the largest message there is.
func largestTaggedNewView(t *testing.T) protocol.Message {
	t.Helper()
	m := largestUntagged()[0]
	tagsOf := func(p protocol.PeerID) protocol.Tags {
		// "k=" and 510 bytes: MaxTagsSize.
		tags, err := protocol.NewTags(map[string]string{"k": fmt.Sprintf("%04d", p) + strings.Repeat("x", protocol.MaxTagsSize-6)})
		if err != nil {
			t.Fatal(err)
		}
		return tags
	}
	m.Tags = make([]protocol.Tags, len(m.Members))
	for i, p := range m.Members {
		m.Tags[i] = tagsOf(p)
	}
	m.Op.Tags = tagsOf(m.Op.Peer)
	m.More = append([]protocol.Op(nil), m.More...)
	for i := range m.More {
		m.More[i].Tags = tagsOf(m.More[i].Peer)
	}
	return m
}

// The largest message, a tagged NEWVIEW of MaxPeers members, goes through
// the stream path between two small frames: framed, sealed, read in
// pieces, opened and decoded back to what was sent.
func TestFrame_LargeTaggedNewViewRoundTrips(t *testing.T) {
	s, err := newSealer([][]byte{testKey(1)})
	if err != nil {
		t.Fatal(err)
	}
	hb := protocol.Message{Type: protocol.MsgHeartbeat, From: 2, To: 1, Incarnation: 5, Ballot: protocol.InitialBallot, ViewID: 3}
	want := []protocol.Message{hb, largestTaggedNewView(t), hb}
	var stream []byte
	for _, m := range want {
		stream = appendFrame(stream, mustSeal(t, s, encode(t, m)))
	}
	if n := len(stream); n < protocol.MaxMessageSize*9/10 {
		t.Fatalf("the stream holds %d bytes, want the NEWVIEW near MaxMessageSize (%d)", n, protocol.MaxMessageSize)
	}
	f := newFrameReader(iotest.HalfReader(bytes.NewReader(stream)))
	var got []protocol.Message
	var plain []byte
	for {
		payload, err := f.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if cap(plain) < len(payload) {
			plain = make([]byte, 0, f.size())
		}
		opened, _, err := s.open(plain, payload)
		if err != nil {
			t.Fatal(err)
		}
		m, err := protocol.Decode(opened)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messages read back (-want +got):\n%s", diff)
	}
	if f.size() > maxPayloadSize {
		t.Errorf("buffer grew to %d bytes, above maxPayloadSize %d", f.size(), maxPayloadSize)
	}
}

// BenchmarkFrameReader_NewConnection is what an inbound connection costs
// to open and read one heartbeat: the buffer it holds (B/op), a few KB
// rather than maxPayloadSize.
func BenchmarkFrameReader_NewConnection(b *testing.B) {
	hb, err := protocol.Encode(&protocol.Message{Type: protocol.MsgHeartbeat, From: 2, To: 1, Incarnation: 5, Ballot: protocol.InitialBallot, ViewID: 3})
	if err != nil {
		b.Fatal(err)
	}
	frame := appendFrame(nil, hb)
	r := bytes.NewReader(frame)
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(frame)
		if _, err := newFrameReader(r).next(); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzReadFrame feeds arbitrary bytes to what an inbound connection does
// with them: read frames, open them (with and without a key), decode. It
// must never panic, never hand out more than maxPayloadSize, and whatever
// decodes must encode back to the same bytes.
func FuzzReadFrame(f *testing.F) {
	key := bytes.Repeat([]byte{42}, keySize)
	s, err := newSealer([][]byte{key})
	if err != nil {
		f.Fatal(err)
	}
	join, _ := protocol.Encode(&protocol.Message{Type: protocol.MsgJoin, From: 2, To: 1, Op: protocol.Op{Kind: protocol.OpAdd, Peer: 2, Incarnation: 7}})
	nv, _ := protocol.Encode(&protocol.Message{Type: protocol.MsgNewView, From: 1, To: 3, ViewID: 3, Members: []protocol.PeerID{1, 2, 3},
		Op: protocol.Op{Kind: protocol.OpAdd, Peer: 3, Incarnation: 9}})
	f.Add(appendFrame(nil, join))
	f.Add(appendFrame(appendFrame(nil, join), nv))
	f.Add(appendFrame(nil, mustSeal(f, s, nv)))
	f.Add(appendFrame(nil, join)[:7])
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1})
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, sl := range []*sealer{nil, s} {
			fr := newFrameReader(bytes.NewReader(data))
			var plain []byte
			for {
				p, err := fr.next()
				if err != nil {
					break
				}
				if len(p) == 0 || len(p) > maxPayloadSize {
					t.Fatalf("next returned %d bytes", len(p))
				}
				if cap(plain) < len(p) {
					plain = make([]byte, 0, fr.size())
				}
				opened, _, err := sl.open(plain, p)
				if err != nil {
					continue
				}
				m, err := protocol.Decode(opened)
				if err != nil {
					continue
				}
				again, err := protocol.Encode(&m)
				if err != nil {
					t.Fatalf("decoded %v does not encode: %v", m, err)
				}
				if !bytes.Equal(again, opened) {
					t.Fatalf("decoded %v re-encodes to %x, read %x", m, again, opened)
				}
			}
		}
	})
}
