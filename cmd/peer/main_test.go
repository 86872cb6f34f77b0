package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/check"
	"github.com/memberly/memberly/netrt"
	"github.com/memberly/memberly/protocol"
)

func TestParseFlags_Defaults(t *testing.T) {
	got, err := parseFlags([]string{"-h", "hosts"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := config{
		hostsFile: "hosts", tcpPort: 8080, udpPort: 8081,
		proto: protocol.DefaultConfig(), logFormat: logText, leaveOnSignal: true,
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(config{})); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestParseFlags_Values(t *testing.T) {
	got, err := parseFlags([]string{
		"-h", "hosts", "-d", "0.5", "-c", "12", "-t", "-id", "3", "-tcp-port", "7000", "-udp-port", "7001",
		"-heartbeat", "100ms", "-suspect-after", "250ms", "-retry", "50ms", "-join-retry", "200ms",
		"-leave-timeout", "2s", "-rejoin=false", "-broadcast", "-key-file", "k", "-log", "json",
		"-http", "127.0.0.1:9000", "-v", "-data-dir", "/var/lib/memberly", "-force-view", "-observers", "5", "-max-changes-per-view", "8",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := config{
		hostsFile: "hosts", delay: 500 * time.Millisecond, crashAfter: 12 * time.Second, leaderCrash: true,
		id: 3, tcpPort: 7000, udpPort: 7001,
		proto: protocol.Config{
			HeartbeatInterval: 100 * time.Millisecond, SuspectAfter: 250 * time.Millisecond,
			RetryInterval: 50 * time.Millisecond, JoinRetryInterval: 200 * time.Millisecond,
			LeaveTimeout: 2 * time.Second, Rejoin: false, Observers: 5, MaxChangesPerView: 8,
		},
		broadcast: true, keyFile: "k", logFormat: logJSON, httpAddr: "127.0.0.1:9000", verbose: true,
		dataDir: "/var/lib/memberly", forceView: true,
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(config{})); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestParseFlags_ResetState(t *testing.T) {
	got, err := parseFlags([]string{"-h", "hosts", "-data-dir", "d", "-reset-state"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got.dataDir != "d" || !got.resetState || got.forceView {
		t.Errorf("config %+v, want data dir d and reset-state alone", got)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runAsync runs the command in-process; it returns the stderr it writes,
// the channel to signal it through, and a channel yielding its exit status.
func runAsync(t *testing.T, args ...string) (*syncBuffer, chan<- os.Signal, <-chan int) {
	t.Helper()
	var stderr syncBuffer
	sigs := make(chan os.Signal, 2)
	exit := make(chan int, 1)
	go func() { exit <- run(args, io.Discard, &stderr, sigs) }()
	t.Cleanup(func() {
		// A run that never stopped is killed, as a second signal does.
		select {
		case <-exit:
		default:
			sigs <- syscall.SIGTERM
			sigs <- syscall.SIGTERM
		}
	})
	return &stderr, sigs, exit
}

// waitStatus returns the exit status from exit, which must come within
// 10 s.
func waitStatus(t *testing.T, exit <-chan int) int {
	t.Helper()
	select {
	case status := <-exit:
		return status
	case <-time.After(10 * time.Second):
		t.Fatal("the peer did not exit within 10 s")
	}
	return 0
}

// runSync runs the command in-process to its end, which must come within
// 10 s.
func runSync(t *testing.T, args ...string) (stderr string, status int) {
	t.Helper()
	out, _, exit := runAsync(t, args...)
	select {
	case status = <-exit:
		return out.String(), status
	case <-time.After(10 * time.Second):
		t.Fatalf("peer %q still running after 10 s; stderr:\n%s", args, out.String())
	}
	return "", 0
}

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// freePort returns a TCP port free on 127.0.0.1 a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestRun_StartupErrors(t *testing.T) {
	dir := t.TempDir()
	hosts := writeFile(t, dir, "hosts", "127.0.0.1\n127.0.0.2\n127.0.0.3\n")
	empty := writeFile(t, dir, "empty", "# nobody\n\n")
	dup := writeFile(t, dir, "dup", "127.0.0.1\n# comment\n127.0.0.1\n")
	elsewhere := writeFile(t, dir, "elsewhere", "peer-one.invalid\npeer-two.invalid\n")
	large := writeFile(t, dir, "large", "127.0.0.1\n"+strings.Repeat("#\n", netrt.MaxHostsFileSize/2))
	shortKey := writeFile(t, dir, "short.key", "abcd\n")
	hexlessKey := writeFile(t, dir, "hexless.key", strings.Repeat("xy", 32)+"\n")
	// A state file one bit off, and one of another cluster.
	corruptDir := filepath.Join(dir, "corrupt")
	state := validState(t, hosts)
	state[len(state)-1] ^= 1
	writeFile(t, mkdir(t, corruptDir), "state", string(state))
	foreignDir := filepath.Join(dir, "foreign")
	writeFile(t, mkdir(t, foreignDir), "state", string(protocol.EncodeState(protocol.DurableState{ID: 1, Incarnation: 1}, 12345)))

	// A port held by this test: the peer cannot bind it.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	busyHosts := writeFile(t, dir, "busy", fmt.Sprintf("127.0.0.1:%d:%d\n", busyPort, freePort(t)))

	ok := []string{"-h", hosts, "-id", "1"}
	for _, tc := range []struct {
		name string
		args []string
		want []string // substrings of the one line after "peer: "
	}{
		{"no hosts flag", nil, []string{"-h", "required"}},
		{"hosts flag without value", []string{"-h"}, []string{"-h"}},
		{"missing hosts file", []string{"-h", filepath.Join(dir, "nope"), "-id", "1"}, []string{"nope", "no such file"}},
		{"empty hosts file", []string{"-h", empty, "-id", "1"}, []string{empty, "no hosts"}},
		{"large hosts file", []string{"-h", large, "-id", "1"}, []string{fmt.Sprintf("hosts file %s: larger than 1048576 bytes", large)}},
		{"endless hosts file", []string{"-h", "/dev/zero", "-id", "1"}, []string{"hosts file /dev/zero: larger than 1048576 bytes"}},
		{"duplicate host", []string{"-h", dup, "-id", "1"}, []string{dup + ":3", "duplicate"}},
		{"own host not in file", []string{"-h", elsewhere}, []string{elsewhere, "-id"}},
		{"id out of range", []string{"-h", hosts, "-id", "4"}, []string{"-id 4", "1..3"}},
		{"negative id", []string{"-h", hosts, "-id", "-1"}, []string{"-id -1"}},
		{"id not a number", []string{"-h", hosts, "-id", "one"}, []string{"-id"}},
		{"port in use", []string{"-h", busyHosts, "-id", "1"}, []string{fmt.Sprint(busyPort)}},
		{"missing key file", append(ok, "-key-file", filepath.Join(dir, "nokey")), []string{"key file", "nokey"}},
		{"short key", append(ok, "-key-file", shortKey), []string{shortKey, "64 hex digits"}},
		{"key not hex", append(ok, "-key-file", hexlessKey), []string{hexlessKey, "invalid byte"}},
		{"negative delay", append(ok, "-d", "-1"), []string{"-d", "negative"}},
		{"delay not a number", append(ok, "-d", "soon"), []string{"-d", "seconds"}},
		{"delay infinite", append(ok, "-d", "Inf"), []string{"-d", "seconds"}},
		{"negative crash", append(ok, "-c", "-2"), []string{"-c", "negative"}},
		{"crash too large", append(ok, "-c", "1e300"), []string{"-c", "too large"}},
		{"log format", append(ok, "-log", "xml"), []string{"-log", "xml"}},
		{"tag without =", append(ok, "-tag", "role"), []string{"-tag", `"role" is not key=value`}},
		{"tag key twice", append(ok, "-tag", "role=db", "-tag", "role=web"), []string{"-tag", `key "role" given twice`}},
		{"tcp port zero", append(ok, "-tcp-port", "0"), []string{"-tcp-port 0"}},
		{"udp port too large", append(ok, "-udp-port", "70000"), []string{"-udp-port 70000"}},
		{"heartbeat zero", append(ok, "-heartbeat", "0"), []string{"-heartbeat", "positive"}},
		{"heartbeat not a duration", append(ok, "-heartbeat", "fast"), []string{"-heartbeat"}},
		{"suspect before heartbeat", append(ok, "-heartbeat", "1s", "-suspect-after", "1s"), []string{"-suspect-after", "-heartbeat"}},
		{"heartbeat below the floor", append(ok, "-heartbeat", "1ns", "-suspect-after", "2ns"), []string{"-heartbeat 1ns is below 10ms"}},
		{"suspect under two heartbeats", append(ok, "-heartbeat", "1s", "-suspect-after", "1.5s"), []string{"-suspect-after 1.5s must be at least twice -heartbeat 1s"}},
		{"leave timeout below retry", append(ok, "-retry", "2s", "-leave-timeout", "1s"), []string{"-leave-timeout", "-retry"}},
		{"join retry negative", append(ok, "-join-retry", "-1s"), []string{"-join-retry"}},
		{"one observer", append(ok, "-observers", "1"), []string{"-observers is 1, must be 2..1024"}},
		{"observers not a number", append(ok, "-observers", "many"), []string{"-observers"}},
		{"no change per view", append(ok, "-max-changes-per-view", "0"), []string{"-max-changes-per-view 0, must be 1..64"}},
		{"more changes than peers", append(ok, "-max-changes-per-view", "2000"), []string{"-max-changes-per-view 2000, must be 1..64"}},
		{"changes per view not a number", append(ok, "-max-changes-per-view", "many"), []string{"-max-changes-per-view"}},
		{"bad http address", append(ok, "-http", "127.0.0.1:http-port"), []string{"-http"}},
		{"reset without data dir", append(ok, "-reset-state"), []string{"-reset-state", "-data-dir"}},
		{"force without data dir", append(ok, "-force-view"), []string{"-force-view", "-data-dir"}},
		{"force and reset", append(ok, "-data-dir", dir, "-force-view", "-reset-state"), []string{"-force-view", "-reset-state"}},
		{"force without a state", append(ok, "-data-dir", filepath.Join(dir, "new-data"), "-force-view"), []string{"cannot force a view", "new-data holds no state file"}},
		{"data dir is a file", append(ok, "-data-dir", hosts), []string{"data directory", hosts}},
		{"corrupt state file", append(ok, "-data-dir", corruptDir), []string{
			"state file " + filepath.Join(corruptDir, "state") + ": state file is corrupt: checksum",
			": start with -reset-state to discard it (this peer then joins as a new member)"}},
		{"foreign state file", append(ok, "-data-dir", foreignDir), []string{
			"state file " + filepath.Join(foreignDir, "state") + ": state file belongs to another peer or cluster: cluster", "-reset-state"}},
		{"unknown flag", append(ok, "-x"), []string{"-x"}},
		{"argument", append(ok, "extra"), []string{"unexpected argument", "extra"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stderr, status := runSync(t, tc.args...)
			if status != exitStartup {
				t.Errorf("exit status %d, want %d", status, exitStartup)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "peer: ") {
				t.Fatalf("stderr %q, want one line \"peer: ...\"", stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not name %q", stderr, w)
				}
			}
		})
	}
}

// mkdir creates dir and returns it.
func mkdir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// validState is the state file of peer 1 of the hosts file at path, as a
// fresh durable start stores it: a peer can resume from it.
func validState(t *testing.T, path string) []byte {
	t.Helper()
	hosts, err := netrt.ReadHosts(path, 8080, 8081)
	if err != nil {
		t.Fatal(err)
	}
	return protocol.EncodeState(protocol.DurableState{ID: 1, Incarnation: 1}, hosts.Fingerprint())
}

// A data directory serves one process: a second is refused at start.
func TestRun_DataDirInUse(t *testing.T) {
	dataDir := t.TempDir()
	args := singlePeer(t, "-data-dir", dataDir)
	first, sigs, exit := runAsync(t, args...)
	waitStderr(t, first, bootstrapLine)
	stderr, status := runSync(t, singlePeer(t, "-data-dir", dataDir)...)
	if status != exitStartup || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "in use by another process") {
		t.Errorf("second peer on %s: exit %d, stderr %q; want 2 and one line saying it is in use", dataDir, status, stderr)
	}
	if strings.Contains(stderr, "-reset-state") {
		t.Errorf("stderr %q suggests -reset-state, which cannot help", stderr)
	}
	sigs <- syscall.SIGTERM
	if status := waitStatus(t, exit); status != exitOK {
		t.Errorf("first peer: exit status %d, want 0; stderr:\n%s", status, first.String())
	}
}

func TestRun_Help(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if status := run([]string{"-help"}, &stdout, &stderr, nil); status != exitOK {
		t.Errorf("exit status %d, want 0", status)
	}
	if !strings.Contains(stdout.String(), "-suspect-after") || stderr.Len() != 0 {
		t.Errorf("stdout %q, stderr %q: want the usage on stdout", stdout.String(), stderr.String())
	}
}

func TestRun_SignalDuringDelayExitsAtOnce(t *testing.T) {
	hosts := writeFile(t, t.TempDir(), "hosts", "127.0.0.1\n")
	stderr, sigs, exit := runAsync(t, "-h", hosts, "-id", "1", "-d", "3600")
	sigs <- syscall.SIGTERM
	if status := waitStatus(t, exit); status != exitOK || stderr.String() != "" {
		t.Errorf("exit %d, stderr %q; want 0 and nothing", status, stderr.String())
	}
}

// A signal stops a peer still reading its hosts file: here a FIFO that
// nobody opens for writing, whose open never returns.
func TestRun_SignalWhileReadingHostsExitsAtOnce(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "hosts")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	var stderr syncBuffer
	sigs := make(chan os.Signal, 1)
	exit := make(chan int, 1)
	go func() { exit <- run([]string{"-h", fifo, "-id", "1"}, io.Discard, &stderr, sigs) }()
	// Whatever happened, the open must return before the test ends: a
	// writer that closes at once makes it read an empty file.
	t.Cleanup(func() {
		if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			w.Close()
		}
	})
	select {
	case status := <-exit:
		t.Fatalf("the peer exited (%d) before anyone wrote the FIFO; stderr %q", status, stderr.String())
	case <-time.After(200 * time.Millisecond):
	}
	sigs <- syscall.SIGTERM
	select {
	case status := <-exit:
		if status != exitOK || stderr.String() != "" {
			t.Errorf("exit %d, stderr %q; want 0 and nothing", status, stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Error("the peer did not exit within 5 s of SIGTERM while opening its hosts file")
	}
}

// singlePeer returns the arguments of a one-peer cluster on loopback.
func singlePeer(t *testing.T, extra ...string) []string {
	t.Helper()
	port := freePort(t)
	hosts := writeFile(t, t.TempDir(), "hosts", fmt.Sprintf("127.0.0.1:%d:%d\n", port, port))
	return append([]string{"-h", hosts, "-id", "1", "-heartbeat", "50ms", "-suspect-after", "200ms",
		"-retry", "50ms", "-join-retry", "100ms", "-leave-timeout", "500ms"}, extra...)
}

// waitStderr polls stderr until it holds want.
func waitStderr(t *testing.T, stderr *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("stderr never showed %q; it holds:\n%s", want, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const bootstrapLine = "{peer_id:1, view_id: 1, leader: 1, memb_list: [1]}\n"

func TestRun_SignalLeavesGracefully(t *testing.T) {
	stderr, sigs, exit := runAsync(t, singlePeer(t, "-d", "0.05")...)
	waitStderr(t, stderr, bootstrapLine)
	sigs <- syscall.SIGINT
	if status := waitStatus(t, exit); status != exitOK {
		t.Errorf("exit status %d, want 0; stderr:\n%s", status, stderr.String())
	}
	if _, skipped := check.ParseLogText(stderr.String()); skipped != 0 {
		t.Errorf("stderr holds %d lines that are not the seed's:\n%s", skipped, stderr.String())
	}
}

func TestRun_CrashAfter(t *testing.T) {
	stderr, status := runSync(t, singlePeer(t, "-c", "0.3")...)
	if status != exitCrashed {
		t.Errorf("exit status %d, want %d", status, exitCrashed)
	}
	want := bootstrapLine + "{peer_id:1, view_id: 1, leader: 1, message:\"crashing\"}\n"
	if diff := cmp.Diff(want, stderr); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}
}

func TestRun_JSONLog(t *testing.T) {
	stderr, status := runSync(t, singlePeer(t, "-c", "0.3", "-log", "json")...)
	if status != exitCrashed {
		t.Errorf("exit status %d, want %d", status, exitCrashed)
	}
	var got []jsonLine
	for _, s := range strings.SplitAfter(strings.TrimSuffix(stderr, "\n"), "\n") {
		var l jsonLine
		if err := json.Unmarshal([]byte(s), &l); err != nil {
			t.Fatalf("line %q: %v", s, err)
		}
		got = append(got, l)
	}
	want := []jsonLine{
		{Msg: "view-installed", PeerID: 1, ViewID: 1, Leader: 1, MembList: []protocol.PeerID{1}},
		{Msg: "crashing", PeerID: 1, ViewID: 1, Leader: 1, Message: "crashing"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON lines (-want +got):\n%s", diff)
	}
}

func TestRun_FindsOwnLineWithoutID(t *testing.T) {
	port, httpPort := freePort(t), freePort(t)
	// The first host is elsewhere; the second is this machine by address.
	hosts := writeFile(t, t.TempDir(), "hosts", fmt.Sprintf("peer-one.invalid:%d\n127.0.0.1:%d:%d\n", port, port, port))
	httpAddr := fmt.Sprintf("127.0.0.1:%d", httpPort)
	stderr, sigs, exit := runAsync(t, "-h", hosts, "-http", httpAddr)
	end := time.Now().Add(deadline)
	for {
		s, err := status(httpAddr)
		if err == nil && s.ID == 2 {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("/status: %+v, %v; want id 2; stderr:\n%s", s, err, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	sigs <- syscall.SIGTERM
	if status := waitStatus(t, exit); status != exitOK {
		t.Errorf("exit status %d, want 0; stderr:\n%s", status, stderr.String())
	}
}
