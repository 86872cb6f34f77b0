package main

import (
	"encoding/hex"
	"io"
	"net"
	"os"
	"strings"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/netrt"
	"github.com/memberly/memberly/protocol"
)

// keySize is the AES-256 key length netrt seals traffic with.
const keySize = 32

// maxKeyFile bounds what is read of a key file: a key is 64 hex digits, and
// a path to something endless (/dev/zero, say) must not fill the memory.
const maxKeyFile = 4096

// identity is what the command line resolves to once the hosts file and the
// key file have been read.
type identity struct {
	hosts netrt.Hosts
	id    protocol.PeerID
	key   []byte // nil: traffic in the clear
}

// resolve reads the files cfg names and finds this peer's id.
func resolve(cfg config) (identity, error) {
	var ident identity
	hosts, err := netrt.ReadHosts(cfg.hostsFile, cfg.tcpPort, cfg.udpPort)
	if err != nil {
		return ident, err
	}
	ident.hosts = hosts
	if cfg.id != 0 {
		if cfg.id > len(hosts) {
			return ident, errors.Errorf("-id %d: %s lists %d hosts, want an id in 1..%d", cfg.id, cfg.hostsFile, len(hosts), len(hosts))
		}
		ident.id = protocol.PeerID(cfg.id)
	} else if ident.id, err = findSelf(hosts); err != nil {
		// FindSelf's error names the file and the host already.
		return ident, errors.Errorf("%v; -id chooses a line", err)
	}
	if cfg.keyFile != "" {
		if ident.key, err = readKeyFile(cfg.keyFile); err != nil {
			return ident, err
		}
	}
	return ident, nil
}

// findSelf finds this machine's line in hosts by its host name, else by one
// of its interface addresses.
func findSelf(hosts netrt.Hosts) (protocol.PeerID, error) {
	hostname, err := os.Hostname()
	if err != nil {
		return 0, errors.Wrap(err, "host name")
	}
	ifaddrs, err := net.InterfaceAddrs()
	if err != nil {
		return 0, errors.Wrap(err, "interface addresses")
	}
	addrs := make([]string, 0, len(ifaddrs))
	for _, a := range ifaddrs {
		switch a := a.(type) {
		case *net.IPNet:
			addrs = append(addrs, a.IP.String())
		case *net.IPAddr:
			addrs = append(addrs, a.IP.String())
		}
	}
	return hosts.FindSelf(hostname, addrs)
}

// readKeyFile reads a key file: 64 hex digits, surrounding whitespace
// allowed.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "key file")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, errors.Wrapf(err, "key file %s", path)
	}
	if len(data) > maxKeyFile {
		return nil, errors.Errorf("key file %s: want %d hex digits, the file is larger than %d bytes", path, 2*keySize, maxKeyFile)
	}
	return parseKey(data, path)
}

// parseKey decodes a key file's contents; path is for messages.
func parseKey(data []byte, path string) ([]byte, error) {
	s := strings.TrimSpace(string(data))
	if len(s) != 2*keySize {
		return nil, errors.Errorf("key file %s: want %d hex digits (a %d-byte key), found %d characters", path, 2*keySize, keySize, len(s))
	}
	key, err := hex.DecodeString(s)
	if err != nil {
		return nil, errors.Errorf("key file %s: want %d hex digits: %v", path, 2*keySize, err)
	}
	return key, nil
}
