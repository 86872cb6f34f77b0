package main

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/memberly/memberly/protocol"
)

// statusSource is what the HTTP endpoints read: a *netrt.Runtime.
type statusSource interface {
	Status() protocol.Status
	WriteMetrics(w io.Writer) error
}

// statusJSON is the body of GET /status.
type statusJSON struct {
	ID protocol.PeerID `json:"id"`
	// Incarnation names this process among the peer's (a durable peer's
	// is the one it resumed with). It may exceed 2^53: a client must read
	// it as a 64-bit integer, not a float.
	Incarnation uint64            `json:"incarnation"`
	ViewID      protocol.ViewID   `json:"view_id"`
	Members     []protocol.PeerID `json:"members"`
	Leader      protocol.PeerID   `json:"leader"`
	Suspects    []protocol.PeerID `json:"suspects"`
	Ballot      ballotJSON        `json:"ballot"`
	Role        string            `json:"role"`
	// Tags are this peer's own (-tag), {} for none; MemberTags the
	// tags its view holds for each member, by id, {} for a member
	// without any.
	Tags       protocol.Tags                     `json:"tags"`
	MemberTags map[protocol.PeerID]protocol.Tags `json:"member_tags"`
}

type ballotJSON struct {
	Round  uint64          `json:"round"`
	Leader protocol.PeerID `json:"leader"`
}

// httpLimits bound what clients of the -http server can make the peer
// hold: connections (each a file descriptor, which the peer needs for its
// own sockets), time and header bytes.
type httpLimits struct {
	// maxConns caps the connections open at once. Past it the server
	// stops accepting: further connections wait in the kernel's accept
	// queue, holding no descriptor of this process, and are taken in the
	// order they came as open ones close (see limitListener).
	maxConns int
	// readHeader bounds the time to read a request's headers (a
	// connection that sends none is closed after it), read the whole
	// request, write its response.
	readHeader, read, write time.Duration
	// idle closes a keep-alive connection that has sent no next request
	// this long after its last response.
	idle time.Duration
	// maxHeaderBytes caps a request's headers (the server reads 4 KiB
	// beyond it before it answers 431).
	maxHeaderBytes int
}

// defaultHTTPLimits are the -http server's. Status and metrics are a few
// kilobytes, answered at once, so a few seconds is plenty for any client,
// and 64 connections are far more than the few an operator and some
// scrapers use. A client finding all 64 taken waits at
// most until one is freed: an idle one after idle, one that sends nothing
// after readHeader, a busy one after its request.
var defaultHTTPLimits = httpLimits{
	maxConns:       64,
	readHeader:     3 * time.Second,
	read:           5 * time.Second,
	write:          5 * time.Second,
	idle:           5 * time.Second,
	maxHeaderBytes: 8 << 10,
}

// httpServer is the -http server: an http.Server whose Serve caps the
// connections open at once.
type httpServer struct {
	*http.Server
	maxConns int
}

// newServer returns the server of -http: newHandler(src), with
// defaultHTTPLimits.
func newServer(src statusSource, errLog *log.Logger) *httpServer {
	return newServerWith(src, errLog, defaultHTTPLimits)
}

// newServerWith returns the server of -http with limits lim.
func newServerWith(src statusSource, errLog *log.Logger, lim httpLimits) *httpServer {
	return &httpServer{
		Server: &http.Server{
			Handler:           newHandler(src),
			ReadHeaderTimeout: lim.readHeader,
			ReadTimeout:       lim.read,
			WriteTimeout:      lim.write,
			IdleTimeout:       lim.idle,
			MaxHeaderBytes:    lim.maxHeaderBytes,
			ErrorLog:          errLog,
		},
		maxConns: lim.maxConns,
	}
}

// Serve serves connections from ln, at most maxConns open at once, until
// the server is closed.
func (s *httpServer) Serve(ln net.Listener) error {
	return s.Server.Serve(newLimitListener(ln, s.maxConns))
}

// limitListener is a listener with at most cap(slots) connections open:
// Accept waits for one of them to close first. Waiting rather than
// accepting and closing the extra ones keeps them in the kernel's accept
// queue, where they cost this process no descriptor, and serves them in
// turn instead of turning them away. The kernel bounds that queue (the
// listen backlog, net.core.somaxconn); past it, it drops new connection
// attempts and their clients retry.
type limitListener struct {
	net.Listener
	slots     chan struct{} // one element per open connection
	done      chan struct{} // closed by Close: Accept stops waiting
	closeOnce sync.Once
}

func newLimitListener(ln net.Listener, n int) *limitListener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), done: make(chan struct{})}
}

// Accept waits for a free slot, then for a connection.
func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, free: func() { <-l.slots }}, nil
}

// Close closes the listener and ends a waiting Accept.
func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitConn frees its slot when closed, once however often it is closed.
type limitConn struct {
	net.Conn
	freeOnce sync.Once
	free     func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.freeOnce.Do(c.free)
	return err
}

// CloseWrite passes on the half-close net/http uses before closing a
// connection it answered with an error (such as 431), so that the client
// reads the answer rather than a reset.
func (c *limitConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// metricsContentType is the Prometheus text exposition format.
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// newHandler serves GET /status, GET /ready and GET /metrics from src. The
// method patterns make the mux answer 405 (with Allow) to other methods and
// 404 to other paths.
func newHandler(src statusSource) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		writeStatus(w, src.Status())
	})
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, _ *http.Request) {
		writeReady(w, src.Status())
	})
	if admin, ok := src.(adminSource); ok {
		registerAdmin(mux, admin)
	}
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		// Rendered first, so a failure can still be answered with 500.
		var buf bytes.Buffer
		if err := src.WriteMetrics(&buf); err != nil {
			http.Error(w, "metrics: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", metricsContentType)
		_, _ = w.Write(buf.Bytes())
	})
	return mux
}

func writeStatus(w http.ResponseWriter, s protocol.Status) {
	body := statusJSON{
		ID:          s.ID,
		Incarnation: s.Incarnation,
		ViewID:      s.ViewID,
		// Empty lists render as [] rather than null: clients iterate them.
		Members:  nonNil(s.Members),
		Leader:   s.Leader,
		Suspects: nonNil(s.Suspects),
		Ballot:   ballotJSON{Round: s.Promise.Round, Leader: s.Promise.Leader},
		Role:     s.Role,
		Tags:     s.Tags,
		// Every member is listed, so that a client finds each
		// member's tags without telling a missing key from none.
		MemberTags: make(map[protocol.PeerID]protocol.Tags, len(s.Members)),
	}
	view := protocol.View{Members: s.Members, Tags: s.MemberTags}
	for _, p := range s.Members {
		body.MemberTags[p] = view.TagsOf(p)
	}
	writeJSON(w, "status", body)
}

// writeReady answers 200 when the peer is a member of a view, and 503
// otherwise, each with one line saying why. /status answers 200 whenever
// the process does; a readiness check (a Kubernetes probe, a load
// balancer) needs a status code that says whether the peer has joined.
func writeReady(w http.ResponseWriter, s protocol.Status) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	switch {
	case s.Role == "stopped":
		// It left or crashed, and exits: its last view no longer counts.
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "not ready: stopped")
	case s.ViewID == 0:
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "not ready: not a member of a view (joining)")
	default:
		fmt.Fprintf(w, "ready: member of view %d, leader %d\n", s.ViewID, s.Leader)
	}
}

func nonNil(ids []protocol.PeerID) []protocol.PeerID {
	if ids == nil {
		return []protocol.PeerID{}
	}
	return ids
}
