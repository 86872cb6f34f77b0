package netrt

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

func TestParseHosts_Good(t *testing.T) {
	for _, tc := range []struct {
		name string
		data string
		want Hosts
	}{
		{
			name: "names with default ports",
			data: "one\ntwo\n",
			want: Hosts{
				{ID: 1, Name: "one", TCPAddr: "one:8080", UDPAddr: "one:8081", Line: 1, File: "f"},
				{ID: 2, Name: "two", TCPAddr: "two:8080", UDPAddr: "two:8081", Line: 2, File: "f"},
			},
		},
		{
			name: "comments blanks and spaces",
			data: "# the cluster\n\n  one   # the first\n\t\n#two\nthree\r\n",
			want: Hosts{
				{ID: 1, Name: "one", TCPAddr: "one:8080", UDPAddr: "one:8081", Line: 3, File: "f"},
				{ID: 2, Name: "three", TCPAddr: "three:8080", UDPAddr: "three:8081", Line: 6, File: "f"},
			},
		},
		{
			name: "ports",
			data: "127.0.0.1:7000\n127.0.0.1:7001:7101\n",
			want: Hosts{
				{ID: 1, Name: "127.0.0.1", TCPAddr: "127.0.0.1:7000", UDPAddr: "127.0.0.1:8081", Line: 1, File: "f"},
				{ID: 2, Name: "127.0.0.1", TCPAddr: "127.0.0.1:7001", UDPAddr: "127.0.0.1:7101", Line: 2, File: "f"},
			},
		},
		{
			name: "IPv6",
			data: "[::1]:7000:7100\n::2\n[::3]\n",
			want: Hosts{
				{ID: 1, Name: "::1", TCPAddr: "[::1]:7000", UDPAddr: "[::1]:7100", Line: 1, File: "f"},
				{ID: 2, Name: "::2", TCPAddr: "[::2]:8080", UDPAddr: "[::2]:8081", Line: 2, File: "f"},
				{ID: 3, Name: "::3", TCPAddr: "[::3]:8080", UDPAddr: "[::3]:8081", Line: 3, File: "f"},
			},
		},
		{
			name: "same host other ports",
			data: "one:7000:7100\none:7001:7101\n",
			want: Hosts{
				{ID: 1, Name: "one", TCPAddr: "one:7000", UDPAddr: "one:7100", Line: 1, File: "f"},
				{ID: 2, Name: "one", TCPAddr: "one:7001", UDPAddr: "one:7101", Line: 2, File: "f"},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseHosts([]byte(tc.data), "f", 8080, 8081)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseHosts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseHosts_Bad(t *testing.T) {
	var tooMany strings.Builder
	for i := range protocol.MaxPeers + 1 {
		fmt.Fprintf(&tooMany, "h%d\n", i)
	}
	for _, tc := range []struct {
		name string
		data string
		want string // the error's beginning: file and line
		also string // more of the error
	}{
		{"empty", "", "f: no hosts", ""},
		{"only comments", "# one\n\n   # two\n", "f: no hosts", ""},
		{"bad port", "one\ntwo:http\n", "f:2: ", `bad TCP port "http"`},
		{"port zero", "one:0\n", "f:1: ", `bad TCP port "0"`},
		{"port too large", "one:65536\n", "f:1: ", `bad TCP port "65536"`},
		{"bad udp port", "one:7000:x\n", "f:1: ", `bad UDP port "x"`},
		{"empty port", "one:\n", "f:1: ", `bad TCP port ""`},
		{"empty tcp port", "one::7000\n", "f:1: ", `bad TCP port ""`},
		{"signed port", "one:+7000\n", "f:1: ", `bad TCP port "+7000"`},
		{"too many fields", "one:1:2:3\n", "f:1: ", "too many fields"},
		{"empty host", ":7000\n", "f:1: ", "empty host name"},
		{"bad host", "one/two\n", "f:1: ", "bad host name"},
		{"space in host", "one two\n", "f:1: ", "bad host name"},
		{"unclosed bracket", "[::1:7000\n", "f:1: ", "missing ]"},
		{"not IPv6 in brackets", "[one]:7000\n", "f:1: ", "not an IPv6 address"},
		{"junk after bracket", "[::1]x\n", "f:1: ", "after ]"},
		{"duplicate host", "one\ntwo\nONE\n", "f:3: ", "duplicate host ONE:8080 (TCP), first on line 1"},
		{"duplicate host:port", "one:7000:7100\none:7000:7200\n", "f:2: ", "duplicate host one:7000"},
		{"duplicate udp", "one:7000:7100\none:7001:7100\n", "f:2: ", "duplicate host one:7100 (UDP)"},
		{"duplicate default udp", "one:7000\none:7001\n", "f:2: ", "duplicate host one:8081 (UDP)"},
		{"too many hosts", tooMany.String(), fmt.Sprintf("f:%d: ", protocol.MaxPeers+1), "more than 1024 hosts"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseHosts([]byte(tc.data), "f", 8080, 8081)
			if err == nil {
				t.Fatal("ParseHosts succeeded")
			}
			if !strings.HasPrefix(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.also) {
				t.Errorf("error %q, want it to start with %q and contain %q", err, tc.want, tc.also)
			}
		})
	}
}

func TestParseHosts_BadDefaultPort(t *testing.T) {
	if _, err := ParseHosts([]byte("one:7000\n"), "f", 8080, 0); err == nil || !strings.HasPrefix(err.Error(), "f:1: ") {
		t.Errorf("a line relying on default UDP port 0: error %v, want one naming f:1", err)
	}
	if _, err := ParseHosts([]byte("one:7000:7001\n"), "f", 0, 0); err != nil {
		t.Errorf("a line giving both ports needs no default: %v", err)
	}
}

func TestReadHosts_File(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hosts")
	if err := os.WriteFile(path, []byte("one\ntwo:9000\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadHosts(path, 8080, 8081)
	if err != nil {
		t.Fatal(err)
	}
	want := Hosts{
		{ID: 1, Name: "one", TCPAddr: "one:8080", UDPAddr: "one:8081", Line: 1, File: path},
		{ID: 2, Name: "two", TCPAddr: "two:9000", UDPAddr: "two:8081", Line: 2, File: path},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadHosts (-want +got):\n%s", diff)
	}

	missing := filepath.Join(dir, "nope")
	if _, err := ReadHosts(missing, 8080, 8081); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: error %v, want one naming %s", err, missing)
	}
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	if _, err := ReadHosts(empty, 8080, 8081); err == nil || !strings.HasPrefix(err.Error(), empty+": ") {
		t.Errorf("empty file: error %v, want one naming %s", err, empty)
	}
}

// ReadHosts reads at most MaxHostsFileSize bytes: a file of exactly that
// size is read, a larger one, or one without an end, is refused at once.
func TestReadHosts_SizeLimit(t *testing.T) {
	dir := t.TempDir()
	// One host line, padded with a comment to the byte.
	line := "127.0.0.1 #"
	fits := filepath.Join(dir, "fits")
	if err := os.WriteFile(fits, []byte(line+strings.Repeat("x", MaxHostsFileSize-len(line)-1)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hosts, err := ReadHosts(fits, 8080, 8081)
	if err != nil {
		t.Fatalf("a file of exactly %d bytes: %v", MaxHostsFileSize, err)
	}
	want := Hosts{{ID: 1, Name: "127.0.0.1", TCPAddr: "127.0.0.1:8080", UDPAddr: "127.0.0.1:8081", Line: 1, File: fits}}
	if diff := cmp.Diff(want, hosts); diff != "" {
		t.Errorf("a file of exactly %d bytes (-want +got):\n%s", MaxHostsFileSize, diff)
	}

	large := filepath.Join(dir, "large")
	if err := os.WriteFile(large, []byte(line+strings.Repeat("x", MaxHostsFileSize-len(line))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{large, "/dev/zero"} {
		if path == "/dev/zero" {
			if _, err := os.Stat(path); err != nil {
				t.Logf("skipping %s: %v", path, err)
				continue
			}
		}
		start := time.Now()
		_, err := ReadHosts(path, 8080, 8081)
		want := fmt.Sprintf("hosts file %s: larger than %d bytes", path, MaxHostsFileSize)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ReadHosts(%s) error (-want +got):\n%s", path, diff)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("ReadHosts(%s) took %v", path, took)
		}
	}
}

// fakeLookup resolves from a table, as DNS would.
func fakeLookup(table map[string][]netip.Addr) func(context.Context, string) ([]netip.Addr, error) {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		if addrs, ok := table[host]; ok {
			return addrs, nil
		}
		return nil, fmt.Errorf("lookup %s: no such host", host)
	}
}

func TestFindSelf(t *testing.T) {
	hosts, err := ParseHosts([]byte("one\ntwo\n10.0.0.3\n10.0.0.4\nlocalhost:9000\n"), "cluster.txt", 8080, 8081)
	if err != nil {
		t.Fatal(err)
	}
	dns := fakeLookup(map[string][]netip.Addr{
		"one": {netip.MustParseAddr("172.18.0.2")},
		"two": {netip.MustParseAddr("172.18.0.3"), netip.MustParseAddr("fd00::3")},
	})
	for _, tc := range []struct {
		name     string
		hosts    Hosts
		hostname string
		addrs    []string
		want     protocol.PeerID
	}{
		{"by name", hosts, "two", nil, 2},
		{"by name, any case", hosts, "TWO", []string{"10.0.0.3"}, 2},
		{"by address", hosts, "box", []string{"192.168.1.1", "10.0.0.4"}, 4},
		{"first address line wins", hosts, "box", []string{"10.0.0.4", "10.0.0.3"}, 3},
		{"by address with prefix", hosts, "box", []string{"10.0.0.3/24"}, 3},
		{"localhost", hosts, "box", []string{"192.168.1.1"}, 5},
		{"by resolved name", hosts[:4], "c0ffee", []string{"127.0.0.1", "fd00::3"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.hosts.findSelfWith(tc.hostname, tc.addrs, dns)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("FindSelf = %d, want %d", got, tc.want)
			}
		})
	}

	_, err = hosts[:4].findSelfWith("box", []string{"192.168.1.1"}, dns)
	if want := "own host box is not in cluster.txt"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("FindSelf of a stranger: error %v, want %q", err, want)
	}
}

// FuzzParseHosts: no hosts file makes ParseHosts panic; every error names
// the file and a line (or says the file holds no hosts); every accepted
// file gives ids 1..n in order, each with both addresses.
func FuzzParseHosts(f *testing.F) {
	for _, s := range []string{"one\ntwo\n", "127.0.0.1:9000:9001\n# c\n\n127.0.0.2\n", "[::1]:1:2\n", "a:b\n",
		"a:70000\n", "a\na\n", "a:1:2:3\n", "\n#only\n", "[::1\n", "host # trailing\n"} {
		f.Add([]byte(s))
	}
	lineError := regexp.MustCompile(`^fuzz-hosts(:[0-9]+)?: `)
	f.Fuzz(func(t *testing.T, data []byte) {
		hosts, err := ParseHosts(data, "fuzz-hosts", 8080, 8081)
		if err != nil {
			if !lineError.MatchString(err.Error()) {
				t.Fatalf("error does not name the file and line: %v", err)
			}
			return
		}
		if len(hosts) == 0 || len(hosts) > protocol.MaxPeers {
			t.Fatalf("accepted %d hosts", len(hosts))
		}
		for i, h := range hosts {
			if h.ID != protocol.PeerID(i+1) || h.TCPAddr == "" || h.UDPAddr == "" || h.Line < 1 {
				t.Fatalf("host %d: %+v", i, h)
			}
		}
	})
}
