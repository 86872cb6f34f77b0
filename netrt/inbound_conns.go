package netrt

import (
	"net"
	"slices"
	"sync"
	"time"

	"github.com/memberly/memberly/protocol"
)

// firstFrameTimeout bounds how long an inbound connection may stay open
// without delivering a frame that passes every check. A peer dials only
// when it has a frame to send, and sends it at once, so its connections
// prove themselves within a round trip; anything else that connects is
// closed soon after.
const firstFrameTimeout = 5 * time.Second

// inboundConns bounds the open inbound connections. A connection is proven
// once a frame from it passed every check (seal, decoding, identity); until
// then it may be anyone's. When the bound is reached, the oldest unproven
// connection makes room for a new one, so whoever can reach the port
// cannot lock the peers out by holding idle connections: only proven
// connections are never displaced, but by a newer one from the same peer.
type inboundConns struct {
	max int

	mu     sync.Mutex
	proven map[net.Conn]bool // every open connection: proven or not
	queue  []net.Conn        // the unproven ones, in accept order
	// byPeer is each peer's newest proven connection. A peer sends over
	// one connection at a time, and dials a new one only once it gave
	// up the old; but the old one may stay open here for good when the
	// FIN or RST that ended it was lost to a partition (a link replaces
	// a stalled connection in just that case, see stall.go). Were such
	// connections kept, they would fill the slots one by one.
	byPeer map[protocol.PeerID]net.Conn
}

func newInboundConns(max int) *inboundConns {
	return &inboundConns{max: max, proven: make(map[net.Conn]bool), byPeer: make(map[protocol.PeerID]net.Conn)}
}

// add registers c, which was just accepted. At the bound it closes the
// oldest unproven connection to make room and returns it; when every open
// connection is proven it refuses c (ok false), and the caller closes c.
func (s *inboundConns) add(c net.Conn) (evicted net.Conn, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.proven) >= s.max {
		if len(s.queue) == 0 {
			return nil, false
		}
		evicted = s.queue[0]
		s.queue = s.queue[1:]
		delete(s.proven, evicted)
		evicted.Close() // its goroutine sees the close and ends
	}
	s.proven[c] = false
	s.queue = append(s.queue, c)
	return evicted, true
}

// prove marks c proven, as a connection of peer from: it is never
// displaced to make room. It closes the connection of that peer that c
// supersedes, if one is open, and returns it: whatever is still unread on
// it was sent before anything on c, by a sender that gave it up.
func (s *inboundConns) prove(c net.Conn, from protocol.PeerID) (superseded net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	proven, open := s.proven[c]
	if !open || proven {
		return nil
	}
	s.proven[c] = true
	s.dequeue(c)
	if old := s.byPeer[from]; old != nil {
		if _, open := s.proven[old]; open {
			delete(s.proven, old)
			old.Close() // its goroutine sees the close and ends
			superseded = old
		}
	}
	s.byPeer[from] = c
	return superseded
}

// remove forgets c, which has closed.
func (s *inboundConns) remove(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, open := s.proven[c]; open {
		delete(s.proven, c)
		s.dequeue(c)
	}
	for id, pc := range s.byPeer { // at most one per peer
		if pc == c {
			delete(s.byPeer, id)
		}
	}
}

func (s *inboundConns) dequeue(c net.Conn) {
	if i := slices.Index(s.queue, c); i >= 0 {
		s.queue = slices.Delete(s.queue, i, i+1)
	}
}
