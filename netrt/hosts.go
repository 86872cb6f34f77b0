package netrt

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/protocol"
)

// parseHosts implements ParseHosts. Every error starts with "file:line:"
// (or "file:" when no line is at fault), as compilers do, so an editor can
// jump to it.
func parseHosts(data []byte, file string, tcpPort, udpPort int) (Hosts, error) {
	if file == "" {
		file = "hosts"
	}
	var hosts Hosts
	tcpSeen := map[string]int{} // host:port, lower-cased, to its line
	udpSeen := map[string]int{}
	for i, raw := range strings.Split(string(data), "\n") {
		line := i + 1
		text, _, _ := strings.Cut(raw, "#")
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		fail := func(format string, args ...any) error {
			return errors.Errorf("%s:%d: %s", file, line, fmt.Sprintf(format, args...))
		}
		name, ports, err := splitHostLine(text)
		if err != nil {
			return nil, fail("%q: %v", text, err)
		}
		tcp, err := portOf(ports, 0, tcpPort, "TCP")
		if err != nil {
			return nil, fail("%q: %v", text, err)
		}
		udp, err := portOf(ports, 1, udpPort, "UDP")
		if err != nil {
			return nil, fail("%q: %v", text, err)
		}
		if len(hosts) == protocol.MaxPeers {
			return nil, fail("more than %d hosts (protocol.MaxPeers)", protocol.MaxPeers)
		}
		h := Host{
			ID:      protocol.PeerID(len(hosts) + 1),
			Name:    name,
			TCPAddr: net.JoinHostPort(name, strconv.Itoa(tcp)),
			UDPAddr: net.JoinHostPort(name, strconv.Itoa(udp)),
			Line:    line,
			File:    file,
		}
		// Two lines with one address would be two ids for one process:
		// the second could never bind, and messages to it would reach
		// the first.
		if prev, dup := tcpSeen[strings.ToLower(h.TCPAddr)]; dup {
			return nil, fail("duplicate host %s (TCP), first on line %d", h.TCPAddr, prev)
		}
		if prev, dup := udpSeen[strings.ToLower(h.UDPAddr)]; dup {
			return nil, fail("duplicate host %s (UDP), first on line %d", h.UDPAddr, prev)
		}
		tcpSeen[strings.ToLower(h.TCPAddr)] = line
		udpSeen[strings.ToLower(h.UDPAddr)] = line
		hosts = append(hosts, h)
	}
	if len(hosts) == 0 {
		return nil, errors.Errorf("%s: no hosts (every line is blank or a comment)", file)
	}
	return hosts, nil
}

// readHosts implements ReadHosts.
func readHosts(path string, tcpPort, udpPort int) (Hosts, error) {
	f, err := os.Open(path)
	if err != nil {
		// The *PathError already names the file.
		return nil, errors.Wrap(err, "hosts file")
	}
	defer f.Close()
	// One byte more than the bound tells a file of exactly the bound
	// from a larger one.
	data, err := io.ReadAll(io.LimitReader(f, MaxHostsFileSize+1))
	if err != nil {
		return nil, errors.Wrapf(err, "hosts file %s", path)
	}
	if len(data) > MaxHostsFileSize {
		return nil, errors.Errorf("hosts file %s: larger than %d bytes", path, MaxHostsFileSize)
	}
	return parseHosts(data, path, tcpPort, udpPort)
}

// splitHostLine splits "host", "host:tcp" or "host:tcp:udp" into the host
// and its port fields (none, one or two). An IPv6 host is written in
// brackets ("[::1]:7000"), or bare when it has no ports.
func splitHostLine(s string) (host string, ports []string, err error) {
	var rest string
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", nil, errors.New("missing ] after IPv6 address")
		}
		host, rest = s[1:end], s[end+1:]
		if a, err := netip.ParseAddr(host); err != nil || !a.Is6() {
			return "", nil, errors.Errorf("%q in brackets is not an IPv6 address", host)
		}
		if rest != "" && rest[0] != ':' {
			return "", nil, errors.Errorf("unexpected %q after ]", rest)
		}
	default:
		if a, err := netip.ParseAddr(s); err == nil && a.Is6() {
			return s, nil, nil
		}
		i := strings.IndexByte(s, ':')
		if i < 0 {
			i = len(s)
		}
		host, rest = s[:i], s[i:]
		if host == "" {
			return "", nil, errors.New("empty host name")
		}
		if !validHostName(host) {
			return "", nil, errors.Errorf("bad host name %q", host)
		}
	}
	if rest == "" {
		return host, nil, nil
	}
	ports = strings.Split(rest[1:], ":")
	if len(ports) > 2 {
		return "", nil, errors.New("too many fields: want host, host:tcpport or host:tcpport:udpport")
	}
	return host, ports, nil
}

// validHostName accepts DNS names and IPv4 literals: letters, digits, '-',
// '.' and '_' (docker service names may hold underscores).
func validHostName(s string) bool {
	for _, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_':
		default:
			return false
		}
	}
	return true
}

// portOf parses port field i of ports, or takes def when the line has no
// such field.
func portOf(ports []string, i, def int, proto string) (int, error) {
	if i >= len(ports) {
		if def < 1 || def > 65535 {
			return 0, errors.Errorf("no %s port given and the default %d is not a port", proto, def)
		}
		return def, nil
	}
	field := ports[i]
	p, err := strconv.Atoi(field)
	if err != nil || p < 1 || p > 65535 || strconv.Itoa(p) != field {
		return 0, errors.Errorf("bad %s port %q (want 1..65535)", proto, field)
	}
	return p, nil
}

// findSelfTimeout bounds the DNS lookups of FindSelf.
const findSelfTimeout = 2 * time.Second

// findSelf implements FindSelf.
func (h Hosts) findSelf(hostname string, localAddrs []string) (protocol.PeerID, error) {
	return h.findSelfWith(hostname, localAddrs, lookupHost)
}

// findSelfWith tries, in this order: a line naming hostname; a line whose
// host is "localhost" or an IP literal among localAddrs; a line whose name
// resolves (with lookup) to one of localAddrs, as under docker, where a
// container's host name need not be its service name. Within each, the
// first line in the file wins.
func (h Hosts) findSelfWith(hostname string, localAddrs []string, lookup func(context.Context, string) ([]netip.Addr, error)) (protocol.PeerID, error) {
	if hostname != "" {
		for _, x := range h {
			if strings.EqualFold(x.Name, hostname) {
				return x.ID, nil
			}
		}
	}
	local := map[netip.Addr]bool{}
	for _, s := range localAddrs {
		// Accept "10.0.0.2/24" too: what net.InterfaceAddrs renders.
		if p, err := netip.ParsePrefix(s); err == nil {
			local[p.Addr().Unmap().WithZone("")] = true
		} else if a, err := netip.ParseAddr(s); err == nil {
			local[a.Unmap().WithZone("")] = true
		}
	}
	for _, x := range h {
		if strings.EqualFold(x.Name, "localhost") {
			return x.ID, nil
		}
		if a, ok := literal(x.Name); ok && local[a] {
			return x.ID, nil
		}
	}
	if id := h.resolvingTo(local, lookup); id != 0 {
		return id, nil
	}
	file := "the hosts file"
	if len(h) > 0 && h[0].File != "" {
		file = h[0].File
	}
	return 0, errors.Errorf("own host %s is not in %s (no line names it or one of its addresses)", hostname, file)
}

// resolvingTo returns the first line whose name resolves to one of local,
// or 0. The names are looked up concurrently (a few at a time), within
// findSelfTimeout all told; a name that does not resolve in time does not
// match.
func (h Hosts) resolvingTo(local map[netip.Addr]bool, lookup func(context.Context, string) ([]netip.Addr, error)) protocol.PeerID {
	if len(local) == 0 {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), findSelfTimeout)
	defer cancel()
	var (
		mu      sync.Mutex
		isLocal = map[string]bool{}
		wg      sync.WaitGroup
		slots   = make(chan struct{}, 16)
	)
	for _, x := range h {
		if _, ok := literal(x.Name); ok {
			continue
		}
		name := strings.ToLower(x.Name)
		mu.Lock()
		_, seen := isLocal[name]
		isLocal[name] = false
		mu.Unlock()
		if seen {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			addrs, err := lookup(ctx, name)
			ok := err == nil && slices.ContainsFunc(addrs, func(a netip.Addr) bool { return local[a.Unmap().WithZone("")] })
			mu.Lock()
			isLocal[name] = ok
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, x := range h {
		if isLocal[strings.ToLower(x.Name)] {
			return x.ID
		}
	}
	return 0
}
