package main

import (
	"bufio"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pkg/errors"

	"github.com/memberly/memberly/protocol"
)

// fakeSource stands in for a running peer.
type fakeSource struct {
	status  protocol.Status
	metrics string
	err     error
}

func (f fakeSource) Status() protocol.Status { return f.status }

func (f fakeSource) WriteMetrics(w io.Writer) error {
	if f.err != nil {
		return f.err
	}
	_, err := io.WriteString(w, f.metrics)
	return err
}

func serve(h http.Handler, method, path string) *http.Response {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Result()
}

func TestHandler_Status(t *testing.T) {
	src := fakeSource{status: protocol.Status{
		ID: 2, Incarnation: 1_700_000_000_123_456_789, ViewID: 7, Members: []protocol.PeerID{2, 3, 4}, Leader: 2, Role: "leader",
		Promise: protocol.Ballot{Round: 1, Leader: 2}, Suspects: []protocol.PeerID{4},
		Tags: mustTags("role=db"), MemberTags: []protocol.Tags{mustTags("role=db"), {}, mustTags("role=web", "zone=b")},
	}}
	resp := serve(newHandler(src), http.MethodGet, "/status")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	// Numbers as written: an incarnation does not fit a float64.
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	var got map[string]any
	if err := dec.Decode(&got); err != nil {
		t.Fatal(err)
	}
	n := func(s string) json.Number { return json.Number(s) }
	want := map[string]any{
		"id": n("2"), "incarnation": n("1700000000123456789"), "view_id": n("7"), "members": []any{n("2"), n("3"), n("4")}, "leader": n("2"),
		"suspects": []any{n("4")}, "ballot": map[string]any{"round": n("1"), "leader": n("2")}, "role": "leader",
		"tags":        map[string]any{"role": "db"},
		"member_tags": map[string]any{"2": map[string]any{"role": "db"}, "3": map[string]any{}, "4": map[string]any{"role": "web", "zone": "b"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("/status (-want +got):\n%s", diff)
	}
}

func TestHandler_StatusJoiningHasEmptyLists(t *testing.T) {
	src := fakeSource{status: protocol.Status{ID: 5, Role: "joining", Promise: protocol.InitialBallot}}
	resp := serve(newHandler(src), http.MethodGet, "/status")
	body, _ := io.ReadAll(resp.Body)
	want := `{"id":5,"incarnation":0,"view_id":0,"members":[],"leader":0,"suspects":[],"ballot":{"round":0,"leader":1},"role":"joining",` +
		`"tags":{},"member_tags":{}}` + "\n"
	if diff := cmp.Diff(want, string(body)); diff != "" {
		t.Errorf("/status (-want +got):\n%s", diff)
	}
}

func TestHandler_Ready(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status protocol.Status
		code   int
		body   string
	}{
		{"follower", protocol.Status{ID: 3, ViewID: 7, Members: []protocol.PeerID{1, 2, 3}, Leader: 1, Role: "follower"},
			http.StatusOK, "ready: member of view 7, leader 1\n"},
		{"leader", protocol.Status{ID: 1, ViewID: 1, Members: []protocol.PeerID{1}, Leader: 1, Role: "leader"},
			http.StatusOK, "ready: member of view 1, leader 1\n"},
		// A candidate still holds its view: a leader change is no reason
		// to take every member out of service.
		{"candidate", protocol.Status{ID: 2, ViewID: 4, Members: []protocol.PeerID{1, 2, 3}, Leader: 1, Role: "candidate"},
			http.StatusOK, "ready: member of view 4, leader 1\n"},
		{"joining", protocol.Status{ID: 5, Role: "joining", Promise: protocol.InitialBallot},
			http.StatusServiceUnavailable, "not ready: not a member of a view (joining)\n"},
		{"stopped in a view", protocol.Status{ID: 2, ViewID: 4, Members: []protocol.PeerID{1, 2, 3}, Leader: 1, Role: "stopped"},
			http.StatusServiceUnavailable, "not ready: stopped\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := serve(newHandler(fakeSource{status: tc.status}), http.MethodGet, "/ready")
			body, _ := io.ReadAll(resp.Body)
			type answer struct {
				Code int
				Body string
			}
			if diff := cmp.Diff(answer{tc.code, tc.body}, answer{resp.StatusCode, string(body)}); diff != "" {
				t.Errorf("/ready (-want +got):\n%s", diff)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type %q, want text/plain", ct)
			}
		})
	}
}

func TestHandler_Metrics(t *testing.T) {
	src := fakeSource{metrics: "# TYPE memberly_views_installed_total counter\nmemberly_views_installed_total 3\n"}
	resp := serve(newHandler(src), http.MethodGet, "/metrics")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q, want text/plain; version=0.0.4", ct)
	}
	body, _ := io.ReadAll(resp.Body)
	if diff := cmp.Diff(src.metrics, string(body)); diff != "" {
		t.Errorf("/metrics (-want +got):\n%s", diff)
	}
}

func TestHandler_MetricsError(t *testing.T) {
	src := fakeSource{err: errors.New("closed")}
	resp := serve(newHandler(src), http.MethodGet, "/metrics")
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("status %d, want 500", resp.StatusCode)
	}
}

func TestHandler_NotFound(t *testing.T) {
	for _, path := range []string{"/", "/statusx", "/status/x", "/metrics/", "/ready/", "/readyz", "/debug/pprof/"} {
		resp := serve(newHandler(fakeSource{}), http.MethodGet, path)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, resp.StatusCode)
		}
	}
}

func TestHandler_MethodNotAllowed(t *testing.T) {
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		for _, path := range []string{"/status", "/ready", "/metrics"} {
			resp := serve(newHandler(fakeSource{}), method, path)
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: status %d, want 405", method, path, resp.StatusCode)
			}
			if allow := resp.Header.Get("Allow"); !strings.Contains(allow, "GET") {
				t.Errorf("%s %s: Allow %q, want GET", method, path, allow)
			}
		}
	}
}

// TestNewServer_Limits: every limit is set, so that no client can hold
// connections (and file descriptors) for long or send large headers.
func TestNewServer_Limits(t *testing.T) {
	srv := newServer(fakeSource{}, nil)
	type limits struct {
		MaxConns                                                  int
		ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
		MaxHeaderBytes                                            int
	}
	want := limits{64, 3 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second, 8 << 10}
	got := limits{srv.maxConns, srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("limits (-want +got):\n%s", diff)
	}
	resp := serve(srv.Handler, http.MethodGet, "/status")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /status through the server's handler: status %d, want 200", resp.StatusCode)
	}
}

// testServer is an -http server on a loopback port that counts the
// connections it holds open: accepted and not yet closed, as the kernel
// sees them. (net/http's connection states lag: a closed connection is
// reported closed after its slot has gone to the next one.)
type testServer struct {
	addr string

	mu         sync.Mutex
	open, peak int
}

func (s *testServer) peakConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

// startServer serves a fake peer's status with limits lim until the test
// ends.
func startServer(t *testing.T, lim httpLimits) *testServer {
	t.Helper()
	ts := &testServer{}
	srv := newServerWith(fakeSource{status: protocol.Status{ID: 1, Role: "leader"}}, log.New(io.Discard, "", 0), lim)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = ln.Addr().String()
	go srv.Serve(countingListener{ln, ts})
	t.Cleanup(func() { srv.Close() })
	return ts
}

// shortLimits are the default limits with timeouts short enough for a
// test: idle connections close after idle.
func shortLimits(idle time.Duration) httpLimits {
	lim := defaultHTTPLimits
	lim.readHeader, lim.read, lim.write, lim.idle = time.Second, 2*time.Second, 2*time.Second, idle
	return lim
}

// exchange is one keep-alive client's GET /status on its own connection.
type exchange struct {
	status int
	err    error
	// answered is when the response came, closed when the server then
	// closed the idle connection.
	answered, closed time.Time
}

// getAndIdle sends GET /status on c, reads the response, then sends
// nothing more and waits for the server to close c.
func getAndIdle(c net.Conn) exchange {
	var x exchange
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, x.err = io.WriteString(c, "GET /status HTTP/1.1\r\nHost: memberly\r\n\r\n"); x.err != nil {
		return x
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		x.err = err
		return x
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	x.status, x.answered = resp.StatusCode, time.Now()
	if _, err := br.ReadByte(); err != io.EOF {
		x.err = errors.Errorf("after the response: %v, want the server to close the connection", err)
	}
	x.closed = time.Now()
	return x
}

// Keep-alive clients that send one request and then idle never hold more
// than maxConns connections: the first maxConns are answered at once and
// closed after the idle timeout; the rest wait in the accept queue and are
// answered as those close.
func TestServer_IdleConnectionsCapped(t *testing.T) {
	const idle = time.Second
	lim := shortLimits(idle)
	ts := startServer(t, lim)
	n := lim.maxConns + 36
	start := time.Now()
	xs := make([]exchange, n)
	var wg sync.WaitGroup
	for i := range n {
		c, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		wg.Add(1)
		go func() {
			defer wg.Done()
			xs[i] = getAndIdle(c)
		}()
	}
	wg.Wait()

	type summary struct {
		PeakConns, Answered, AnsweredAtOnce int
	}
	var got summary
	got.PeakConns = ts.peakConns()
	for i, x := range xs {
		if x.err != nil || x.status != http.StatusOK {
			t.Errorf("client %d: status %d, %v; want 200", i, x.status, x.err)
			continue
		}
		got.Answered++
		if x.answered.Sub(start) < idle/2 {
			got.AnsweredAtOnce++
		}
		if held := x.closed.Sub(x.answered); held < idle/2 || held > idle+3*time.Second {
			t.Errorf("client %d: closed %v after its response, want about the idle timeout %v", i, held, idle)
		}
	}
	want := summary{PeakConns: lim.maxConns, Answered: n, AnsweredAtOnce: lim.maxConns}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%d keep-alive clients, cap %d (-want +got):\n%s", n, lim.maxConns, diff)
	}
}

// With every slot held by an idle keep-alive connection, GET /status
// waits for the first of them to time out, then is answered.
func TestServer_StatusWaitsForAFreeSlot(t *testing.T) {
	const idle = time.Second
	lim := shortLimits(idle)
	ts := startServer(t, lim)
	held := make(chan exchange, lim.maxConns)
	for range lim.maxConns {
		c, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		go func() { held <- getAndIdle(c) }()
	}
	// Every slot is taken once the server has accepted every holder.
	deadline := time.Now().Add(10 * time.Second)
	for ts.peakConns() < lim.maxConns {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d slots held after 10 s", ts.peakConns(), lim.maxConns)
		}
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + ts.addr + "/status")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	took := time.Since(start)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d, want 200", resp.StatusCode)
	}
	if took < idle/2 || took > idle+3*time.Second {
		t.Errorf("answered after %v, want about the idle timeout %v (the slots were all held)", took, idle)
	}
	for range lim.maxConns {
		if x := <-held; x.err != nil || x.status != http.StatusOK {
			t.Errorf("a holder: status %d, %v; want 200", x.status, x.err)
		}
	}
}

// A connection that sends no request is closed after the header timeout.
func TestServer_SilentConnectionClosed(t *testing.T) {
	lim := shortLimits(time.Second)
	ts := startServer(t, lim)
	c, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := c.Read(make([]byte, 1))
	took := time.Since(start)
	if n != 0 || err != io.EOF {
		t.Errorf("read %d bytes, %v; want the server to close the connection", n, err)
	}
	if took < lim.readHeader/2 || took > lim.readHeader+3*time.Second {
		t.Errorf("closed after %v, want about the header timeout %v", took, lim.readHeader)
	}
}

// Headers beyond maxHeaderBytes are refused with 431; headers within it
// are served.
func TestServer_OversizedHeaderRefused(t *testing.T) {
	ts := startServer(t, defaultHTTPLimits)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for _, tc := range []struct {
		size int
		want int
	}{
		{6 << 10, http.StatusOK},
		{64 << 10, http.StatusRequestHeaderFieldsTooLarge},
	} {
		req, err := http.NewRequest(http.MethodGet, "http://"+ts.addr+"/status", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Padding", strings.Repeat("a", tc.size))
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("a header of %d bytes: %v, want status %d", tc.size, err, tc.want)
			continue
		}
		resp.Body.Close()
		if diff := cmp.Diff(tc.want, resp.StatusCode); diff != "" {
			t.Errorf("a header of %d bytes: status (-want +got):\n%s", tc.size, diff)
		}
	}
}

// A full limitListener's Accept waits for a connection to close, and
// returns at once when the listener is closed.
func TestLimitListener_AcceptWaits(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := newLimitListener(inner, 1)
	defer ln.Close()
	for range 2 {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	first, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Close()
		}
		accepted <- err
	}()
	select {
	case err := <-accepted:
		t.Fatalf("a second Accept returned (%v) while the first connection is open", err)
	case <-time.After(100 * time.Millisecond):
	}
	// Closing twice frees the slot once.
	first.Close()
	first.Close()
	if err := <-accepted; err != nil {
		t.Fatalf("Accept after the first connection closed: %v", err)
	}

	go func() {
		_, err := ln.Accept()
		accepted <- err
	}()
	time.Sleep(50 * time.Millisecond)
	ln.Close()
	select {
	case err := <-accepted:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept on a closed listener: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("Accept did not return after Close")
	}
}

// countingListener counts in ts the connections it accepted and that are
// not closed yet.
type countingListener struct {
	net.Listener
	ts *testServer
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.ts.mu.Lock()
	l.ts.open++
	l.ts.peak = max(l.ts.peak, l.ts.open)
	l.ts.mu.Unlock()
	return &countedConn{Conn: c, ts: l.ts}, nil
}

// countedConn leaves the count when first closed.
type countedConn struct {
	net.Conn
	ts   *testServer
	once sync.Once
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.ts.mu.Lock()
		c.ts.open--
		c.ts.mu.Unlock()
	})
	return err
}

// CloseWrite passes the half-close on, as limitConn does.
func (c *countedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
