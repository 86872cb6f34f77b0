package netrt

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, keySize) }

func TestSeal_RoundTrip(t *testing.T) {
	s, err := newSealer(testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, plain := range [][]byte{{1}, []byte("a message"), bytes.Repeat([]byte{9}, 1000)} {
		sealed := s.seal(plain)
		if len(sealed) != len(plain)+sealOverhead {
			t.Errorf("sealed %d bytes into %d, want %d", len(plain), len(sealed), len(plain)+sealOverhead)
		}
		if bytes.Contains(sealed, plain) && len(plain) > 4 {
			t.Errorf("sealed text contains the plain text")
		}
		got, err := s.open(nil, sealed)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(plain, got); diff != "" {
			t.Errorf("open(seal(x)) (-want +got):\n%s", diff)
		}
	}
	if a, b := s.seal([]byte("x")), s.seal([]byte("x")); bytes.Equal(a, b) {
		t.Error("two seals of one text are equal: the nonce is not fresh")
	}
}

func TestSeal_WrongKeyFails(t *testing.T) {
	a, _ := newSealer(testKey(1))
	b, _ := newSealer(testKey(2))
	if _, err := b.open(nil, a.seal([]byte("a message"))); err == nil {
		t.Error("a text sealed with one key opened with another")
	}
}

func TestSeal_TamperingFails(t *testing.T) {
	s, _ := newSealer(testKey(1))
	sealed := s.seal([]byte("a message"))
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x01
		if _, err := s.open(nil, bad); err == nil {
			t.Fatalf("flipping a bit of byte %d went unnoticed", i)
		}
	}
	for _, bad := range [][]byte{nil, sealed[:sealOverhead-1], sealed[:len(sealed)-1], append(bytes.Clone(sealed), 0)} {
		if _, err := s.open(nil, bad); err == nil {
			t.Errorf("opened %d mangled bytes", len(bad))
		}
	}
}

func TestSeal_ClearText(t *testing.T) {
	var s *sealer
	got, err := s.open(nil, s.seal([]byte("plain")))
	if err != nil || string(got) != "plain" {
		t.Errorf("clear-text round trip = %q, %v", got, err)
	}
}

func TestNewSealer_KeySize(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := newSealer(make([]byte, n)); err == nil {
			t.Errorf("a key of %d bytes was accepted", n)
		}
	}
	if s, err := newSealer(nil); s != nil || err != nil {
		t.Errorf("newSealer(nil) = %v, %v, want the clear-text sealer", s, err)
	}
}
