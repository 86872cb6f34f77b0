package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("/status (-want +got):\n%s", diff)
	}
}

func TestHandler_StatusJoiningHasEmptyLists(t *testing.T) {
	src := fakeSource{status: protocol.Status{ID: 5, Role: "joining", Promise: protocol.InitialBallot}}
	resp := serve(newHandler(src), http.MethodGet, "/status")
	body, _ := io.ReadAll(resp.Body)
	want := `{"id":5,"incarnation":0,"view_id":0,"members":[],"leader":0,"suspects":[],"ballot":{"round":0,"leader":1},"role":"joining"}` + "\n"
	if diff := cmp.Diff(want, string(body)); diff != "" {
		t.Errorf("/status (-want +got):\n%s", diff)
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
	for _, path := range []string{"/", "/statusx", "/status/x", "/metrics/", "/debug/pprof/"} {
		resp := serve(newHandler(fakeSource{}), http.MethodGet, path)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, resp.StatusCode)
		}
	}
}

func TestHandler_MethodNotAllowed(t *testing.T) {
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		for _, path := range []string{"/status", "/metrics"} {
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

// TestNewServer_Timeouts: every timeout is set, the idle one above all,
// so that no client can hold connections (and file descriptors) forever.
func TestNewServer_Timeouts(t *testing.T) {
	srv := newServer(fakeSource{}, nil)
	for name, d := range map[string]time.Duration{
		"ReadHeaderTimeout": srv.ReadHeaderTimeout,
		"WriteTimeout":      srv.WriteTimeout,
		"IdleTimeout":       srv.IdleTimeout,
	} {
		if d <= 0 {
			t.Errorf("%s = %v, want a positive timeout", name, d)
		}
	}
	resp := serve(srv.Handler, http.MethodGet, "/status")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /status through the server's handler: status %d, want 200", resp.StatusCode)
	}
}
