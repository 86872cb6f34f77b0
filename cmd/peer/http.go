package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log"
	"net/http"
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
}

type ballotJSON struct {
	Round  uint64          `json:"round"`
	Leader protocol.PeerID `json:"leader"`
}

// Timeouts of the HTTP server. Without an idle timeout a client could keep
// any number of idle keep-alive connections open, and with them the file
// descriptors the peer needs for its own sockets.
const (
	httpReadHeaderTimeout = 5 * time.Second
	httpWriteTimeout      = 10 * time.Second
	httpIdleTimeout       = time.Minute
)

// newServer returns the server of -http: newHandler(src), with timeouts.
func newServer(src statusSource, errLog *log.Logger) *http.Server {
	return &http.Server{
		Handler:           newHandler(src),
		ReadHeaderTimeout: httpReadHeaderTimeout,
		WriteTimeout:      httpWriteTimeout,
		IdleTimeout:       httpIdleTimeout,
		ErrorLog:          errLog,
	}
}

// metricsContentType is the Prometheus text exposition format.
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// newHandler serves GET /status and GET /metrics from src. The method
// patterns make the mux answer 405 (with Allow) to other methods and 404 to
// other paths.
func newHandler(src statusSource) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		writeStatus(w, src.Status())
	})
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
	}
	data, err := json.Marshal(body)
	if err != nil {
		http.Error(w, "status: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(data, '\n'))
}

func nonNil(ids []protocol.PeerID) []protocol.PeerID {
	if ids == nil {
		return []protocol.PeerID{}
	}
	return ids
}
