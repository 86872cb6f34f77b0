package netrt

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"

	"github.com/pkg/errors"
)

// bindings are the sockets Listen binds.
type bindings struct {
	tcp net.Listener
	udp *net.UDPConn
	// localIP is the address the TCP listener is bound to, which dials
	// use as their source; invalid when it listens on every address.
	localIP netip.Addr
}

// bind binds this peer's TCP and UDP sockets. Each goes on the own host's
// address when that is an address of this machine: several peers can then
// share a machine on 127.0.0.1, 127.0.0.2, ... with the same ports, and
// their datagrams leave from the address the others expect. Otherwise (the
// name does not resolve, or to an address held elsewhere, as behind NAT)
// it listens on every address, with the own ports.
//
// With broadcast, UDP always listens on every IPv4 address: a socket bound
// to one unicast address does not receive broadcasts.
func bind(self peerAddr, broadcast bool) (bindings, error) {
	var b bindings
	tcp, ip, err := listenTCP(self.tcpHost, self.tcpPort)
	if err != nil {
		return b, err
	}
	b.tcp, b.localIP = tcp, ip
	if broadcast {
		b.udp, err = listenBroadcast(self.udpPort)
	} else {
		b.udp, err = listenUDP(self.udpHost, self.udpPort)
	}
	if err != nil {
		tcp.Close()
		return bindings{}, err
	}
	// Best effort: the kernel caps it (net.core.rmem_max on Linux), and
	// a smaller buffer still works.
	_ = b.udp.SetReadBuffer(udpReadBuffer)
	return b, nil
}

// udpReadBuffer is the receive buffer asked for the UDP socket. The reader
// drains junk about as fast as one core sends it, but not while it waits
// for a core: the buffer holds what arrives meanwhile, heartbeats among
// the junk, rather than dropping it. 4 MiB (Linux doubles it) holds some
// 6,500 small datagrams, as the kernel counts each at several times its
// size: 20 ms of a flood from one core.
const udpReadBuffer = 4 << 20

// ownAddr resolves the own host name, IPv4 first; false when it does not
// resolve, or resolves to a loopback address although it is neither a
// literal nor "localhost": many systems map their own host name to
// 127.0.1.1 in /etc/hosts, while the other peers reach that name at a LAN
// address.
func ownAddr(host string) (netip.Addr, bool) {
	if a, ok := literal(host); ok {
		return a, true
	}
	addrs, err := lookupHost(context.Background(), host)
	if err != nil || len(addrs) == 0 {
		return netip.Addr{}, false
	}
	if addrs[0].IsLoopback() && !strings.EqualFold(host, "localhost") {
		return netip.Addr{}, false
	}
	return addrs[0], true
}

// notLocal reports whether a bind failed because the address is not one
// of this machine's.
func notLocal(err error) bool { return errors.Is(err, syscall.EADDRNOTAVAIL) }

func listenTCP(host string, port uint16) (net.Listener, netip.Addr, error) {
	if ip, ok := ownAddr(host); ok {
		ln, err := net.Listen("tcp", netip.AddrPortFrom(ip, port).String())
		if err == nil {
			return ln, ip, nil
		}
		if !notLocal(err) {
			return nil, netip.Addr{}, err
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(int(port))))
	if err != nil {
		return nil, netip.Addr{}, err
	}
	return ln, netip.Addr{}, nil
}

func listenUDP(host string, port uint16) (*net.UDPConn, error) {
	if ip, ok := ownAddr(host); ok {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, port)))
		if err == nil {
			return c, nil
		}
		if !notLocal(err) {
			return nil, err
		}
	}
	return net.ListenUDP("udp", &net.UDPAddr{Port: int(port)})
}

func listenBroadcast(port uint16) (*net.UDPConn, error) {
	lc := net.ListenConfig{Control: setBroadcast}
	pc, err := lc.ListenPacket(context.Background(), "udp4", net.JoinHostPort("0.0.0.0", strconv.Itoa(int(port))))
	if err != nil {
		return nil, err
	}
	return pc.(*net.UDPConn), nil
}
