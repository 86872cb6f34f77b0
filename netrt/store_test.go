package netrt

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/protocol"
)

// testState is a state peer 1 of a cluster of three may store.
func testState() protocol.DurableState {
	return protocol.DurableState{
		ID: 1, Incarnation: 1_700_000_000_123_456_789,
		Promise: protocol.Ballot{Round: 3, Leader: 1}, MaxRound: 3,
		Following:    protocol.Ballot{Round: 3, Leader: 1},
		View:         protocol.View{ID: 5, Members: []protocol.PeerID{1, 2, 3}},
		ViewBallot:   protocol.Ballot{Round: 3, Leader: 1},
		ViewOp:       protocol.Op{Kind: protocol.OpAdd, Peer: 3, Incarnation: 42},
		Incarnations: []uint64{1_700_000_000_123_456_789, 7, 42},
		HeardAs:      []uint64{1_700_000_000_123_456_789, 7, 42},
		LatestViewID: 5,
	}
}

// dirEntries lists the names in dir.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestStore_SaveLoadRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "data")
	s, err := openStore(dir, 77)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if st, err := s.load(1); st != nil || err != nil {
		t.Fatalf("load of an empty directory = %v, %v; want nil, nil", st, err)
	}
	want := testState()
	for round := range 3 {
		want.MaxRound += uint64(round)
		if err := s.save(want); err != nil {
			t.Fatal(err)
		}
		got, err := s.load(1)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(want) {
			t.Fatalf("loaded %+v, saved %+v", *got, want)
		}
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("data directory mode %v, %v; want 0700", fi.Mode().Perm(), err)
	}
	if fi, err := os.Stat(filepath.Join(dir, stateName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
}

func TestStore_NoTmpLeftBehind(t *testing.T) {
	dir := t.TempDir()
	// What a crash in the middle of a save leaves: removed, unread.
	if err := os.WriteFile(filepath.Join(dir, stateTmpName), []byte("half a state"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := openStore(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	if got, want := dirEntries(t, dir), []string{lockName}; !slices.Equal(got, want) {
		t.Errorf("after open, the directory holds %v, want %v", got, want)
	}
	for range 5 {
		if err := s.save(testState()); err != nil {
			t.Fatal(err)
		}
		if got, want := dirEntries(t, dir), []string{lockName, stateName}; !slices.Equal(got, want) {
			t.Fatalf("after a save, the directory holds %v, want %v", got, want)
		}
	}

	// A save that fails (the rename cannot replace a directory holding a
	// file) leaves no temporary file either, and names what failed.
	state := filepath.Join(dir, stateName)
	if err := os.Remove(state); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(state, "in-the-way"), 0o700); err != nil {
		t.Fatal(err)
	}
	err = s.save(testState())
	if err == nil || !strings.Contains(err.Error(), state) {
		t.Errorf("save over a directory: %v, want an error naming %s", err, state)
	}
	if slices.Contains(dirEntries(t, dir), stateTmpName) {
		t.Error("a failed save left the temporary file behind")
	}
}

// durableOpts is peer 1 of a loopback universe of three keeping its state
// in dir; the peers' ports are fixed by the test.
func durableOpts(hosts Hosts, id protocol.PeerID, dir string) Options {
	return Options{ID: id, Hosts: hosts, Config: testConfig(), DataDir: dir}
}

// listenDurable listens as opts asks and closes what Listen opened when
// the test ends; it returns Listen's error.
func listenDurable(t *testing.T, opts Options) (*Runtime, error) {
	t.Helper()
	rt, err := Listen(opts)
	if err == nil {
		t.Cleanup(func() {
			rt.impl.tcpLn.Close()
			rt.impl.udpConn.Close()
			rt.impl.closeStore()
		})
	}
	return rt, err
}

// Every state file a peer cannot start from makes Listen fail with an
// ErrState error naming the file and the problem; the file stays.
func TestListen_RefusesUnusableStateFiles(t *testing.T) {
	hosts := loopbackHosts(t, 3, freePort(t, 3))
	fp := hosts.Fingerprint()
	good := protocol.EncodeState(testState(), fp)
	other := testState()
	other.ID = 2
	notMember := testState()
	notMember.View.Members = []protocol.PeerID{2, 3}
	future := slices.Clone(good)
	future[len("MEMBERLY")] = protocol.StateVersion + 1
	flipped := slices.Clone(good)
	flipped[len(flipped)/2] ^= 0x10

	for _, tc := range []struct {
		name string
		data []byte
		is   error
		want []string
	}{
		{"corrupt", flipped, protocol.ErrStateCorrupt, []string{"corrupt", "checksum"}},
		{"truncated", good[:len(good)-7], protocol.ErrStateCorrupt, []string{"corrupt"}},
		{"empty", nil, protocol.ErrStateCorrupt, []string{"corrupt", "0 bytes"}},
		{"not a state file", []byte("{peer_id:1, view_id: 1, leader: 1, memb_list: [1]}\n"), protocol.ErrStateCorrupt, []string{"not a state file"}},
		{"too large", bytes.Repeat([]byte{0}, MaxStateFile+1), protocol.ErrStateCorrupt, []string{"larger than 65536 bytes"}},
		{"foreign cluster", protocol.EncodeState(testState(), fp+1), protocol.ErrStateForeign, []string{"another peer or cluster", "cluster"}},
		{"other peer", protocol.EncodeState(other, fp), protocol.ErrStateForeign, []string{"peer 2's", "this is peer 1"}},
		{"future version", future, protocol.ErrStateVersion, []string{"unknown version", "version " + strconv.Itoa(protocol.StateVersion+1)}},
		{"state the protocol refuses", protocol.EncodeState(notMember, fp), protocol.ErrBadState, []string{"does not hold peer 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, stateName)
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := listenDurable(t, durableOpts(hosts, 1, dir))
			if err == nil {
				t.Fatal("Listen accepted the state file")
			}
			if !errors.Is(err, ErrState) || !errors.Is(err, tc.is) {
				t.Errorf("Listen: %v; want an error wrapping ErrState and %v", err, tc.is)
			}
			for _, w := range append([]string{"state file " + path + ": "}, tc.want...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Listen: %q does not say %q", err, w)
				}
			}
			if b, rerr := os.ReadFile(path); rerr != nil || !bytes.Equal(b, tc.data) {
				t.Errorf("the refused state file was changed or removed: %v", rerr)
			}
			// The lock went with the failure: the directory is free.
			s, err := openStore(dir, fp)
			if err != nil {
				t.Fatalf("after a refused start: %v", err)
			}
			s.close()
		})
	}
}

// Two processes on one data directory would be two acceptors under one
// identity: the second is refused until the first is done.
func TestListen_LockRefusesASecondRuntime(t *testing.T) {
	hosts := loopbackHosts(t, 3, freePort(t, 3))
	dir := t.TempDir()
	first, err := listenDurable(t, durableOpts(hosts, 1, dir))
	if err != nil {
		t.Fatal(err)
	}
	_, err = listenDurable(t, durableOpts(hosts, 2, dir))
	if err == nil || !strings.Contains(err.Error(), "in use by another process") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second Listen on %s: %v, want it refused as in use", dir, err)
	}
	if errors.Is(err, ErrState) {
		t.Errorf("a held lock is not a bad state file: %v", err)
	}
	// Run releases the directory when it returns.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = first.Run(ctx)
	if _, err := listenDurable(t, durableOpts(hosts, 2, dir)); err != nil {
		t.Errorf("Listen after the first runtime ended: %v", err)
	}
}

func TestListen_ResetRemovesTheStateFile(t *testing.T) {
	hosts := loopbackHosts(t, 3, freePort(t, 3))
	dir := t.TempDir()
	path := filepath.Join(dir, stateName)
	// Even a file that could not be read is discarded.
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	var oplog lockedBuffer
	opts := durableOpts(hosts, 1, dir)
	opts.ResetState = true
	opts.OperatorLog = slog.New(slog.NewTextHandler(&oplog, nil))
	rt, err := listenDurable(t, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("state file after the reset: %v, want it gone", err)
	}
	if rt.impl.resumeFrom != nil {
		t.Error("the reset peer resumes from a state")
	}
	logged := oplog.String()
	if strings.Count(logged, "\n") != 1 || !strings.Contains(logged, "new member") || !strings.Contains(logged, path) {
		t.Errorf("operator log %q, want one line naming the file and saying the peer starts as a new member", logged)
	}
}

func TestListen_DurableOptionsNeedADataDir(t *testing.T) {
	hosts := loopbackHosts(t, 2, freePort(t, 2))
	durable := testConfig()
	durable.Durable = true
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{"reset", Options{ID: 1, Hosts: hosts, Config: testConfig(), ResetState: true}, "ResetState needs a DataDir"},
		{"force", Options{ID: 1, Hosts: hosts, Config: testConfig(), ForceView: true}, "ForceView needs a DataDir"},
		{"durable", Options{ID: 1, Hosts: hosts, Config: durable}, "needs a DataDir"},
		{"reset and force", Options{ID: 1, Hosts: hosts, Config: testConfig(), DataDir: t.TempDir(), ResetState: true, ForceView: true}, "ForceView needs the stored view"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := listenDurable(t, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Listen: %v, want %q", err, tc.want)
			}
		})
	}
}

func TestHosts_Fingerprint(t *testing.T) {
	parse := func(s string) uint64 {
		t.Helper()
		h, err := ParseHosts([]byte(s), "hosts", 8080, 8081)
		if err != nil {
			t.Fatal(err)
		}
		return h.Fingerprint()
	}
	base := parse("one\ntwo\nthree\n")
	if got := parse("# the cluster\none\n\ntwo   # second\nthree\n"); got != base {
		t.Errorf("comments and blank lines changed the fingerprint: %x, want %x", got, base)
	}
	for _, s := range []string{"one\ntwo\n", "one\nthree\ntwo\n", "one\ntwo\nthree:8080:8082\n", "one\ntwo\nfour\n", "onetwo\n\nthree\n"} {
		if parse(s) == base {
			t.Errorf("hosts %q have the fingerprint of one, two, three", s)
		}
	}
}

// startDurable starts peer id of hosts keeping its state in dir, with
// tweak applied to its options.
func startDurable(t *testing.T, hosts Hosts, id protocol.PeerID, dir string, tweak func(*Options)) *testPeer {
	t.Helper()
	opts := durableOpts(hosts, id, dir)
	if tweak != nil {
		tweak(&opts)
	}
	return startPeer(t, opts)
}

// notesOf returns the notes of kind p has produced.
func notesOf(p *testPeer, kind protocol.NoteKind) []protocol.Note {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ns []protocol.Note
	for _, n := range p.notes {
		if n.Kind == kind {
			ns = append(ns, n)
		}
	}
	return ns
}

// A cluster whose every process is killed starts again from its data
// directories as the same members: the same view, the same incarnations.
func TestRuntime_DurableClusterResumesAfterAKill(t *testing.T) {
	hosts := loopbackHosts(t, 3, freePort(t, 3))
	dirs := []string{"", t.TempDir(), t.TempDir(), t.TempDir()}
	var first []*testPeer
	for id := protocol.PeerID(1); id <= 3; id++ {
		first = append(first, startDurable(t, hosts, id, dirs[id], nil))
	}
	waitView(t, []protocol.PeerID{1, 2, 3}, first...)
	held := first[0].rt.Status()
	incarnations := map[protocol.PeerID]uint64{}
	for _, p := range first {
		incarnations[p.id] = p.rt.Status().Incarnation
		p.cancel() // a kill: no leave
		if err := p.wait(t); !errors.Is(err, context.Canceled) {
			t.Fatalf("peer %d: Run = %v, want context.Canceled", p.id, err)
		}
	}

	var second []*testPeer
	for id := protocol.PeerID(1); id <= 3; id++ {
		second = append(second, startDurable(t, hosts, id, dirs[id], nil))
	}
	for _, p := range second {
		waitFor(t, "the resumed note", func() bool { return p.noted(protocol.NoteResumed) })
		r := notesOf(p, protocol.NoteResumed)[0]
		if r.ViewID != held.ViewID || !slices.Equal(r.Members, held.Members) {
			t.Errorf("peer %d resumed at view %d %v, want view %d %v", p.id, r.ViewID, r.Members, held.ViewID, held.Members)
		}
		// The status snapshot is taken after the step that noted it.
		waitFor(t, "the status of the resumed peer", func() bool { return p.rt.Status().Incarnation != 0 })
		if got := p.rt.Status().Incarnation; got != incarnations[p.id] {
			t.Errorf("peer %d resumed as incarnation %d, want %d", p.id, got, incarnations[p.id])
		}
	}
	// They stay in that view: nobody was replaced, nothing needs deciding.
	waitView(t, []protocol.PeerID{1, 2, 3}, second...)
	for _, p := range second {
		for _, n := range notesOf(p, protocol.NoteViewInstalled) {
			if n.ViewID <= held.ViewID {
				t.Errorf("peer %d installed view %d again after resuming at view %d", p.id, n.ViewID, held.ViewID)
			}
		}
		if got := p.rt.Status().ViewID; got < held.ViewID {
			t.Errorf("peer %d ends at view %d, below view %d it resumed at", p.id, got, held.ViewID)
		}
	}
	for _, p := range append(first, second...) {
		if n := p.rt.impl.met.saveFailures.Load(); n != 0 {
			t.Errorf("peer %d: %d saves failed", p.id, n)
		}
	}
	if n := first[0].rt.impl.met.saves.Load(); n == 0 {
		t.Error("peer 1 stored no state")
	}
}

// A state that cannot be stored stops the peer: Run names the file and
// says the state was not stored.
func TestRuntime_SaveFailureStopsThePeer(t *testing.T) {
	hosts := loopbackHosts(t, 2, freePort(t, 2))
	dir := t.TempDir()
	one := startDurable(t, hosts, 1, dir, nil)
	waitView(t, []protocol.PeerID{1}, one)
	// The next save's rename finds a directory holding a file in its way.
	state := filepath.Join(dir, stateName)
	if err := os.Remove(state); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(state, "in-the-way"), 0o700); err != nil {
		t.Fatal(err)
	}
	// Peer 2 joins: peer 1 must store view 2 before it tells anyone.
	startPeer(t, Options{ID: 2, Hosts: hosts, Config: testConfig()})
	err := one.wait(t)
	if !errors.Is(err, protocol.ErrSave) || !strings.Contains(err.Error(), state) || !strings.Contains(err.Error(), "cannot store") {
		t.Fatalf("Run = %v, want an error wrapping protocol.ErrSave naming %s", err, state)
	}
	if n := one.rt.impl.met.saveFailures.Load(); n != 1 {
		t.Errorf("%d save failures counted, want 1", n)
	}
	for _, n := range notesOf(one, protocol.NoteViewInstalled) {
		if n.ViewID > 1 {
			t.Errorf("peer 1 installed view %d, which it could not store", n.ViewID)
		}
	}
}

// ForceView on the one survivor of three installs a view of itself, far
// above the old one; on a peer holding no view it is refused and logged.
func TestRuntime_ForceView(t *testing.T) {
	hosts := loopbackHosts(t, 3, freePort(t, 3))
	dirs := []string{"", t.TempDir(), t.TempDir(), t.TempDir()}
	var peers []*testPeer
	for id := protocol.PeerID(1); id <= 3; id++ {
		peers = append(peers, startDurable(t, hosts, id, dirs[id], nil))
	}
	waitView(t, []protocol.PeerID{1, 2, 3}, peers...)
	old := peers[0].rt.Status().ViewID
	for _, p := range peers {
		p.cancel()
		_ = p.wait(t)
	}

	var oplog lockedBuffer
	two := startDurable(t, hosts, 2, dirs[2], func(o *Options) {
		o.ForceView = true
		o.OperatorLog = slog.New(slog.NewTextHandler(&oplog, nil))
	})
	waitFor(t, "a forced view", func() bool { return two.noted(protocol.NoteForcedView) })
	if forced := notesOf(two, protocol.NoteForcedView)[0]; !slices.Equal(forced.Members, []protocol.PeerID{2}) {
		t.Errorf("forced view of %v, want [2]", forced.Members)
	}
	waitView(t, []protocol.PeerID{2}, two)
	// The note's header holds the view id before the forced view, as
	// every note's does: the install that follows holds the new one.
	if st := two.rt.Status(); st.ViewID < old+protocol.ForceViewJump {
		t.Errorf("peer 2 at view %d %v, want view %d or above", st.ViewID, st.Members, old+protocol.ForceViewJump)
	}
	if oplog.String() != "" {
		t.Errorf("operator log after a forced view: %q, want nothing", oplog.String())
	}

	// A data directory without a state file has no view to force: a
	// fresh peer could join a running cluster first, and force a view on
	// it.
	empty := t.TempDir()
	opts := durableOpts(loopbackHosts(t, 2, freePort(t, 2)), 2, empty)
	opts.ForceView = true
	if _, err := listenDurable(t, opts); err == nil || !strings.Contains(err.Error(), "holds no state file") {
		t.Errorf("Listen with ForceView on an empty data directory: %v, want it refused", err)
	}

	// A peer that stored no view (it left, or never joined) resumes
	// holding none: the force is refused, and the refusal logged.
	var refused lockedBuffer
	lone := loopbackHosts(t, 2, freePort(t, 2))
	if err := os.WriteFile(filepath.Join(empty, stateName), protocol.EncodeState(protocol.DurableState{ID: 2, Incarnation: 9}, lone.Fingerprint()), 0o600); err != nil {
		t.Fatal(err)
	}
	joiner := startDurable(t, lone, 2, empty, func(o *Options) {
		o.ForceView = true
		o.OperatorLog = slog.New(slog.NewTextHandler(&refused, nil))
	})
	waitFor(t, "the refusal logged", func() bool { return strings.Contains(refused.String(), "cannot force a view") })
	if !strings.Contains(refused.String(), "holds no view") || joiner.noted(protocol.NoteForcedView) {
		t.Errorf("operator log %q, want the refusal saying the peer holds no view", refused.String())
	}
}

// BenchmarkStore_Save measures one durable save: encode, write the
// temporary file, fsync it, rename it over the state file, fsync the
// directory. Run it on the disk the data directory will live on (TMPDIR).
func BenchmarkStore_Save(b *testing.B) {
	s, err := openStore(b.TempDir(), 1)
	if err != nil {
		b.Fatal(err)
	}
	defer s.close()
	st := testState()
	b.ReportAllocs()
	for b.Loop() {
		st.MaxRound++
		if err := s.save(st); err != nil {
			b.Fatal(err)
		}
	}
}
