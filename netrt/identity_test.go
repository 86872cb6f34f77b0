package netrt

import (
	"context"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAddrBookMatches_Sources(t *testing.T) {
	book := newAddrBook()
	book.lookup = fakeLookup(map[string][]netip.Addr{
		// A name many systems give their own host, in /etc/hosts.
		"self":   {netip.MustParseAddr("127.0.1.1")},
		"local6": {netip.MustParseAddr("::1")},
		"remote": {netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("fd00::5")},
	})
	for _, tc := range []struct {
		name string
		host string
		src  string
		want bool
	}{
		{"name, its address", "self", "127.0.1.1", true},
		// A peer named self listens on every address, and the kernel
		// sends from 127.0.0.1 to any loopback address.
		{"loopback name, 127.0.0.1", "self", "127.0.0.1", true},
		{"loopback name, mapped 127.0.0.1", "self", "::ffff:127.0.0.1", true},
		{"IPv6 loopback name, 127.0.0.1", "local6", "127.0.0.1", true},
		{"loopback name, LAN address", "self", "10.0.0.5", false},
		{"remote name, its address", "remote", "10.0.0.5", true},
		{"remote name, its IPv6 address", "remote", "fd00::5", true},
		{"remote name, another address", "remote", "10.0.0.6", false},
		{"remote name, loopback", "remote", "127.0.0.1", false},
		{"unresolvable name", "gone", "127.0.0.1", false},
		{"literal, itself", "127.0.0.2", "127.0.0.2", true},
		{"literal, another loopback address", "127.0.0.2", "127.0.0.1", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := book.matches(context.Background(), tc.host, netip.MustParseAddr(tc.src), nil)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("matches(%s, %s) (-want +got):\n%s", tc.host, tc.src, diff)
			}
		})
	}
}

// TestAddrBookMatches_MovedHost: a host that comes back at a new address
// (a restarted container) is looked up again and matches there.
func TestAddrBookMatches_MovedHost(t *testing.T) {
	table := map[string][]netip.Addr{"two": {netip.MustParseAddr("172.18.0.3")}}
	book := newAddrBook()
	book.lookup = fakeLookup(table)
	ctx := context.Background()
	if !book.matches(ctx, "two", netip.MustParseAddr("172.18.0.3"), nil) {
		t.Fatal("the first address does not match")
	}
	table["two"] = []netip.Addr{netip.MustParseAddr("172.18.0.7")}
	// Lookups forced by a mismatch come at most once per refreshMin: let
	// the last one be older than that.
	book.mu.Lock()
	book.entries["two"].at = book.entries["two"].at.Add(-refreshMin)
	book.mu.Unlock()
	if !book.matches(ctx, "two", netip.MustParseAddr("172.18.0.7"), nil) {
		t.Error("the new address does not match")
	}
	if book.matches(ctx, "two", netip.MustParseAddr("172.18.0.3"), nil) {
		t.Error("the old address still matches")
	}
}

// TestAddrBookMatches_MovedHostInBackground: for datagrams the lookup a
// mismatch forces runs in the background; the mismatch is refused at once
// and the next datagram from the new address matches.
func TestAddrBookMatches_MovedHostInBackground(t *testing.T) {
	table := map[string][]netip.Addr{"two": {netip.MustParseAddr("172.18.0.3")}}
	book := newAddrBook()
	book.lookup = fakeLookup(table)
	ctx := context.Background()
	var pending []func(context.Context)
	background := func(f func(context.Context)) { pending = append(pending, f) }
	first := netip.MustParseAddr("172.18.0.3")
	// Nothing is known of "two" yet: the first datagram starts the lookup.
	if book.matches(ctx, "two", first, background) || len(pending) != 1 {
		t.Fatalf("before any lookup: matched, or %d lookups started, want 1", len(pending))
	}
	pending[0](ctx)
	pending = nil
	if !book.matches(ctx, "two", first, background) {
		t.Fatal("the first address does not match")
	}
	table["two"] = []netip.Addr{netip.MustParseAddr("172.18.0.7")}
	book.mu.Lock()
	book.entries["two"].at = book.entries["two"].at.Add(-refreshMin)
	book.mu.Unlock()
	moved := netip.MustParseAddr("172.18.0.7")
	if book.matches(ctx, "two", moved, background) {
		t.Fatal("matched before the lookup ran")
	}
	if len(pending) != 1 {
		t.Fatalf("%d lookups started, want 1", len(pending))
	}
	pending[0](ctx)
	if !book.matches(ctx, "two", moved, background) {
		t.Error("the new address does not match after the lookup")
	}
}
