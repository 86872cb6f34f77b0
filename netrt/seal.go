package netrt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/protocol"
)

// Lengths in a sealed payload (see sealer).
const (
	keySize  = 32 // of each key in Options.Keys: AES-256
	keyIDLen = 4
	stampLen = 8
	nonceLen = 12
	tagLen   = 16
	// sealHeaderLen is the part in clear in front: key id and stamp.
	sealHeaderLen = keyIDLen + stampLen
	// sealOverhead is what sealing adds to a message.
	sealOverhead = sealHeaderLen + nonceLen + tagLen
)

// sealer seals payloads with AES-256-GCM under the cluster's keyring. A
// sealed payload is
//
//	key id (4) | stamp (8) | nonce (12) | ciphertext (message) | tag (16)
//
// The key id names the key that sealed it (keyID): the receiver picks that
// key from its keyring without trying each, and refuses a payload whose
// key id it does not know before any AES work, which keeps a flood of junk
// cheap. The stamp is big-endian. Both travel in clear, as additional
// data covered by the tag; the nonce is random; the whole encoded message,
// type and sender included, is inside the ciphertext. So without a key of
// the ring a process can neither read, forge nor alter a message, nor
// move a message's stamp.
//
// The first key of the ring (the primary) seals; every key opens. That is
// what rotating a key without a pause needs: every peer first adds the new
// key second (it opens what anyone seals with it), then makes it primary,
// then drops the old one, each step everywhere before the next starts.
//
// The stamp stops replays. Ballots and view ids only grow, so an old
// message cannot undo a change, but a replayed heartbeat is a sign of life:
// replaying a crashed peer's heartbeats from its (easily forged) address
// would keep it from being suspected. Each sender stamps its messages with
// its wall clock in nanoseconds, one more than the last stamp when the
// clock has not moved on, so stamps grow with every message and across
// restarts. A receiver judges each stamp twice (see admit). For freshness,
// against its own clock: it refuses a stamp more than Config.SuspectAfter
// behind it (a replay, even after the receiver restarted, or a message
// delayed that long, which says nothing useful any more) or ahead of it
// (see freshness). For order, per sender and transport: it accepts only
// stamps above the highest it accepted (see replayGuard), so a message
// replayed within the window is refused too; a datagram overtaken by a
// later one is dropped, which costs a heartbeat at most. Peers' clocks
// must therefore agree within SuspectAfter, as NTP keeps them.
//
// Stamps are clock readings, so none exceeds maxStamp: a clock before 1970
// stamps from 0, and a receiver refuses a larger stamp.
//
// Random 96-bit nonces are safe for about 2^32 messages per key, far more
// than a membership service sends in a key's lifetime.
//
// A nil *sealer is the clear-text mode: seal and open return their input.
type sealer struct {
	// ring is the keyring in use, replaced whole by setKeys: a reader or
	// the event loop sees either the old ring or the new one.
	ring atomic.Pointer[keyring]
	// last is the last stamp sealed. Only the event loop seals.
	last uint64
	now  func() time.Time
}

// maxStamp is the largest stamp: the wall clock in nanoseconds since 1970
// stays below it until the year 2262.
const maxStamp = math.MaxInt64

// keyID names a key on the wire: the first four bytes of the SHA-256 of a
// fixed label and the key. It says which key sealed a payload and nothing
// about the key itself.
type keyID uint32

// keyIDLabel separates key ids from any other use of a key's hash.
const keyIDLabel = "memberly key id\x00"

func idOf(key []byte) keyID {
	h := sha256.New()
	h.Write([]byte(keyIDLabel))
	h.Write(key)
	return keyID(binary.BigEndian.Uint32(h.Sum(nil)))
}

// String is the id as 8 hex digits, as logs show it.
func (id keyID) String() string { return fmt.Sprintf("%08x", uint32(id)) }

// KeyID returns the id that sealed messages carry for key, as 8 hex
// digits: logs name keys by it, never by the key.
func KeyID(key []byte) string { return idOf(key).String() }

// keyring is a set of keys, the first one primary. It is never modified:
// setKeys installs a new one.
type keyring struct {
	keys []ringKey
}

type ringKey struct {
	id   keyID
	aead cipher.AEAD
}

// newKeyring checks keys (at least one, each keySize bytes, no two alike)
// and prepares them.
func newKeyring(keys [][]byte) (*keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("netrt: no keys")
	}
	ring := &keyring{keys: make([]ringKey, 0, len(keys))}
	for i, key := range keys {
		if len(key) != keySize {
			return nil, errors.Errorf("netrt: key %d of %d bytes, want %d (AES-256)", i+1, len(key), keySize)
		}
		id := idOf(key)
		for j, k := range ring.keys {
			if k.id != id {
				continue
			}
			if bytes.Equal(keys[j], key) {
				return nil, errors.Errorf("netrt: key %d repeats key %d", i+1, j+1)
			}
			return nil, errors.Errorf("netrt: keys %d and %d share the key id %s: replace one", j+1, i+1, id)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, errors.Wrapf(err, "netrt: key %d", i+1)
		}
		aead, err := cipher.NewGCMWithRandomNonce(block)
		if err != nil {
			return nil, errors.Wrapf(err, "netrt: key %d", i+1)
		}
		ring.keys = append(ring.keys, ringKey{id: id, aead: aead})
	}
	return ring, nil
}

// find returns the key named id, nil when the ring has none.
func (k *keyring) find(id keyID) cipher.AEAD {
	for _, rk := range k.keys {
		if rk.id == id {
			return rk.aead
		}
	}
	return nil
}

// newSealer returns the sealer for keys, nil (clear text) for none.
func newSealer(keys [][]byte) (*sealer, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	ring, err := newKeyring(keys)
	if err != nil {
		return nil, err
	}
	s := &sealer{now: time.Now}
	s.ring.Store(ring)
	return s, nil
}

// setKeys replaces the keyring, at once for every reader and the event
// loop. Stamps go on from the last one: they belong to the sender, not to
// a key. A peer that started in the clear stays in the clear, and one
// that seals cannot drop every key.
func (s *sealer) setKeys(keys [][]byte) error {
	if s == nil {
		return errors.New("netrt: this peer runs in the clear (started without keys): restart it with keys to seal")
	}
	ring, err := newKeyring(keys)
	if err != nil {
		return err
	}
	s.ring.Store(ring)
	return nil
}

// seal returns plain stamped and sealed with the primary key, in a new
// slice. It fails only once the stamps are spent: the last one was
// maxStamp, and receivers refuse any larger.
func (s *sealer) seal(plain []byte) ([]byte, error) {
	if s == nil {
		return plain, nil
	}
	if s.last >= maxStamp {
		return nil, errors.Errorf("cannot seal: the last stamp, %d, is the largest a receiver accepts", s.last)
	}
	// A clock before 1970 reads negative: as a uint64 it would be near
	// 2^64, and its stamps would hold back those of the clock set right.
	s.last = max(s.last+1, uint64(max(s.now().UnixNano(), 0)))
	primary := s.ring.Load().keys[0]
	out := make([]byte, sealHeaderLen, sealOverhead+len(plain))
	binary.BigEndian.PutUint32(out, uint32(primary.id))
	binary.BigEndian.PutUint64(out[keyIDLen:], s.last)
	// The header is the additional data: Seal appends behind it, so
	// the two do not overlap.
	return primary.aead.Seal(out, nil, plain, out[:sealHeaderLen]), nil
}

// errUnknownKey: a payload names a key id that is not in the keyring.
var errUnknownKey = errors.New("sealed with a key this peer does not hold")

// open returns the message sealed in sealed, appended to dst[:0], and its
// stamp, or an error when it is too short to be sealed, names a key not in
// the ring (errUnknownKey, found before any AES work), or was not sealed
// with that key or was altered. In clear-text mode it returns sealed and
// stamp 0.
func (s *sealer) open(dst, sealed []byte) (plain []byte, stamp uint64, err error) {
	if s == nil {
		return sealed, 0, nil
	}
	if len(sealed) < sealOverhead {
		return nil, 0, errors.Errorf("sealed input of %d bytes is shorter than the %d-byte seal", len(sealed), sealOverhead)
	}
	id := keyID(binary.BigEndian.Uint32(sealed))
	aead := s.ring.Load().find(id)
	if aead == nil {
		return nil, 0, errors.Wrapf(errUnknownKey, "key id %s", id)
	}
	opened, err := aead.Open(dst[:0], nil, sealed[sealHeaderLen:], sealed[:sealHeaderLen])
	if err != nil {
		return nil, 0, errors.Wrapf(err, "open sealed input (key id %s)", id)
	}
	// The tag covers the stamp: whoever sealed this had the key.
	return opened, binary.BigEndian.Uint64(sealed[keyIDLen:]), nil
}

// sealedStamp returns the stamp in front of a sealed payload, unchecked:
// only for payloads this peer sealed itself.
func sealedStamp(payload []byte) (uint64, bool) {
	if len(payload) < sealHeaderLen {
		return 0, false
	}
	return binary.BigEndian.Uint64(payload[keyIDLen:]), true
}

// replayGuard remembers, by transport and sender, the highest stamp
// accepted: sealed input must carry a higher one. A stamp reaches it only
// once judged fresh (within the window around the receiver's clock), so
// the highest it holds is never more than the window ahead of the clock
// at the time: no stamp, however far ahead its sealer's clock was, holds
// back its sender's later messages for longer than the window.
type replayGuard struct {
	highest [2][]atomic.Uint64 // [protocol.Stream, protocol.Datagram][sender id]
}

func newReplayGuard(hosts int) *replayGuard {
	g := &replayGuard{}
	for i := range g.highest {
		g.highest[i] = make([]atomic.Uint64, hosts+1)
	}
	return g
}

// fresh reports whether stamp from sender over tr is above every stamp
// accepted from it over tr, and if so records it. Readers of several
// connections may call it at once.
func (g *replayGuard) fresh(sender protocol.PeerID, tr protocol.Transport, stamp uint64) bool {
	h := &g.highest[tr][sender]
	for {
		seen := h.Load()
		if stamp <= seen {
			return false
		}
		if h.CompareAndSwap(seen, stamp) {
			return true
		}
	}
}
