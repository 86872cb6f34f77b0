package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

// fakeAdmin is a peer for the admin endpoints: it records what it is asked.
type fakeAdmin struct {
	fakeSource
	members []protocol.MemberStatus
	token   string
	evicted []protocol.PeerID
	left    int
}

func (f *fakeAdmin) Members(context.Context) ([]protocol.MemberStatus, error) { return f.members, nil }
func (f *fakeAdmin) Evict(p protocol.PeerID)                                  { f.evicted = append(f.evicted, p) }
func (f *fakeAdmin) Leave()                                                   { f.left++ }
func (f *fakeAdmin) AdminToken() string                                       { return f.token }
func (f *fakeAdmin) Address(id protocol.PeerID) string {
	return "10.0.0." + string(rune('0'+id)) + ":8080"
}

func leaderAdmin() *fakeAdmin {
	return &fakeAdmin{
		fakeSource: fakeSource{status: protocol.Status{ID: 1, ViewID: 4, Members: []protocol.PeerID{1, 2, 3}, Leader: 1, Role: "leader"}},
		members: []protocol.MemberStatus{
			{ID: 1, Incarnation: 11, Leader: true, Tags: mustTags("role=db", "zone=a")},
			{ID: 2, Incarnation: 22, Silent: 300 * time.Millisecond, Watched: true},
			{ID: 3, Incarnation: 33, Silent: 2500 * time.Millisecond, Tags: mustTags("role=web")},
		},
	}
}

// adminRequest serves one request as if it came over a connection to
// local.
func adminRequest(h http.Handler, method, path, auth string, local net.Addr) (int, string) {
	req := httptest.NewRequest(method, path, nil)
	if local != nil {
		req = req.WithContext(context.WithValue(req.Context(), http.LocalAddrContextKey, local))
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, strings.TrimSpace(rec.Body.String())
}

var (
	loopbackAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9000}
	podAddr      = &net.TCPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 9000}
)

func TestAdmin_ChangesOnlyFromLoopbackOrWithTheToken(t *testing.T) {
	type answer struct {
		Code    int
		Evicted []protocol.PeerID
	}
	for _, tc := range []struct {
		name        string
		token, auth string
		local       net.Addr
		want        answer
	}{
		{"loopback, no token set", "", "", loopbackAddr, answer{http.StatusAccepted, []protocol.PeerID{3}}},
		{"another address, no token set", "", "", podAddr, answer{http.StatusForbidden, nil}},
		{"token given", "0123456789abcdef", "Bearer 0123456789abcdef", podAddr, answer{http.StatusAccepted, []protocol.PeerID{3}}},
		{"wrong token", "0123456789abcdef", "Bearer 0123456789abcdeX", podAddr, answer{http.StatusForbidden, nil}},
		{"token set, loopback without it", "0123456789abcdef", "", loopbackAddr, answer{http.StatusForbidden, nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := leaderAdmin()
			src.token = tc.token
			code, _ := adminRequest(newHandler(src), http.MethodPost, "/evict?peer=3", tc.auth, tc.local)
			if diff := cmp.Diff(tc.want, answer{code, src.evicted}); diff != "" {
				t.Errorf("POST /evict?peer=3 (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAdmin_EvictRefusals(t *testing.T) {
	follower := leaderAdmin()
	follower.status.ID, follower.status.Role = 2, "follower"
	for _, tc := range []struct {
		name string
		src  *fakeAdmin
		path string
		want string
	}{
		{"no peer", leaderAdmin(), "/evict", "400 evict: want ?peer=N, a member's id"},
		{"itself", leaderAdmin(), "/evict?peer=1", "400 evict: peer 1 is not another member of view 4 [1,2,3]"},
		{"not a member", leaderAdmin(), "/evict?peer=9", "400 evict: peer 9 is not another member of view 4 [1,2,3]"},
		{"not the leader", follower, "/evict?peer=3", "409 evict: peer 2 does not lead; ask the leader, peer 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := adminRequest(newHandler(tc.src), http.MethodPost, tc.path, "", loopbackAddr)
			if diff := cmp.Diff(tc.want, strconv.Itoa(code)+" "+body); diff != "" {
				t.Errorf("POST %s (-want +got):\n%s", tc.path, diff)
			}
			if len(tc.src.evicted) != 0 {
				t.Errorf("evicted %v after a refusal", tc.src.evicted)
			}
		})
	}
}

func TestAdmin_Leave(t *testing.T) {
	src := leaderAdmin()
	code, body := adminRequest(newHandler(src), http.MethodPost, "/leave", "", loopbackAddr)
	if code != http.StatusAccepted || src.left != 1 {
		t.Errorf("POST /leave: %d %q, left %d times; want 202 and one leave", code, body, src.left)
	}
	if code, _ := adminRequest(newHandler(src), http.MethodGet, "/leave", "", loopbackAddr); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /leave: %d, want 405", code)
	}
}

// startAdminServer serves src's endpoints on a loopback port.
func startAdminServer(t *testing.T, src *fakeAdmin) string {
	t.Helper()
	ts := httptest.NewServer(newHandler(src))
	t.Cleanup(ts.Close)
	return strings.TrimPrefix(ts.URL, "http://")
}

func runSubcommand(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr, nil)
	return code, stdout.String(), stderr.String()
}

func TestMembersCommand_Table(t *testing.T) {
	addr := startAdminServer(t, leaderAdmin())
	code, out, errOut := runSubcommand("members", "-http", addr)
	want := strings.Join([]string{
		"ID  ADDRESS        INCARNATION  ROLE    LAST HEARD              TAGS",
		"1   10.0.0.1:8080  11           leader  (self)                  role=db,zone=a",
		"2   10.0.0.2:8080  22           member  0.3s ago                -",
		"3   10.0.0.3:8080  33           member  2.5s ago (not watched)  role=web",
		"",
	}, "\n")
	if code != exitOK || errOut != "" {
		t.Fatalf("peer members: status %d, stderr %q", code, errOut)
	}
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("peer members (-want +got):\n%s", diff)
	}
}

func TestMembersCommand_JSON(t *testing.T) {
	addr := startAdminServer(t, leaderAdmin())
	code, out, _ := runSubcommand("members", "-http", addr, "-json")
	if code != exitOK || !strings.HasPrefix(out, `[{"id":1,"address":"10.0.0.1:8080","incarnation":11,"role":"leader","last_heard_s":0,"watched":false,"self":true,"tags":{"role":"db","zone":"a"}},`+
		`{"id":2,"address":"10.0.0.2:8080","incarnation":22,"role":"member","last_heard_s":0.3,"watched":true,"self":false,"tags":{}}`) {
		t.Errorf("peer members -json: status %d, output %q", code, out)
	}
}

func TestEvictAndLeaveCommands(t *testing.T) {
	src := leaderAdmin()
	addr := startAdminServer(t, src)
	if code, out, errOut := runSubcommand("evict", "-http", addr, "3"); code != exitOK || out != "evicting peer 3: the leader queued its removal\n" {
		t.Errorf("peer evict 3: status %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, errOut := runSubcommand("leave", "-http", addr); code != exitOK || src.left != 1 {
		t.Errorf("peer leave: status %d, stderr %q, left %d", code, errOut, src.left)
	}
	// The peer's refusal is the command's one-line error.
	code, _, errOut := runSubcommand("evict", "-http", addr, "1")
	if code != exitStartup || errOut != "peer: POST /evict?peer=1: 400 Bad Request: evict: peer 1 is not another member of view 4 [1,2,3]\n" {
		t.Errorf("peer evict 1: status %d, stderr %q", code, errOut)
	}
	// With a token file, the token goes along.
	src.token = "0123456789abcdef"
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(src.token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runSubcommand("evict", "-http", addr, "-token-file", tokenFile, "2"); code != exitOK {
		t.Errorf("peer evict -token-file: status %d, stderr %q", code, errOut)
	}
	if diff := cmp.Diff([]protocol.PeerID{3, 2}, src.evicted); diff != "" {
		t.Errorf("evicted (-want +got):\n%s", diff)
	}
}

func TestSubcommands_HelpAndBadUse(t *testing.T) {
	for _, name := range []string{"members", "evict", "leave"} {
		code, out, _ := runSubcommand(name, "-help")
		if code != exitOK || !strings.HasPrefix(out, "usage: peer "+name+" -http ADDR") || !strings.Contains(out, "-http address") {
			t.Errorf("peer %s -help: status %d, output %q", name, code, out)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"members"}, "peer: peer members: -http: the peer's HTTP address is required\n"},
		{[]string{"evict", "-http", "127.0.0.1:1"}, "peer: peer evict: want 1 argument(s) after the flags, got 0 (usage: peer evict -http ADDR [-token-file F] N: ask the leader at ADDR to remove member N)\n"},
		{[]string{"evict", "-http", "127.0.0.1:1", "x"}, "peer: peer evict: \"x\": want a member's id\n"},
		{[]string{"leave", "-bogus"}, "peer: peer leave: flag provided but not defined: -bogus\n"},
	} {
		code, _, errOut := runSubcommand(tc.args...)
		if code != exitStartup || errOut != tc.want {
			t.Errorf("peer %v: status %d, stderr %q; want %d, %q", tc.args, code, errOut, exitStartup, tc.want)
		}
	}
}

func TestReadTokenFile(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := readTokenFile(short); err == nil || err.Error() != "token file "+short+":1: want a token of at least 16 characters (peer -gen-key prints one), found 6" {
		t.Errorf("a short token: %v", err)
	}
	if _, err := parseFlags([]string{"-h", "hosts", "-http-token-file", short}, io.Discard); err == nil || !strings.Contains(err.Error(), "-http-token-file needs -http") {
		t.Errorf("-http-token-file without -http: %v", err)
	}
}
