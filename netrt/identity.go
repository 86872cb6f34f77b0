package netrt

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/protocol"
)

const (
	// lookupTimeout bounds one DNS lookup.
	lookupTimeout = 2 * time.Second
	// addrTTL is how long a resolved address is used for datagrams before
	// it is looked up again in the background. Streams re-resolve on every
	// dial, which also refreshes this cache.
	addrTTL = 5 * time.Second
	// refreshMin is the least time between two lookups of one name forced
	// by an identity mismatch, so a flood of spoofed input cannot turn into
	// a flood of DNS queries.
	refreshMin = time.Second
)

// peerAddr is a host line split into what the runtime dials and checks.
type peerAddr struct {
	tcpHost string
	tcpPort uint16
	udpHost string
	udpPort uint16
}

// splitPeerAddr splits a Host's addresses.
func splitPeerAddr(h Host) (peerAddr, error) {
	var a peerAddr
	var err error
	if a.tcpHost, a.tcpPort, err = splitHostPort(h.TCPAddr); err != nil {
		return a, errors.Wrapf(err, "host %d TCP address", h.ID)
	}
	if a.udpHost, a.udpPort, err = splitHostPort(h.UDPAddr); err != nil {
		return a, errors.Wrapf(err, "host %d UDP address", h.ID)
	}
	return a, nil
}

func splitHostPort(s string) (string, uint16, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return "", 0, errors.Errorf("bad port in %q", s)
	}
	return host, uint16(p), nil
}

// addrBook resolves host names and caches the answers. Names are resolved
// lazily and again whenever there is reason to (a dial, an identity
// mismatch, an old entry): under docker a container that has exited
// vanishes from DNS, and one that restarts may come back at another
// address.
type addrBook struct {
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)

	mu      sync.Mutex
	entries map[string]*addrEntry
}

type addrEntry struct {
	addrs      []netip.Addr // IPv4 first, unmapped
	at         time.Time    // of the last lookup, answered or not
	refreshing bool         // a background lookup is under way
}

func newAddrBook() *addrBook {
	return &addrBook{lookup: lookupHost, entries: map[string]*addrEntry{}}
}

// lookupHost resolves host with the system resolver, IPv4 addresses first
// (the ones a dual-stack name is most likely to be reached at in a LAN).
func lookupHost(ctx context.Context, host string) ([]netip.Addr, error) {
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, errors.Wrapf(err, "resolve %s", host)
	}
	for i := range addrs {
		addrs[i] = addrs[i].Unmap()
	}
	slices.SortStableFunc(addrs, func(a, b netip.Addr) int {
		switch {
		case a.Is4() == b.Is4():
			return 0
		case a.Is4():
			return -1
		}
		return 1
	})
	return addrs, nil
}

// literal returns host's address when host is an IP literal: those need no
// lookup and are never cached.
func literal(host string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// resolve looks host up now, for a dial, and caches the answer.
func (b *addrBook) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, ok := literal(host); ok {
		return []netip.Addr{a}, nil
	}
	addrs, err := b.lookup(ctx, host)
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entry(host)
	e.at = time.Now()
	if err != nil {
		// Keep the old answer: sending to where a peer was costs
		// nothing, and it may be a passing DNS failure.
		return nil, err
	}
	e.addrs = addrs
	return addrs, nil
}

func (b *addrBook) entry(host string) *addrEntry {
	e := b.entries[host]
	if e == nil {
		e = &addrEntry{}
		b.entries[host] = e
	}
	return e
}

// cached returns what is known of host without waiting. When the answer
// is missing or older than addrTTL it starts a lookup with spawn, so a
// slow resolver delays no datagram.
func (b *addrBook) cached(host string, spawn func(func(context.Context))) []netip.Addr {
	if a, ok := literal(host); ok {
		return []netip.Addr{a}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entry(host)
	if !e.refreshing && time.Since(e.at) > addrTTL {
		e.refreshing = true
		spawn(func(ctx context.Context) {
			b.resolve(ctx, host)
			b.mu.Lock()
			e.refreshing = false
			b.mu.Unlock()
		})
	}
	return e.addrs
}

// matches reports whether ip is one of host's addresses. On a mismatch it
// looks host up once more (at most once per refreshMin) before saying no:
// the peer may have come back at a new address. With background set, that
// lookup runs through it and matches says no at once: the datagram reader
// must not wait on a resolver (a spoofed source would stall heartbeats),
// and a peer's next heartbeat, a second later, matches the new answer. A
// loopback ip matches a name that resolves to any loopback address (see
// holds); an IP literal only matches itself.
func (b *addrBook) matches(ctx context.Context, host string, ip netip.Addr, background func(func(context.Context))) bool {
	ip = ip.Unmap().WithZone("")
	if a, ok := literal(host); ok {
		return a == ip
	}
	b.mu.Lock()
	e := b.entry(host)
	if holds(e.addrs, ip) {
		b.mu.Unlock()
		return true
	}
	stale := time.Since(e.at) >= refreshMin
	if stale {
		e.at = time.Now() // claim the lookup: concurrent mismatches wait for the next slot
	}
	b.mu.Unlock()
	if !stale {
		return false
	}
	if background != nil {
		background(func(ctx context.Context) { b.resolve(ctx, host) })
		return false
	}
	addrs, err := b.resolve(ctx, host)
	return err == nil && holds(addrs, ip)
}

// holds reports whether a message from ip may come from a host name that
// resolves to addrs: ip is one of them, or ip and one of them are loopback
// addresses. A peer whose name resolves to a loopback address other than
// 127.0.0.1 (many systems map their own host name to 127.0.1.1) listens on
// every address (see ownAddr), and the kernel then sends its connections
// and datagrams to any loopback address from 127.0.0.1. Only a process on
// this machine can send from a loopback address, and any such process can
// bind whichever one it likes, so this trusts no one new.
func holds(addrs []netip.Addr, ip netip.Addr) bool {
	if ip.IsLoopback() {
		return slices.ContainsFunc(addrs, netip.Addr.IsLoopback)
	}
	return slices.Contains(addrs, ip)
}

// checkIdentity reports whether a message from src, over transport tr,
// may come from peer from. A datagram must come from from's UDP address,
// port included: heartbeats are sent from the bound UDP socket. A stream's
// remote port is ephemeral, so only its IP is compared with from's host.
func (r *runtime) checkIdentity(ctx context.Context, from protocol.PeerID, src netip.AddrPort, tr protocol.Transport) bool {
	a := r.addrs[from]
	if tr == protocol.Datagram {
		return src.Port() == a.udpPort && r.book.matches(ctx, a.udpHost, src.Addr(), r.spawn)
	}
	return r.book.matches(ctx, a.tcpHost, src.Addr(), nil)
}
