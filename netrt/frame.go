package netrt

import (
	"encoding/binary"
	"io"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/protocol"
)

// A frame on a TCP stream is a 4-byte big-endian payload length, then the
// payload: an encoded message, sealed when the peer has keys (see sealer
// for its layout). A datagram is a bare payload: UDP keeps its boundaries
// already.
const frameHeaderLen = 4

// maxPayloadSize bounds every payload, framed or not: the largest message
// plus what sealing adds. Anything longer is refused before it is read, so
// a forged length cannot make a peer allocate or wait for more.
const maxPayloadSize = protocol.MaxMessageSize + sealOverhead

var (
	// errOversized: a frame announced more than the buffer holds.
	errOversized = errors.New("frame exceeds the size limit")
	// errEmptyFrame: a zero length, which no message encodes to.
	errEmptyFrame = errors.New("empty frame")
)

// appendFrame appends payload as one frame to dst.
func appendFrame(dst, payload []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(payload)))
	return append(dst, payload...)
}

// readFrame reads one frame from r into buf and returns its payload, which
// aliases buf. A frame longer than len(buf) is errOversized (and nothing of
// its payload is read); a stream that ends inside a frame is
// io.ErrUnexpectedEOF; one that ends between frames is io.EOF.
func readFrame(r io.Reader, buf []byte) ([]byte, error) {
	var hdr [frameHeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	switch {
	case n == 0:
		return nil, errEmptyFrame
	case uint64(n) > uint64(len(buf)):
		return nil, errOversized
	}
	if _, err := io.ReadFull(r, buf[:n]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf[:n], nil
}
