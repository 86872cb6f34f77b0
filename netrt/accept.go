package netrt

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/protocol"
)

// acceptPause is how long accepting pauses after a failure that is not the
// listener closing (out of file descriptors, say), so as not to spin.
const acceptPause = 50 * time.Millisecond

var (
	errClosedUnproven = errors.New("closed unproven to make room")
	errAllProven      = errors.New("refused: every open connection is proven")
)

// maxInbound is how many inbound connections may be open at once: one per
// other peer, twice over for connections a restarted peer left behind,
// plus a few. Past it the oldest unproven connection is closed (see
// inboundConns), so whoever can reach the port can neither make this peer
// hold unbounded connections and goroutines nor crowd the peers out.
func maxInbound(hosts int) int { return 2*hosts + 8 }

// acceptLoop accepts the connections other peers dial to send to this one.
func (r *runtime) acceptLoop(ctx context.Context) {
	for {
		c, err := r.tcpLn.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			r.log.Debug("accept failed", errAttr(err))
			if !sleepCtx(ctx, acceptPause) {
				return
			}
			continue
		}
		// Named by host alone, as in serveConn: the port is ephemeral,
		// and a flood is worth one warning.
		evicted, ok := r.inbound.add(c)
		if evicted != nil {
			r.droppedFrom(dropConnLimit, remoteAddrPort(evicted), errClosedUnproven)
		}
		if !ok {
			r.droppedFrom(dropConnLimit, remoteAddrPort(c), errAllProven)
			c.Close()
			continue
		}
		r.spawn(func(ctx context.Context) {
			defer r.inbound.remove(c)
			r.serveConn(ctx, c)
		})
	}
}

// serveConn reads frames from one inbound connection until it ends. Input
// that breaks the framing or the seal closes the connection: after a bad
// frame nothing says where the next one starts, and a peer with another
// key has nothing to say to this one. A well-formed message that fails a
// later check is dropped alone.
func (r *runtime) serveConn(ctx context.Context, c net.Conn) {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	defer c.Close()
	src := remoteAddrPort(c) // its port is ephemeral: drops are logged per host
	frames := newFrameReader(bufio.NewReader(c))
	var plain []byte // what a sealed frame opens to; grows with frames
	// Until a frame passes every check, the connection may be anyone's:
	// it gets firstFrameTimeout to send one.
	proven := false
	c.SetReadDeadline(time.Now().Add(firstFrameTimeout))
	for {
		payload, err := frames.next()
		switch {
		case err == nil:
		case errors.Is(err, errOversized):
			r.droppedFrom(dropOversized, src, err)
			return
		case errors.Is(err, errEmptyFrame), errors.Is(err, io.ErrUnexpectedEOF):
			r.droppedFrom(dropMalformed, src, err)
			return
		default: // io.EOF, a reset, or closed by shutdown: nothing to count
			return
		}
		if r.seal != nil && cap(plain) < len(payload) {
			// A message is shorter than its sealed payload: opening
			// then never allocates behind plain's back.
			plain = make([]byte, 0, frames.size())
		}
		m, reason, err := r.admit(ctx, payload, plain, src, protocol.Stream)
		if reason != dropNone {
			r.droppedFrom(reason, src, err)
			if reason == dropMalformed || reason == dropBadSeal || reason == dropUnknownKey {
				return
			}
			continue
		}
		if !proven {
			proven = true
			if r.inbound.prove(c, m.From) != nil {
				r.log.Debug("closed an older connection from the same peer", "from", int(m.From))
			}
			c.SetReadDeadline(time.Time{})
		}
		if !r.deliver(ctx, m) {
			return
		}
	}
}

// deliver hands m to the event loop; false when ctx ended first.
func (r *runtime) deliver(ctx context.Context, m protocol.Message) bool {
	select {
	case r.inbox <- m:
		return true
	case <-ctx.Done():
		return false
	}
}

// remoteAddrPort is c's remote address, unmapped.
func remoteAddrPort(c net.Conn) netip.AddrPort {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		ap := a.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	ap, _ := netip.ParseAddrPort(c.RemoteAddr().String())
	return ap
}
