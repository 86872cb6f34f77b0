package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/memberly/memberly/netrt"
	"github.com/memberly/memberly/protocol"
)

// adminSource is what GET /members, POST /evict and POST /leave need
// beyond statusSource. The peer's runtime provides it (peerAdmin); a
// statusSource without it serves only /status, /ready and /metrics.
type adminSource interface {
	statusSource
	Members(ctx context.Context) ([]protocol.MemberStatus, error)
	Evict(protocol.PeerID)
	Leave()
	// Address names member id as the hosts file does (host:tcp).
	Address(id protocol.PeerID) string
	// AdminToken is the token POST /evict and /leave require, "" when
	// none was given: they are then served on loopback connections only.
	AdminToken() string
}

// peerAdmin is the running peer as an adminSource.
type peerAdmin struct {
	*netrt.Runtime
	hosts netrt.Hosts
	token string
}

func (p peerAdmin) Address(id protocol.PeerID) string {
	for _, h := range p.hosts {
		if h.ID == id {
			return h.TCPAddr
		}
	}
	return ""
}

func (p peerAdmin) AdminToken() string { return p.token }

// memberJSON is one member in GET /members.
type memberJSON struct {
	ID          protocol.PeerID `json:"id"`
	Address     string          `json:"address"`
	Incarnation uint64          `json:"incarnation"` // may exceed 2^53: read it as a 64-bit integer
	Role        string          `json:"role"`        // leader or member, as this peer sees it
	// LastHeardSeconds is how long this peer had not heard from the
	// member, in seconds; 0 for itself. Watched tells whether this peer
	// times the member's heartbeats: silence from one it does not watch
	// (in a view larger than Observers+1) says little.
	LastHeardSeconds float64 `json:"last_heard_s"`
	Watched          bool    `json:"watched"`
	Self             bool    `json:"self"`
	// Tags are the member's tags as the view holds them (its -tag
	// flags), as an object; {} for none.
	Tags protocol.Tags `json:"tags"`
}

// membersTimeout bounds how long GET /members waits for the event loop.
const membersTimeout = 2 * time.Second

// registerAdmin adds GET /members, POST /evict and POST /leave to mux.
func registerAdmin(mux *http.ServeMux, src adminSource) {
	mux.HandleFunc("GET /members", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), membersTimeout)
		defer cancel()
		ms, err := src.Members(ctx)
		if err != nil {
			http.Error(w, "members: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		self := src.Status().ID
		out := make([]memberJSON, 0, len(ms))
		for _, m := range ms {
			role := "member"
			if m.Leader {
				role = "leader"
			}
			out = append(out, memberJSON{ID: m.ID, Address: src.Address(m.ID), Incarnation: m.Incarnation, Role: role,
				LastHeardSeconds: m.Silent.Seconds(), Watched: m.Watched, Self: m.ID == self, Tags: m.Tags})
		}
		writeJSON(w, "members", out)
	})
	mux.HandleFunc("POST /evict", func(w http.ResponseWriter, r *http.Request) {
		if !adminAllowed(w, r, src.AdminToken()) {
			return
		}
		id, err := strconv.ParseUint(r.URL.Query().Get("peer"), 10, 32)
		s := src.Status()
		switch {
		case err != nil || id == 0:
			http.Error(w, "evict: want ?peer=N, a member's id", http.StatusBadRequest)
		case s.Role != "leader":
			http.Error(w, fmt.Sprintf("evict: peer %d does not lead; ask the leader, peer %d", s.ID, s.Leader), http.StatusConflict)
		case protocol.PeerID(id) == s.ID || !slices.Contains(s.Members, protocol.PeerID(id)):
			http.Error(w, fmt.Sprintf("evict: peer %d is not another member of view %d %s", id, s.ViewID, protocol.FormatMembers(s.Members)), http.StatusBadRequest)
		default:
			src.Evict(protocol.PeerID(id))
			w.WriteHeader(http.StatusAccepted)
			fmt.Fprintf(w, "evicting peer %d: the leader queued its removal\n", id)
		}
	})
	mux.HandleFunc("POST /leave", func(w http.ResponseWriter, r *http.Request) {
		if !adminAllowed(w, r, src.AdminToken()) {
			return
		}
		src.Leave()
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprintf(w, "leaving: peer %d asked its leader to remove it, and stops once out\n", src.Status().ID)
	})
}

// adminAllowed answers 403 and returns false unless the request may
// change the membership: with a token, when it carries it (Authorization:
// Bearer TOKEN); without one, when it came over a loopback connection,
// that is from this machine.
func adminAllowed(w http.ResponseWriter, r *http.Request, token string) bool {
	if token != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1 {
			return true
		}
		http.Error(w, "forbidden: this endpoint needs the -http-token-file token (Authorization: Bearer TOKEN)", http.StatusForbidden)
		return false
	}
	if local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if tcp, ok := local.(*net.TCPAddr); ok && tcp.IP.IsLoopback() {
			return true
		}
	}
	http.Error(w, "forbidden: without -http-token-file, only loopback connections may change the membership", http.StatusForbidden)
	return false
}

// writeJSON answers with v as one line of JSON; what names the endpoint
// in the error, should v not encode.
func writeJSON(w http.ResponseWriter, what string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, what+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(append(data, '\n'))
}
