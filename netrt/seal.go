package netrt

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"math"
	"sync/atomic"
	"time"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/protocol"
)

// keySize is the length of Options.Key: AES-256.
const keySize = 32

// stampLen is the length of the stamp sealed in front of every message.
const stampLen = 8

// sealOverhead is what sealing adds to a payload: a random 12-byte nonce in
// front, the stamp, and a 16-byte GCM tag behind.
const sealOverhead = 12 + stampLen + 16

// sealer seals payloads with AES-256-GCM under the cluster's shared key:
// nonce || ciphertext(stamp || message) || tag. The whole encoded message,
// type and sender included, is inside the sealed part, so without the key
// a process can neither read, forge nor alter a message.
//
// The stamp stops replays. Ballots and view ids only grow, so an old
// message cannot undo a change, but a replayed heartbeat is a sign of life:
// replaying a crashed peer's heartbeats from its (easily forged) address
// would keep it from being suspected. Each sender stamps its messages with
// a number that grows with every message and across restarts (the wall
// clock in nanoseconds, or one more than the last stamp when the clock has
// not moved on), and a receiver accepts from each sender and transport
// only stamps above the highest it accepted (see replayGuard). A datagram
// overtaken by a later one is dropped too, which costs a heartbeat at most.
// A peer whose clock is set back while it is down is taken for a replayer
// by the others until its clock passes its last stamp again.
//
// Stamps are clock readings, so none exceeds maxStamp: a clock before 1970
// stamps from 0, and a receiver refuses a larger stamp (see admit), which
// would otherwise hold back every later stamp of its sender for good.
//
// Random 96-bit nonces are safe for about 2^32 messages per key, far more
// than a membership service sends in a key's lifetime.
//
// A nil *sealer is the clear-text mode: seal and open return their input.
type sealer struct {
	aead cipher.AEAD
	// last is the last stamp sealed. Only the event loop seals.
	last uint64
	now  func() time.Time
}

// maxStamp is the largest stamp: the wall clock in nanoseconds since 1970
// stays below it until the year 2262.
const maxStamp = math.MaxInt64

// newSealer returns the sealer for key, nil for a nil key.
func newSealer(key []byte) (*sealer, error) {
	if key == nil {
		return nil, nil
	}
	if len(key) != keySize {
		return nil, errors.Errorf("netrt: key of %d bytes, want %d (AES-256)", len(key), keySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, errors.Wrap(err, "netrt: key")
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, errors.Wrap(err, "netrt: key")
	}
	return &sealer{aead: aead, now: time.Now}, nil
}

// seal returns plain stamped and sealed, in a new slice. It fails only
// once the stamps are spent: the last one was maxStamp, and receivers
// refuse any larger.
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
	stamped := binary.BigEndian.AppendUint64(make([]byte, 0, stampLen+len(plain)), s.last)
	stamped = append(stamped, plain...)
	return s.aead.Seal(make([]byte, 0, len(plain)+sealOverhead), nil, stamped, nil), nil
}

// open returns the message sealed in sealed, appended to dst[:0], and its
// stamp, or an error when it was not sealed with this key or was altered.
// In clear-text mode it returns sealed and stamp 0.
func (s *sealer) open(dst, sealed []byte) (plain []byte, stamp uint64, err error) {
	if s == nil {
		return sealed, 0, nil
	}
	if len(sealed) < sealOverhead {
		return nil, 0, errors.Errorf("sealed input of %d bytes is shorter than the %d-byte seal", len(sealed), sealOverhead)
	}
	opened, err := s.aead.Open(dst[:0], nil, sealed, nil)
	if err != nil {
		return nil, 0, errors.Wrap(err, "open sealed input")
	}
	// The tag covers the stamp: whoever sealed this had the key.
	return opened[stampLen:], binary.BigEndian.Uint64(opened), nil
}

// replayGuard remembers, by transport and sender, the highest stamp
// accepted: sealed input must carry a higher one.
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
