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

// maxPayloadSize bounds every payload on a stream: the largest message
// plus what sealing adds. Anything longer is refused before it is read, so
// a forged length cannot make a peer allocate or wait for more. Datagrams
// have a far smaller bound (maxDatagramSize).
const maxPayloadSize = protocol.MaxMessageSize + sealOverhead

// initialFrameBuf is the frame buffer an inbound connection starts with.
// Every message of a cluster whose members carry no tags fits in it,
// sealed (about 2 KB at most: a NEWVIEW of protocol.MaxPeers members and
// a full batch; TestFrame_UntaggedMessagesFitTheInitialBuffer holds it),
// so such a cluster never grows one. Only tags make messages larger.
const initialFrameBuf = 4 << 10

var (
	// errOversized: a frame announced more than maxPayloadSize.
	errOversized = errors.New("frame exceeds the size limit")
	// errEmptyFrame: a zero length, which no message encodes to.
	errEmptyFrame = errors.New("empty frame")
)

// appendFrame appends payload as one frame to dst.
func appendFrame(dst, payload []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(payload)))
	return append(dst, payload...)
}

// frameReader reads the frames of one stream into a buffer of its own.
//
// The buffer starts at initialFrameBuf and doubles, up to maxPayloadSize,
// only as the bytes of a longer frame arrive, not when a length is
// announced: a connection holds at most twice the largest frame its peer
// actually sent, rather than protocol.MaxMessageSize (over half a
// megabyte, for a NEWVIEW of MaxPeers members each with full tags) from
// the start, and a forged length costs the peer no more memory than the
// bytes its sender really sends. It keeps the larger buffer afterwards:
// a peer that sent one large view will send the next.
type frameReader struct {
	r   io.Reader
	buf []byte // len(buf) == cap(buf)
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: r, buf: make([]byte, initialFrameBuf)}
}

// next reads one frame and returns its payload, which aliases the
// reader's buffer until the next call. A frame announcing more than
// maxPayloadSize is errOversized (and nothing of its payload is read); a
// stream that ends inside a frame is io.ErrUnexpectedEOF; one that ends
// between frames is io.EOF.
func (f *frameReader) next() ([]byte, error) {
	var hdr [frameHeaderLen]byte
	if _, err := io.ReadFull(f.r, hdr[:]); err != nil {
		return nil, err
	}
	announced := binary.BigEndian.Uint32(hdr[:])
	switch {
	case announced == 0:
		return nil, errEmptyFrame
	case uint64(announced) > maxPayloadSize:
		return nil, errOversized
	}
	n := int(announced)
	for got := 0; got < n; {
		if got == len(f.buf) {
			f.grow()
		}
		k, err := io.ReadFull(f.r, f.buf[got:min(n, len(f.buf))])
		got += k
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return f.buf[:n], nil
}

// grow doubles the buffer, keeping what it holds, up to maxPayloadSize.
func (f *frameReader) grow() {
	bigger := make([]byte, min(2*len(f.buf), maxPayloadSize))
	copy(bigger, f.buf)
	f.buf = bigger
}

// size is the buffer's length: the largest payload next returns without
// growing it.
func (f *frameReader) size() int { return len(f.buf) }
