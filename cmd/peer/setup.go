package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/netrt"
	"github.com/memberly/memberly/protocol"
)

// keySize is the AES-256 key length netrt seals traffic with.
const keySize = 32

// maxKeyFile bounds what is read of a key file: a key is a line of 64 hex
// digits, and a file holds a few of them during a rotation; a path to
// something endless (/dev/zero, say) must not fill the memory.
const maxKeyFile = 4096

// identity is what the command line resolves to once the hosts file and the
// key file have been read.
type identity struct {
	hosts netrt.Hosts
	id    protocol.PeerID
	keys  [][]byte // the keyring, primary first; nil: traffic in the clear
	// adminToken is what POST /evict and /leave require; "" serves them
	// on loopback connections only.
	adminToken string
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
		if ident.keys, err = readKeyFile(cfg.keyFile); err != nil {
			return ident, err
		}
	}
	if cfg.httpTokenFile != "" {
		if ident.adminToken, err = readTokenFile(cfg.httpTokenFile); err != nil {
			return ident, err
		}
	}
	return ident, nil
}

// readTokenFile reads the token of -http-token-file: its first line,
// without surrounding whitespace; at least 16 characters, so that it
// cannot be guessed by trying.
func readTokenFile(path string) (string, error) {
	data, err := readSmallFile(path, "token file", "one line")
	if err != nil {
		return "", err
	}
	first, _, _ := strings.Cut(string(data), "\n")
	token := strings.TrimSpace(first)
	if len(token) < minTokenLen {
		return "", errors.Errorf("token file %s:1: want a token of at least %d characters (peer -gen-key prints one), found %d", path, minTokenLen, len(token))
	}
	return token, nil
}

// minTokenLen is the shortest -http-token-file token accepted.
const minTokenLen = 16

// findSelf finds this machine's line in hosts by its host name, else by one
// of its interface addresses.
func findSelf(hosts netrt.Hosts) (protocol.PeerID, error) {
	hostname, err := os.Hostname()
	if err != nil {
		return 0, errors.Wrap(err, "host name")
	}
	if id, err := findByFirstLabel(hosts, hostname); id != 0 || err != nil {
		return id, err
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

// findByFirstLabel returns the id of the one line whose host is a DNS name
// whose first label is hostname (case aside), as a Kubernetes StatefulSet
// pod, whose host name is memberly-0, finds the line
// memberly-0.memberly:8080:8081 naming it under its headless service. The
// host name is what the pod owns; its address changes when it is
// rescheduled, and a name that still resolves to the old one, or another
// pod's old address it was given, must not choose its id.
//
// It returns 0 and no error when no line matches, and when a line names
// hostname whole: netrt's FindSelf takes that line first, and then tries
// addresses. Two or more matching lines are an error naming them: which
// one is this peer's is not for a guess.
func findByFirstLabel(hosts netrt.Hosts, hostname string) (protocol.PeerID, error) {
	if hostname == "" || strings.Contains(hostname, ".") {
		// A dotted host name is never a first label; netrt compares it whole.
		return 0, nil
	}
	var matches []netrt.Host
	for _, h := range hosts {
		if strings.EqualFold(h.Name, hostname) {
			return 0, nil
		}
		if _, err := netip.ParseAddr(h.Name); err == nil {
			continue // 10.0.0.1's first label is no host name
		}
		if label, _, dotted := strings.Cut(h.Name, "."); dotted && strings.EqualFold(label, hostname) {
			matches = append(matches, h)
		}
	}
	switch len(matches) {
	case 0:
		return 0, nil
	case 1:
		return matches[0].ID, nil
	}
	file := "the hosts file"
	if matches[0].File != "" {
		file = matches[0].File
	}
	lines := make([]string, len(matches))
	for i, h := range matches {
		lines[i] = fmt.Sprintf("line %d (%s)", h.Line, h.Name)
	}
	return 0, errors.Errorf("own host %s is the first label of %d lines of %s: %s", hostname, len(matches), file, strings.Join(lines, ", "))
}

// readKeyFile reads a key file (see parseKeys).
func readKeyFile(path string) ([][]byte, error) {
	data, err := readSmallFile(path, "key file", fmt.Sprintf("a few lines of %d hex digits", 2*keySize))
	if err != nil {
		return nil, err
	}
	return parseKeys(data, path)
}

// readSmallFile reads a file of secrets (what names it: "key file"), of
// at most maxKeyFile bytes: a larger one is refused, saying what it
// should hold (want), rather than read whole.
func readSmallFile(path, what, want string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, what)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, errors.Wrapf(err, "%s %s", what, path)
	}
	if len(data) > maxKeyFile {
		return nil, errors.Errorf("%s %s: larger than %d bytes; want %s", what, path, maxKeyFile, want)
	}
	return data, nil
}

// parseKeys decodes a key file's contents: one key per line, 64 hex
// digits (32 bytes), surrounding whitespace allowed; blank lines and #
// comments are skipped. The first key seals, and all of them open (see
// netrt.Options.Keys). Errors name the file and the line, as
// "key file path:line: ...". path is for messages.
func parseKeys(data []byte, path string) ([][]byte, error) {
	var keys [][]byte
	lineOf := map[string]int{} // key, as decoded, to its line
	for i, raw := range strings.Split(string(data), "\n") {
		line := i + 1
		text, _, _ := strings.Cut(raw, "#")
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		if len(text) != 2*keySize {
			return nil, errors.Errorf("key file %s:%d: want %d hex digits (a %d-byte key), found %d characters", path, line, 2*keySize, keySize, len(text))
		}
		key, err := hex.DecodeString(text)
		if err != nil {
			return nil, errors.Errorf("key file %s:%d: want %d hex digits: %v", path, line, 2*keySize, err)
		}
		if first, dup := lineOf[string(key)]; dup {
			return nil, errors.Errorf("key file %s:%d: the same key as line %d", path, line, first)
		}
		lineOf[string(key)] = line
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, errors.Errorf("key file %s: no key (every line is blank or a comment); want %d hex digits on a line", path, 2*keySize)
	}
	return keys, nil
}

// genKey returns a new random key from rand (crypto/rand's reader), as
// the 64 hex digits of a key file's line.
func genKey(rand io.Reader) (string, error) {
	key := make([]byte, keySize)
	if _, err := io.ReadFull(rand, key); err != nil {
		return "", errors.Wrap(err, "-gen-key: reading random bytes")
	}
	return hex.EncodeToString(key), nil
}
