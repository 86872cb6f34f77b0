package netrt

import (
	"context"
	"net"
	"net/netip"
	"strconv"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/protocol"
)

// datagramQueueLen bounds the heartbeats waiting for the UDP writer. A
// heartbeat is worth nothing late, so when the writer falls behind they
// are dropped rather than queued.
const datagramQueueLen = 1024

// maxDatagramSize bounds a datagram a peer sends: a heartbeat, sealed.
// The UDP reader's buffer holds one byte more, and refuses (oversized)
// any datagram that fills it.
const maxDatagramSize = protocol.MaxHeartbeatSize + sealOverhead

// datagram is one payload for the UDP writer.
type datagram struct {
	to      protocol.PeerID
	payload []byte
}

// sendDatagram queues a heartbeat for the UDP writer; it never blocks the
// event loop.
func (r *runtime) sendDatagram(to protocol.PeerID, payload []byte) {
	select {
	case r.datagrams <- datagram{to: to, payload: payload}:
	default:
		r.dropped(dropQueueFull, "peer "+strconv.Itoa(int(to))+" (udp)", nil)
	}
}

// writeDatagrams sends the queued heartbeats from the bound UDP socket, so
// their source port is this peer's UDP port, which receivers check.
//
// Without Broadcast each goes to its receiver's UDP address. With it,
// each goes to the broadcast address instead: every peer receives every
// heartbeat and silently ignores those that name another receiver (see
// admit). That keeps one wire format, and the receivers' checks, for both
// modes. It sends as many datagrams as unicast does; what it saves is
// resolving the members' addresses.
func (r *runtime) writeDatagrams(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case d := <-r.datagrams:
			dst, ok := r.datagramDest(d.to)
			if !ok {
				r.dropped(dropSendFailed, "peer "+strconv.Itoa(int(d.to))+" (udp)", errors.New("address not resolved yet"))
				continue
			}
			if _, err := r.udpConn.WriteToUDPAddrPort(d.payload, dst); err != nil {
				if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
					return
				}
				r.dropped(dropSendFailed, dst.String(), err)
			}
		}
	}
}

// datagramDest is where a heartbeat for peer to goes. It never waits for
// DNS: an unresolved name is looked up in the background and this
// heartbeat is lost, as a datagram may be.
func (r *runtime) datagramDest(to protocol.PeerID) (netip.AddrPort, bool) {
	if r.broadcastAddr.IsValid() {
		return r.broadcastAddr, true
	}
	a := r.addrs[to]
	ips := r.book.cached(a.udpHost, r.spawn)
	if len(ips) == 0 {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ips[0], a.udpPort), true
}

// readDatagrams receives heartbeats until the socket is closed. It is the
// path a flood of junk takes, hundreds of thousands of datagrams a second
// that compete with the heartbeats for the socket's buffer, so it is kept
// short: it waits for nothing but the socket and, with a message that
// passed every check, the event loop; it drops junk after the cheapest
// check that tells (screenDatagram); and it counts and logs a drop
// without allocating or writing a line per datagram (droppedFrom).
func (r *runtime) readDatagrams(ctx context.Context) {
	// One byte more than any datagram a peer sends, so an oversized
	// datagram shows as one rather than being silently cut to size.
	buf := make([]byte, maxDatagramSize+1)
	var plain []byte
	if r.seal != nil {
		plain = make([]byte, 0, maxDatagramSize)
	}
	for {
		n, src, err := r.udpConn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			r.log.Debug("udp read failed", errAttr(err))
			continue
		}
		// Drops are counted and logged by host, as in serveConn:
		// whoever sends junk picks its source ports at will.
		src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
		if n > maxDatagramSize {
			r.droppedFrom(dropOversized, src, errOversizedDatagram)
			continue
		}
		if reason, err := r.screenDatagram(buf[:n]); reason != dropNone {
			r.droppedFrom(reason, src, err)
			continue
		}
		m, reason, err := r.admit(ctx, buf[:n], plain, src, protocol.Datagram)
		if reason != dropNone {
			r.droppedFrom(reason, src, err)
			continue
		}
		if !r.deliver(ctx, m) {
			return
		}
	}
}

var (
	errOversizedDatagram = errors.New("datagram exceeds the size limit")
	errShortSealed       = errors.New("too short to be sealed")
	errNotMessage        = errors.New("not a message of this wire version")
	errNotHeartbeat      = errors.New("not a heartbeat, the only message sent as a datagram")
)

// screenDatagram rejects, without opening or decoding it, a datagram that
// cannot be a heartbeat: sealed, one too short to hold a seal and a
// message's first two bytes; in clear text, one whose first two bytes
// are not the wire version and the heartbeat's type. Its errors are
// fixed values, so rejecting costs no allocation.
func (r *runtime) screenDatagram(payload []byte) (dropReason, error) {
	if r.seal != nil {
		if len(payload) < sealOverhead+2 {
			return dropBadSeal, errShortSealed
		}
		return dropNone, nil
	}
	switch {
	case len(payload) < 2 || payload[0] != protocol.WireVersion:
		return dropMalformed, errNotMessage
	case protocol.MsgType(payload[1]) != protocol.MsgHeartbeat:
		return dropMalformed, errNotHeartbeat
	}
	return dropNone, nil
}
