package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const testKeyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

func testKey() []byte {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	return key
}

func TestParseKey_Valid(t *testing.T) {
	for name, data := range map[string]string{
		"bare":       testKeyHex,
		"newline":    testKeyHex + "\n",
		"whitespace": " \t\n" + testKeyHex + " \r\n\n",
		"upper case": strings.ToUpper(testKeyHex),
	} {
		got, err := parseKey([]byte(data), "k")
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if diff := cmp.Diff(testKey(), got); diff != "" {
			t.Errorf("%s: key (-want +got):\n%s", name, diff)
		}
	}
}

func TestParseKey_Invalid(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
	}{
		{"empty", "", "found 0 characters"},
		{"short", testKeyHex[:62], "found 62 characters"},
		{"long", testKeyHex + "00", "found 66 characters"},
		{"not hex", "zz" + testKeyHex[2:], "invalid byte"},
		{"inner space", testKeyHex[:32] + " " + testKeyHex[33:], "invalid byte"},
		{"two keys", testKeyHex + "\n" + testKeyHex, "found 129 characters"},
	} {
		_, err := parseKey([]byte(tc.data), "/etc/memberly.key")
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), "/etc/memberly.key") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q, want the file and %q", tc.name, err, tc.want)
		}
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
	if diff := cmp.Diff(testKey(), got); diff != "" {
		t.Errorf("key (-want +got):\n%s", diff)
	}
}
