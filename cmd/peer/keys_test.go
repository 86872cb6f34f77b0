package main

// Keyrings, their reload on SIGHUP, and rolling key rotation, with real
// peer processes and in-process runs.

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pkg/errors"

	"github.com/memberly/memberly/check"
	"github.com/memberly/memberly/netrt"
)

// Two keys, A and B, as key file lines.
const (
	keyA = testKeyHex
	keyB = otherKeyHex
)

// writeKeys writes a key file holding keys (hex), one per line, the first
// primary, under a comment.
func writeKeys(t *testing.T, path string, keys ...string) {
	t.Helper()
	data := "# keyring, primary first\n" + strings.Join(keys, "\n") + "\n"
	// Written aside and renamed over the file, as an operator should: a
	// peer reading it meanwhile sees the old keys or the new, never a
	// file cut short.
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// keyID is the id a sealed message carries for the key written as hex.
func keyID(t *testing.T, hexKey string) string {
	t.Helper()
	key, err := hex.DecodeString(hexKey)
	if err != nil {
		t.Fatal(err)
	}
	return netrt.KeyID(key)
}

// reloads returns the "keys reloaded" lines p printed so far.
func (p *proc) reloads() []check.OperatorLine {
	var ls []check.OperatorLine
	for _, l := range p.opLines() {
		if l.Msg == "keys reloaded" {
			ls = append(ls, l)
		}
	}
	return ls
}

// dropsAt sums, over the peers ids, their drops for each of reasons.
func dropsAt(c *cluster, ids []int, reasons ...string) (float64, error) {
	sum := 0.0
	for _, id := range ids {
		for _, r := range reasons {
			d, err := metric(c.httpAddr(id), "memberly_drops_total", `reason="`+r+`"`)
			if err != nil {
				return 0, err
			}
			sum += d
		}
	}
	return sum, nil
}

// waitHeartbeats waits until each of ids has received n more heartbeats
// than it had when called.
func waitHeartbeats(c *cluster, ids []int, n float64) {
	c.t.Helper()
	count := func(id int) (float64, error) {
		return metric(c.httpAddr(id), "memberly_messages_in_total", `type="HEARTBEAT"`)
	}
	before := map[int]float64{}
	for _, id := range ids {
		hb, err := count(id)
		if err != nil {
			c.t.Fatal(err)
		}
		before[id] = hb
	}
	c.waitFor(fmt.Sprintf("%v more heartbeats at peers %v", n, ids), func() error {
		for _, id := range ids {
			hb, err := count(id)
			if err != nil {
				return err
			}
			if hb < before[id]+n {
				return errors.Errorf("peer %d received %v heartbeats, want %v", id, hb-before[id], n)
			}
		}
		return nil
	})
}

// Peers whose key files hold the same two keys in either order work
// together: each seals with its own first key, and every peer opens both.
func TestKeys_MixedOrderOneView(t *testing.T) {
	skipShort(t)
	t.Parallel()
	c := newCluster(t, 4, fastTiming...)
	ab, ba := filepath.Join(c.dir, "ab.key"), filepath.Join(c.dir, "ba.key")
	writeKeys(t, ab, keyA, keyB)
	writeKeys(t, ba, keyB, keyA)
	for id := 1; id <= 4; id++ {
		file := ab
		if id%2 == 0 {
			file = ba
		}
		c.start(id, "-key-file", file, "-http", c.httpAddr(id))
	}
	c.waitView(ids(1, 4), members(1, 2, 3, 4), 1)
	waitHeartbeats(c, ids(1, 4), 10)
	d, err := dropsAt(c, ids(1, 4), "unknown-key", "bad-seal")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(0.0, d); diff != "" {
		t.Errorf("messages dropped for their key (-want +got):\n%s", diff)
	}
}

// A rolling rotation from key A to key B in a running cluster: every
// peer starts with [A]; each file is rewritten to [A,B], then [B,A], then
// [B], and every peer is sent SIGHUP after each step, while heartbeats
// flow. No peer installs a view or suspects anyone, and no message is
// dropped for its key. Afterwards a peer holding only A cannot join, nor be heard.
func TestKeys_RotationWithoutViewChange(t *testing.T) {
	skipShort(t)
	t.Parallel()
	c := newCluster(t, 5, fastTiming...)
	files := map[int]string{}
	for id := 1; id <= 5; id++ {
		files[id] = filepath.Join(c.dir, fmt.Sprintf("peer%d.key", id))
		writeKeys(t, files[id], keyA)
	}
	for id := 1; id <= 4; id++ {
		c.start(id, "-key-file", files[id], "-http", c.httpAddr(id))
	}
	c.waitView(ids(1, 4), members(1, 2, 3, 4), 1)
	waitHeartbeats(c, ids(1, 4), 5)
	// From here on, nothing may change.
	printed := map[int]int{}
	for id := 1; id <= 4; id++ {
		printed[id] = len(c.proc(id).entries())
	}
	suspicions, err := metricAt(c, ids(1, 4), "memberly_suspicions_total")
	if err != nil {
		t.Fatal(err)
	}

	for step, ring := range [][]string{{keyA, keyB}, {keyB, keyA}, {keyB}} {
		for id := 1; id <= 4; id++ {
			writeKeys(t, files[id], ring...)
			c.proc(id).signal(syscall.SIGHUP)
		}
		var want []string
		for _, k := range ring {
			want = append(want, keyID(t, k))
		}
		c.waitFor(fmt.Sprintf("every peer to reload keys %v", want), func() error {
			for id := 1; id <= 4; id++ {
				ls := c.proc(id).reloads()
				if len(ls) != step+1 {
					return errors.Errorf("peer %d reloaded %d times, want %d", id, len(ls), step+1)
				}
				if got := ls[step].Fields["keys"]; got != strings.Join(want, ",") {
					return errors.Errorf("peer %d reloaded keys %s, want %s", id, got, strings.Join(want, ","))
				}
			}
			return nil
		})
		waitHeartbeats(c, ids(1, 4), 10)
	}

	for id := 1; id <= 4; id++ {
		for _, e := range c.proc(id).entries()[printed[id]:] {
			t.Errorf("peer %d printed during the rotation: %s", id, e.text)
		}
	}
	after, err := metricAt(c, ids(1, 4), "memberly_suspicions_total")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(suspicions, after); diff != "" {
		t.Errorf("suspicions by peer, before and after the rotation (-want +got):\n%s", diff)
	}
	d, err := dropsAt(c, ids(1, 4), "unknown-key", "bad-seal")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(0.0, d); diff != "" {
		t.Errorf("messages dropped for their key during the rotation (-want +got):\n%s", diff)
	}

	// Peer 5 still holds only A: what it sends names a key nobody holds.
	c.start(5, "-key-file", files[5])
	c.waitFor("the peers to drop peer 5's messages under key A", func() error {
		d, err := dropsAt(c, ids(1, 4), "unknown-key")
		if err == nil && d < 10 {
			err = errors.Errorf("%v unknown-key drops, want at least 10", d)
		}
		return err
	})
	for id := 1; id <= 4; id++ {
		if l, ok := c.proc(id).lastView(); !ok || !slices.Equal(l.Members, members(1, 2, 3, 4)) {
			t.Errorf("peer %d at %v, want the view of 1..4", id, l)
		}
	}
	if vs := c.proc(5).views(); len(vs) != 0 {
		t.Errorf("peer 5, with the old key alone, installed views: %v", vs)
	}
}

// metricAt returns metric name at each of ids, by id.
func metricAt(c *cluster, ids []int, name string) (map[int]float64, error) {
	values := map[int]float64{}
	for _, id := range ids {
		v, err := metric(c.httpAddr(id), name, "")
		if err != nil {
			return nil, err
		}
		values[id] = v
	}
	return values, nil
}

// A key file broken before a SIGHUP is reported as one line naming the
// file and line, and the peer goes on with the keys it had: its peers
// still hear it. A good file afterwards is installed.
func TestKeys_BadReloadKeepsKeys(t *testing.T) {
	skipShort(t)
	t.Parallel()
	c := newCluster(t, 2, fastTiming...)
	files := map[int]string{}
	for id := 1; id <= 2; id++ {
		files[id] = filepath.Join(c.dir, fmt.Sprintf("peer%d.key", id))
		writeKeys(t, files[id], keyA)
		c.start(id, "-key-file", files[id], "-http", c.httpAddr(id))
	}
	c.waitView(ids(1, 2), members(1, 2), 1)
	joined := c.proc(1).views()

	writeKeys(t, files[2], keyA, keyB[:60])
	two := c.proc(2)
	two.signal(syscall.SIGHUP)
	const refused = "cannot reload the key file: keeping the keys in use"
	c.waitFor("peer 2 to refuse the broken key file", func() error {
		if _, ok := two.opLine(refused); !ok {
			return errors.New("no such line yet")
		}
		return nil
	})
	l, _ := two.opLine(refused)
	want := check.OperatorLine{Level: "ERROR", Msg: refused, Fields: map[string]string{
		"level": "ERROR", "msg": refused,
		"err": fmt.Sprintf("key file %s:3: want 64 hex digits (a 32-byte key), found 60 characters", files[2]),
	}}
	delete(l.Fields, "time")
	if diff := cmp.Diff(want, l); diff != "" {
		t.Errorf("the refusal's line (-want +got):\n%s", diff)
	}
	// Peer 1 still opens what peer 2 seals: 2 still seals with A.
	waitHeartbeats(c, []int{1}, 10)

	writeKeys(t, files[2], keyA, keyB)
	two.signal(syscall.SIGHUP)
	c.waitFor("peer 2 to reload the mended file", func() error {
		if len(two.reloads()) != 1 {
			return errors.New("not reloaded yet")
		}
		return nil
	})
	if got, want := two.reloads()[0].Fields["primary"], keyID(t, keyA); got != want {
		t.Errorf("primary key after the reload %s, want %s", got, want)
	}
	waitHeartbeats(c, []int{1}, 10)
	if err := c.atView(ids(1, 2), 0, members(1, 2), 1)(); err != nil {
		t.Error(err)
	}
	if diff := cmp.Diff(joined, c.proc(1).views()); diff != "" {
		t.Errorf("peer 1's views since 2 joined (-want +got):\n%s", diff)
	}
}

// A SIGHUP during -d reloads the key file the peer then starts with, and
// does not stop the start.
func TestRun_SighupDuringDelayReloads(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys")
	writeKeys(t, keys, keyA)
	stderr, sigs, exit := runAsync(t, singlePeer(t, "-key-file", keys, "-d", "0.3")...)
	writeKeys(t, keys, keyB, keyA)
	sigs <- syscall.SIGHUP
	waitStderr(t, stderr, "msg=\"keys reloaded\" file="+keys+" primary="+keyID(t, keyB)+" keys="+keyID(t, keyB)+","+keyID(t, keyA)+"\n")
	waitStderr(t, stderr, bootstrapLine)
	sigs <- syscall.SIGTERM
	if status := waitStatus(t, exit); status != exitOK {
		t.Errorf("exit status %d, want 0; stderr:\n%s", status, stderr.String())
	}
}

// A SIGHUP to a peer without -key-file changes nothing: one line says so,
// and the peer runs on (SIGHUP would otherwise end it).
func TestRun_SighupWithoutKeyFileIgnored(t *testing.T) {
	stderr, sigs, exit := runAsync(t, singlePeer(t)...)
	waitStderr(t, stderr, bootstrapLine)
	sigs <- syscall.SIGHUP
	waitStderr(t, stderr, `level=WARN msg="SIGHUP ignored: no -key-file to reload"`)
	sigs <- syscall.SIGTERM
	if status := waitStatus(t, exit); status != exitOK {
		t.Errorf("exit status %d, want 0; stderr:\n%s", status, stderr.String())
	}
}

// -gen-key prints a new key, a line for a key file, and exits 0; it goes
// alone.
func TestRun_GenKey(t *testing.T) {
	var keys []string
	for range 2 {
		var stdout, stderr bytes.Buffer
		if status := run([]string{"-gen-key"}, &stdout, &stderr, nil); status != exitOK || stderr.Len() != 0 {
			t.Fatalf("exit status %d, stderr %q; want 0 and nothing", status, stderr.String())
		}
		keys = append(keys, stdout.String())
	}
	parsed, err := parseKeys([]byte(strings.Join(keys, "")), "generated")
	if err != nil {
		t.Fatalf("the keys printed, %q, do not make a key file: %v", keys, err)
	}
	if diff := cmp.Diff(2, len(parsed)); diff != "" {
		t.Errorf("keys parsed (-want +got):\n%s", diff)
	}
	for _, k := range keys {
		if len(k) != 2*keySize+1 || !strings.HasSuffix(k, "\n") {
			t.Errorf("printed %q, want 64 hex digits and a newline", k)
		}
	}

	stderr, status := runSync(t, "-gen-key", "-h", "hosts")
	if diff := cmp.Diff("peer: -gen-key prints a new key and exits: it takes no other flag\n", stderr); diff != "" || status != exitStartup {
		t.Errorf("-gen-key with -h: exit status %d, stderr (-want +got):\n%s", status, diff)
	}
}
