package netrt

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, keySize) }

// mustSeal seals plain with s.
func mustSeal(t testing.TB, s *sealer, plain []byte) []byte {
	t.Helper()
	sealed, err := s.seal(plain)
	if err != nil {
		t.Fatal(err)
	}
	return sealed
}

func TestSeal_RoundTrip(t *testing.T) {
	s, err := newSealer(testKey(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, plain := range [][]byte{{1}, []byte("a message"), bytes.Repeat([]byte{9}, 1000)} {
		sealed := mustSeal(t, s, plain)
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
	if a, b := mustSeal(t, s, []byte("x")), mustSeal(t, s, []byte("x")); bytes.Equal(a, b) {
		t.Error("two seals of one text are equal: the nonce is not fresh")
	}
}

func TestSeal_WrongKeyFails(t *testing.T) {
	a, _ := newSealer(testKey(1))
	b, _ := newSealer(testKey(2))
	if _, _, err := b.open(nil, mustSeal(t, a, []byte("a message"))); err == nil {
		t.Error("a text sealed with one key opened with another")
	}
}

func TestSeal_TamperingFails(t *testing.T) {
	s, _ := newSealer(testKey(1))
	sealed := mustSeal(t, s, []byte("a message"))
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
	got, stamp, err := s.open(nil, mustSeal(t, s, []byte("plain")))
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
		_, stamp, err := s.open(nil, mustSeal(t, s, []byte("m")))
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

// A clock before 1970 reads negative: it stamps from 0 up, not from near
// 2^64, which would hold back the stamps of the clock once set right.
func TestSeal_ClockBefore1970StampsFromZero(t *testing.T) {
	s, _ := newSealer(testKey(1))
	s.now = func() time.Time { return time.Unix(-5, 0) }
	var got []uint64
	for range 2 {
		_, stamp, err := s.open(nil, mustSeal(t, s, []byte("m")))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, stamp)
	}
	if diff := cmp.Diff([]uint64{1, 2}, got); diff != "" {
		t.Errorf("stamps (-want +got):\n%s", diff)
	}
}

// Once the last stamp is maxStamp, the largest a receiver accepts, the
// sealer refuses to seal rather than wrap or repeat a stamp.
func TestSeal_RefusesPastLargestStamp(t *testing.T) {
	s, _ := newSealer(testKey(1))
	s.now = func() time.Time { return time.Unix(1000, 0) }
	s.last = maxStamp - 1
	_, stamp, err := s.open(nil, mustSeal(t, s, []byte("m")))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(uint64(maxStamp), stamp); diff != "" {
		t.Errorf("last stamp (-want +got):\n%s", diff)
	}
	sealed, err := s.seal([]byte("m"))
	const want = "cannot seal: the last stamp, 9223372036854775807, is the largest a receiver accepts"
	if err == nil || err.Error() != want {
		t.Errorf("seal past maxStamp = % x, %v; want error %q", sealed, err, want)
	}
	if diff := cmp.Diff(uint64(maxStamp), s.last); diff != "" {
		t.Errorf("last stamp after the refusal (-want +got):\n%s", diff)
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
