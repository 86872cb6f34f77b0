package netrt

import (
	"sync"
	"time"

	"github.com/memberly/memberly/protocol"
)

// joinBurst is how many JOINs in a row one claimed sender id may send.
//
// Every JOIN from a member's id that names another process than the one in
// the view makes the leader remove that member and add it again (a
// restart), so a flood of JOINs claiming fresh incarnations would churn
// the view without end. An honest joiner sends one JOIN per
// JoinRetryInterval to the peer it asks, plus at most one more per
// interval when a redirect turns it to the leader: two per interval at
// most. The limit lets that through, with room for a burst (a restarted
// peer 1 asks every host at once, a retry may meet a redirect), and
// drops the rest before it reaches the peer.
const joinBurst = 3

// joinRefill is how long one claimed sender id waits for one more JOIN
// once its burst is spent, given the receiver's JoinRetryInterval: half of
// it, an honest joiner's highest rate. Peers of one cluster share their
// timing; a joiner configured to retry faster than its receivers sees
// some JOINs dropped, and joins a retry later.
func joinRefill(joinRetry time.Duration) time.Duration { return joinRetry / 2 }

// joinLimiter is a token bucket per claimed sender id for JOINs: each
// holds joinBurst tokens, a JOIN takes one, and one comes back every
// `every`. It is kept as the time at which each bucket will be full again
// (the generic cell rate algorithm, the same bucket in one number), so an
// id costs 8 bytes however much it sends. Safe for concurrent use: every
// connection's reader asks it.
type joinLimiter struct {
	every time.Duration
	// ahead is how far a bucket's full-again time may run ahead of now
	// for a JOIN to pass: (joinBurst-1) * every.
	ahead time.Duration

	mu   sync.Mutex
	full []time.Duration // by sender id: when its bucket is full again
}

// newJoinLimiter returns a limiter for ids 0..peers, refilling one token
// per every.
func newJoinLimiter(peers int, every time.Duration) *joinLimiter {
	return &joinLimiter{every: every, ahead: (joinBurst - 1) * every, full: make([]time.Duration, peers+1)}
}

// allow reports whether a JOIN from id at now (any clock that only grows)
// may pass, and takes its token if so.
func (l *joinLimiter) allow(id protocol.PeerID, now time.Duration) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if int(id) >= len(l.full) {
		return false
	}
	full := max(l.full[id], now)
	if full-now > l.ahead {
		return false
	}
	l.full[id] = full + l.every
	return true
}
