package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/netrt"
	"github.com/memberly/memberly/protocol"
)

const testKeyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

func testKey() []byte {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	return key
}

// otherKeyHex is a second key, for keyrings.
const otherKeyHex = "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100"

func otherKey() []byte {
	key := testKey()
	slices.Reverse(key)
	return key
}

func TestParseKeys_Valid(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       [][]byte
	}{
		{"bare", testKeyHex, [][]byte{testKey()}},
		{"newline", testKeyHex + "\n", [][]byte{testKey()}},
		{"whitespace", " \t\n" + testKeyHex + " \r\n\n", [][]byte{testKey()}},
		{"upper case", strings.ToUpper(testKeyHex), [][]byte{testKey()}},
		{"two keys", testKeyHex + "\n" + otherKeyHex + "\n", [][]byte{testKey(), otherKey()}},
		{"primary second in the file", otherKeyHex + "\n" + testKeyHex, [][]byte{otherKey(), testKey()}},
		{"comments and blank lines", "# new primary, since May\n\n" + otherKeyHex + "  # B\n  # old one\n" + testKeyHex + "\n\n",
			[][]byte{otherKey(), testKey()}},
	} {
		got, err := parseKeys([]byte(tc.data), "k")
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: keys (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestParseKeys_Invalid(t *testing.T) {
	const path = "/etc/memberly.key"
	for _, tc := range []struct {
		name, data, want string
	}{
		{"empty", "", path + ": no key (every line is blank or a comment); want 64 hex digits on a line"},
		{"comments only", "# no key yet\n\n", path + ": no key (every line is blank or a comment); want 64 hex digits on a line"},
		{"short", testKeyHex[:62], path + ":1: want 64 hex digits (a 32-byte key), found 62 characters"},
		{"long", testKeyHex + "00", path + ":1: want 64 hex digits (a 32-byte key), found 66 characters"},
		{"not hex", "zz" + testKeyHex[2:], path + ":1: want 64 hex digits: encoding/hex: invalid byte: U+007A 'z'"},
		{"inner space", testKeyHex[:32] + " " + testKeyHex[33:], path + ":1: want 64 hex digits: encoding/hex: invalid byte: U+0020 ' '"},
		{"two keys on a line", testKeyHex + " " + otherKeyHex, path + ":1: want 64 hex digits (a 32-byte key), found 129 characters"},
		{"bad second key", "# ring\n" + testKeyHex + "\n\n" + otherKeyHex[:63] + "\n", path + ":4: want 64 hex digits (a 32-byte key), found 63 characters"},
		{"repeated key", testKeyHex + "\n" + otherKeyHex + "\n" + strings.ToUpper(testKeyHex), path + ":3: the same key as line 1"},
	} {
		_, err := parseKeys([]byte(tc.data), path)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if diff := cmp.Diff("key file "+tc.want, got); diff != "" {
			t.Errorf("%s: error (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestGenKey_RandomHexKey(t *testing.T) {
	a, err := genKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, err := genKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := parseKeys([]byte(a+"\n"+b+"\n"), "generated")
	if err != nil {
		t.Fatalf("two generated keys do not make a key file: %v", err)
	}
	if diff := cmp.Diff(2, len(keys)); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	if _, err := genKey(strings.NewReader("short")); err == nil || !strings.Contains(err.Error(), "-gen-key") {
		t.Errorf("genKey from an exhausted source: error %v, want one naming -gen-key", err)
	}
}

func TestReadKeyFile_Errors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, bytes.Repeat([]byte("0"), 10000), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "missing"), "no such file"},
		{big, "larger than"},
		{dir, "is a directory"},
	} {
		_, err := readKeyFile(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "key file") {
			t.Errorf("readKeyFile(%s) error %v, want %q", tc.path, err, tc.want)
		}
	}
}

func TestReadKeyFile_Valid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(path, []byte(testKeyHex+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := readKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]byte{testKey()}, got); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
}

// statefulSetHosts is the hosts file of docker/k8s/memberly.yaml's shape:
// each line a pod's DNS name under the headless service, with its ports.
const statefulSetHosts = "# the universe\nmemberly-0.memberly:8080:8081\nmemberly-1.memberly:8080:8081\n\nmemberly-2.memberly.default.svc.cluster.local:8080:8081\n"

func TestFindByFirstLabel_Matches(t *testing.T) {
	for _, tc := range []struct {
		name, hosts, hostname string
		want                  protocol.PeerID
	}{
		{"statefulset pod", statefulSetHosts, "memberly-1", 2},
		{"first pod", statefulSetHosts, "memberly-0", 1},
		{"fully qualified line", statefulSetHosts, "memberly-2", 3},
		{"any case", statefulSetHosts, "Memberly-1", 2},
		// netrt's FindSelf takes a line naming the host whole first: this
		// step must leave it that line, not the dotted one.
		{"whole name left to netrt", "box.example.com\nbox\n", "box", 0},
		{"no line", statefulSetHosts, "memberly-3", 0},
		{"a label further on is not the host", "db.memberly-1.example\n", "memberly-1", 0},
		{"prefix of a label", "memberly-10.memberly\n", "memberly-1", 0},
		{"IP literal", "10.0.0.1\n10.0.0.2\n", "10", 0},
		{"dotted host name", statefulSetHosts, "memberly-1.memberly", 0},
		{"no host name", statefulSetHosts, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hosts, err := netrt.ParseHosts([]byte(tc.hosts), "hosts.txt", 8080, 8081)
			if err != nil {
				t.Fatal(err)
			}
			got, err := findByFirstLabel(hosts, tc.hostname)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("id (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFindByFirstLabel_Ambiguous: two lines under one first label are an
// error naming both, never the first of them.
func TestFindByFirstLabel_Ambiguous(t *testing.T) {
	hosts, err := netrt.ParseHosts([]byte("node1.rack1\nnode2.rack1\n# rack 2\nNODE1.rack2:9000\n"), "/etc/memberly/hosts.txt", 8080, 8081)
	if err != nil {
		t.Fatal(err)
	}
	id, err := findByFirstLabel(hosts, "node1")
	got := ""
	if err != nil {
		got = err.Error()
	}
	want := "own host node1 is the first label of 2 lines of /etc/memberly/hosts.txt: line 1 (node1.rack1), line 4 (NODE1.rack2)"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
	if id != 0 {
		t.Errorf("id %d with the error, want 0", id)
	}
}
