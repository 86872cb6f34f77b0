package netrt

import (
	"crypto/aes"
	"crypto/cipher"

	"github.com/pkg/errors"
)

// keySize is the length of Options.Key: AES-256.
const keySize = 32

// sealOverhead is what sealing adds to a payload: a random 12-byte nonce in
// front, a 16-byte GCM tag behind.
const sealOverhead = 12 + 16

// sealer seals payloads with AES-256-GCM under the cluster's shared key:
// nonce || ciphertext || tag. The whole encoded message, type and sender
// included, is inside the sealed part, so without the key a process can
// neither read, forge nor alter a message. It does not stop a replay from
// the sender's address, which is easily forged for a datagram. Ballots and
// view ids only grow, so an old message cannot undo a change; but a
// replayed heartbeat is still a sign of life, and replaying a crashed
// peer's heartbeats keeps it from being suspected. Stopping that would
// take a counter or a timestamp under the seal.
//
// Random 96-bit nonces are safe for about 2^32 messages per key, far more
// than a membership service sends in a key's lifetime.
//
// A nil *sealer is the clear-text mode: seal and open return their input.
type sealer struct {
	aead cipher.AEAD
}

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
	return &sealer{aead: aead}, nil
}

// seal returns plain sealed, in a new slice.
func (s *sealer) seal(plain []byte) []byte {
	if s == nil {
		return plain
	}
	return s.aead.Seal(make([]byte, 0, len(plain)+sealOverhead), nil, plain, nil)
}

// open returns the plain text of sealed, appended to dst[:0], or an error
// when it was not sealed with this key or was altered.
func (s *sealer) open(dst, sealed []byte) ([]byte, error) {
	if s == nil {
		return sealed, nil
	}
	if len(sealed) < sealOverhead {
		return nil, errors.Errorf("sealed input of %d bytes is shorter than the %d-byte seal", len(sealed), sealOverhead)
	}
	plain, err := s.aead.Open(dst[:0], nil, sealed, nil)
	if err != nil {
		return nil, errors.Wrap(err, "open sealed input")
	}
	return plain, nil
}
