package netrt

import (
	"bytes"
	"crypto/cipher"
	"errors"
	"fmt"
	"sync"
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
	s, err := newSealer([][]byte{testKey(1)})
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

// A payload sealed with a key the receiver does not hold is refused by
// its key id, as errUnknownKey.
func TestSeal_WrongKeyFails(t *testing.T) {
	a, _ := newSealer([][]byte{testKey(1)})
	b, _ := newSealer([][]byte{testKey(2)})
	if _, _, err := b.open(nil, mustSeal(t, a, []byte("a message"))); !errors.Is(err, errUnknownKey) {
		t.Errorf("opening a text sealed with another key: error %v, want errUnknownKey", err)
	}
}

func TestSeal_TamperingFails(t *testing.T) {
	s, _ := newSealer([][]byte{testKey(1)})
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

func TestNewSealer_Errors(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys [][]byte
		want string
	}{
		{"empty key", [][]byte{{}}, "netrt: key 1 of 0 bytes, want 32 (AES-256)"},
		{"AES-128 key", [][]byte{make([]byte, 16)}, "netrt: key 1 of 16 bytes, want 32 (AES-256)"},
		{"second key short", [][]byte{testKey(1), make([]byte, 31)}, "netrt: key 2 of 31 bytes, want 32 (AES-256)"},
		{"long key", [][]byte{make([]byte, 64)}, "netrt: key 1 of 64 bytes, want 32 (AES-256)"},
		{"repeated key", [][]byte{testKey(1), testKey(2), testKey(2)}, "netrt: key 3 repeats key 2"},
	} {
		s, err := newSealer(tc.keys)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if diff := cmp.Diff(tc.want, got); diff != "" || s != nil {
			t.Errorf("%s: newSealer = %v, error (-want +got):\n%s", tc.name, s, diff)
		}
	}
	for _, keys := range [][][]byte{nil, {}} {
		if s, err := newSealer(keys); s != nil || err != nil {
			t.Errorf("newSealer(%v) = %v, %v, want the clear-text sealer", keys, s, err)
		}
	}
}

// The key id and the stamp lead a sealed payload in clear: the id is the
// primary key's, as KeyID shows it, and the stamp is the one the tag
// covers.
func TestSeal_HeaderInClear(t *testing.T) {
	s, _ := newSealer([][]byte{testKey(1), testKey(2)})
	s.now = func() time.Time { return time.Unix(1000, 0) }
	sealed := mustSeal(t, s, []byte("m"))
	_, stamp, err := s.open(nil, sealed)
	if err != nil {
		t.Fatal(err)
	}
	clear, _ := sealedStamp(sealed)
	type header struct {
		ID           string
		Stamp, Clear uint64
	}
	want := header{ID: KeyID(testKey(1)), Stamp: 1000e9, Clear: 1000e9}
	got := header{ID: fmt.Sprintf("%x", sealed[:keyIDLen]), Stamp: stamp, Clear: clear}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sealed header (-want +got):\n%s", diff)
	}
	if id := KeyID(testKey(1)); len(id) != 8 || id == KeyID(testKey(2)) {
		t.Errorf("KeyID = %q and %q, want two distinct ids of 8 hex digits", id, KeyID(testKey(2)))
	}
}

// The primary key (the first) seals and every key of the ring opens: a
// peer with [A,B] and one with [B,A] read each other, one with [B] alone
// reads only what B sealed.
func TestKeyring_PrimarySealsEveryKeyOpens(t *testing.T) {
	a, b := testKey(1), testKey(2)
	rings := map[string][][]byte{"[A,B]": {a, b}, "[B,A]": {b, a}, "[B]": {b}, "[A]": {a}}
	sealers := map[string]*sealer{}
	for name, keys := range rings {
		s, err := newSealer(keys)
		if err != nil {
			t.Fatal(err)
		}
		sealers[name] = s
	}
	opens := func(from, to string) bool {
		_, _, err := sealers[to].open(nil, mustSeal(t, sealers[from], []byte("m")))
		return err == nil
	}
	type pair struct{ From, To string }
	got := map[pair]bool{}
	for _, p := range []pair{
		{"[A,B]", "[B,A]"}, {"[B,A]", "[A,B]"}, {"[A,B]", "[A]"}, {"[B,A]", "[B]"},
		{"[A,B]", "[B]"}, {"[B,A]", "[A]"}, {"[A]", "[B]"},
	} {
		got[p] = opens(p.From, p.To)
	}
	want := map[pair]bool{
		{"[A,B]", "[B,A]"}: true, {"[B,A]", "[A,B]"}: true, {"[A,B]", "[A]"}: true, {"[B,A]", "[B]"}: true,
		{"[A,B]", "[B]"}: false, {"[B,A]", "[A]"}: false, {"[A]", "[B]"}: false,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("whether a payload sealed by one ring opens with another (-want +got):\n%s", diff)
	}
}

// countingAEAD counts the payloads it was asked to open.
type countingAEAD struct {
	cipher.AEAD
	opens int
}

func (c *countingAEAD) Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error) {
	c.opens++
	return c.AEAD.Open(dst, nonce, ciphertext, additionalData)
}

// A payload naming a key id outside the ring is refused before any AES
// work: under a flood of junk, each datagram costs a lookup, not a
// decryption.
func TestSeal_UnknownKeyRefusedBeforeAES(t *testing.T) {
	s, _ := newSealer([][]byte{testKey(1)})
	counting := &countingAEAD{AEAD: s.ring.Load().keys[0].aead}
	s.ring.Store(&keyring{keys: []ringKey{{id: idOf(testKey(1)), aead: counting}}})
	other, _ := newSealer([][]byte{testKey(2)})
	junk := bytes.Repeat([]byte{0xee}, 100)
	var got []string
	for _, payload := range [][]byte{mustSeal(t, other, []byte("m")), junk, mustSeal(t, s, []byte("m"))} {
		_, _, err := s.open(nil, payload)
		got = append(got, fmt.Sprintf("unknown key %v, opens %d", errors.Is(err, errUnknownKey), counting.opens))
	}
	want := []string{"unknown key true, opens 0", "unknown key true, opens 0", "unknown key false, opens 1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("opening another key's payload, junk, then our own (-want +got):\n%s", diff)
	}
}

// setKeys swaps the ring whole while readers open: each open sees the old
// ring or the new one. Run with -race.
func TestSealer_SetKeysWhileOpening(t *testing.T) {
	a, b := testKey(1), testKey(2)
	s, _ := newSealer([][]byte{a})
	sealedA := mustSeal(t, s, []byte("m"))
	if err := s.setKeys([][]byte{b, a}); err != nil {
		t.Fatal(err)
	}
	sealedB := mustSeal(t, s, []byte("m"))
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 500 {
				for _, p := range [][]byte{sealedA, sealedB} {
					if _, _, err := s.open(nil, p); err != nil && !errors.Is(err, errUnknownKey) {
						errs <- err
						return
					}
				}
			}
		}()
	}
	for i := range 500 {
		rings := [][][]byte{{a, b}, {b, a}, {b}, {a}}
		if err := s.setKeys(rings[i%len(rings)]); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("open during setKeys: %v", err)
	}
}

// setKeys refuses a bad ring and keeps the one in use; a clear-text
// sealer takes no keys.
func TestSealer_SetKeysErrors(t *testing.T) {
	s, _ := newSealer([][]byte{testKey(1)})
	var got []string
	for _, keys := range [][][]byte{nil, {testKey(2), testKey(2)}, {make([]byte, 16)}} {
		err := s.setKeys(keys)
		got = append(got, fmt.Sprint(err))
	}
	var clear *sealer
	got = append(got, fmt.Sprint(clear.setKeys([][]byte{testKey(1)})))
	want := []string{
		"netrt: no keys",
		"netrt: key 2 repeats key 1",
		"netrt: key 1 of 16 bytes, want 32 (AES-256)",
		"netrt: this peer runs in the clear (started without keys): restart it with keys to seal",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("setKeys errors (-want +got):\n%s", diff)
	}
	if _, _, err := s.open(nil, mustSeal(t, s, []byte("m"))); err != nil || s.ring.Load().keys[0].id != idOf(testKey(1)) {
		t.Errorf("after refused setKeys, the ring changed: open error %v", err)
	}
}

func TestSeal_StampsGrowAcrossRestartsAndStillClocks(t *testing.T) {
	clock := time.Unix(1000, 0)
	s, _ := newSealer([][]byte{testKey(1)})
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
	restarted, _ := newSealer([][]byte{testKey(1)}) // a new process, a later clock
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
	s, _ := newSealer([][]byte{testKey(1)})
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
	s, _ := newSealer([][]byte{testKey(1)})
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
