package netrt

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
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
		got, _, err := s.open(nil, sealed)
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
	if _, _, err := b.open(nil, a.seal([]byte("a message"))); err == nil {
		t.Error("a text sealed with one key opened with another")
	}
}

func TestSeal_TamperingFails(t *testing.T) {
	s, _ := newSealer(testKey(1))
	sealed := s.seal([]byte("a message"))
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x01
		if _, _, err := s.open(nil, bad); err == nil {
			t.Fatalf("flipping a bit of byte %d went unnoticed", i)
		}
	}
	for _, bad := range [][]byte{nil, sealed[:sealOverhead-1], sealed[:len(sealed)-1], append(bytes.Clone(sealed), 0)} {
		if _, _, err := s.open(nil, bad); err == nil {
			t.Errorf("opened %d mangled bytes", len(bad))
		}
	}
}

func TestSeal_ClearText(t *testing.T) {
	var s *sealer
	got, stamp, err := s.open(nil, s.seal([]byte("plain")))
	if err != nil || string(got) != "plain" || stamp != 0 {
		t.Errorf("clear-text round trip = %q, stamp %d, %v", got, stamp, err)
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

func TestSeal_StampsGrowAcrossRestartsAndStillClocks(t *testing.T) {
	clock := time.Unix(1000, 0)
	s, _ := newSealer(testKey(1))
	s.now = func() time.Time { return clock }
	stampOf := func(s *sealer) uint64 {
		_, stamp, err := s.open(nil, s.seal([]byte("m")))
		if err != nil {
			t.Fatal(err)
		}
		return stamp
	}
	var got []uint64
	got = append(got, stampOf(s), stampOf(s)) // the clock stands still: +1
	clock = clock.Add(time.Second)
	got = append(got, stampOf(s))
	restarted, _ := newSealer(testKey(1)) // a new process, a later clock
	restarted.now = func() time.Time { return clock.Add(time.Second) }
	got = append(got, stampOf(restarted))
	want := []uint64{1000e9, 1000e9 + 1, 1001e9, 1002e9}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stamps (-want +got):\n%s", diff)
	}
}

func TestReplayGuard_OnlyHigherStampsPerSenderAndTransport(t *testing.T) {
	g := newReplayGuard(3)
	type try struct {
		sender    protocol.PeerID
		transport protocol.Transport
		stamp     uint64
	}
	var got []bool
	for _, c := range []try{
		{2, protocol.Datagram, 10},
		{2, protocol.Datagram, 10}, // replayed
		{2, protocol.Datagram, 9},  // older
		{2, protocol.Stream, 5},    // another transport keeps its own order
		{3, protocol.Datagram, 1},  // another sender too
		{2, protocol.Datagram, 11},
	} {
		got = append(got, g.fresh(c.sender, c.transport, c.stamp))
	}
	if diff := cmp.Diff([]bool{true, false, false, true, true, true}, got); diff != "" {
		t.Errorf("fresh (-want +got):\n%s", diff)
	}
}
