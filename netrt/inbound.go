package netrt

import (
	"context"
	"net/netip"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/protocol"
)

// admit turns one payload received from src over transport tr into a
// message for the peer, or says why it must be dropped. plain is scratch
// space for the opened payload. It validates instead of trusting: every
// check that can fail on input from the network is here, before the input
// reaches the peer.
func (r *runtime) admit(ctx context.Context, payload, plain []byte, src netip.AddrPort, tr protocol.Transport) (protocol.Message, dropReason, error) {
	opened, stamp, err := r.seal.open(plain, payload)
	if errors.Is(err, errUnknownKey) {
		return protocol.Message{}, dropUnknownKey, err
	}
	if err != nil {
		return protocol.Message{}, dropBadSeal, err
	}
	m, err := protocol.Decode(opened)
	if err != nil {
		return protocol.Message{}, dropMalformed, err
	}
	if m.Type.Transport() != tr && (m.Type != protocol.MsgHeartbeat || tr != protocol.Stream) {
		// A datagram bypasses the stream's order and a stream the
		// datagram's address check: neither is what a peer sends.
		// But a heartbeat also travels on the stream (link.offer),
		// whose sender the kernel's handshake vouches for.
		return protocol.Message{}, dropMalformed, errors.Errorf("%s over the %s transport", m.Type, tr)
	}
	if int(m.From) > len(r.addrs)-1 {
		return protocol.Message{}, dropUnknownSender, errors.Errorf("%s from id %d, the hosts file has %d", m.Type, m.From, len(r.addrs)-1)
	}
	if m.To != r.id {
		if tr == protocol.Datagram && r.opts.Broadcast {
			// A broadcast heartbeat reaches every peer but names
			// one receiver (see sendDatagram): the others, and the
			// sender itself, ignore it.
			return protocol.Message{}, dropIgnored, nil
		}
		return protocol.Message{}, dropMisaddressed, errors.Errorf("%s from %d addressed to %d", m.Type, m.From, m.To)
	}
	if !r.checkIdentity(ctx, m.From, src, tr) {
		return protocol.Message{}, dropIdentity, errors.Errorf("%s claims to be from %d", m.Type, m.From)
	}
	if r.seal != nil {
		if reason, err := r.checkStamp(&m, stamp, tr); reason != dropNone {
			return protocol.Message{}, reason, err
		}
	}
	// Last, so that only a JOIN that passed every other check takes a
	// token of its sender's bucket; here, not in the event loop, so that
	// a flood is dropped before it fills the inbox that heartbeats share.
	// (r.now reads r.start, which Run sets before any reader starts.)
	if m.Type == protocol.MsgJoin && !r.joins.allow(m.From, r.now()) {
		return protocol.Message{}, dropJoinRate, errors.Errorf("JOIN from %d: more than %d in a row, or more than one per %v after them",
			m.From, joinBurst, r.joins.every)
	}
	return m, dropNone, nil
}

// checkStamp judges a sealed message's stamp: a clock reading, within the
// window around this peer's clock, and above what its sender sent since.
func (r *runtime) checkStamp(m *protocol.Message, stamp uint64, tr protocol.Transport) (dropReason, error) {
	if stamp > maxStamp {
		// No clock makes it.
		return dropBadStamp, errors.Errorf("%s from %d stamped %d, above any clock reading (%d)", m.Type, m.From, stamp, uint64(maxStamp))
	}
	// Fresh first, then in order: only a stamp within the window may
	// raise the replay guard's mark (see freshness).
	now := r.fresh.now()
	if reason, skew := r.fresh.judge(stamp, now); reason != dropNone {
		r.refusedForSkew(m.From, tr, reason, skew, now)
		return reason, errors.Errorf("%s from %d stamped %s from this peer's clock, outside the ±%v window", m.Type, m.From, signed(skew), r.fresh.window)
	}
	if !r.replays.fresh(m.From, tr, stamp) {
		return dropReplayed, errors.Errorf("%s from %d stamped %d, not above what it sent since", m.Type, m.From, stamp)
	}
	return dropNone, nil
}
