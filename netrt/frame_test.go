package netrt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

func TestFrame_RoundTrip(t *testing.T) {
	payloads := [][]byte{{1}, []byte("hello"), bytes.Repeat([]byte{7}, maxPayloadSize)}
	var stream []byte
	for _, p := range payloads {
		stream = appendFrame(stream, p)
	}
	r := bytes.NewReader(stream)
	buf := make([]byte, maxPayloadSize)
	var got [][]byte
	for {
		p, err := readFrame(r, buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, bytes.Clone(p))
	}
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
		{"oversized", append(long, make([]byte, maxPayloadSize+1)...), errOversized},
		{"huge length", []byte{0xff, 0xff, 0xff, 0xff}, errOversized},
		{"empty frame", []byte{0, 0, 0, 0}, errEmptyFrame},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readFrame(bytes.NewReader(tc.input), make([]byte, maxPayloadSize))
			if !errors.Is(err, tc.want) {
				t.Errorf("readFrame = %v, want %v", err, tc.want)
			}
		})
	}
}

// FuzzReadFrame feeds arbitrary bytes to what an inbound connection does
// with them: read frames, open them (with and without a key), decode. It
// must never panic, never hand out more than the buffer, and whatever
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
			r := bytes.NewReader(data)
			buf := make([]byte, maxPayloadSize)
			plain := make([]byte, 0, maxPayloadSize)
			for {
				p, err := readFrame(r, buf)
				if err != nil {
					break
				}
				if len(p) == 0 || len(p) > maxPayloadSize {
					t.Fatalf("readFrame returned %d bytes", len(p))
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
