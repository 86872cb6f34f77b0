package netrt

import (
	"net"
	"syscall"
	"time"

	"github.com/pkg/errors"
)

// A stream stalls when the network swallows what this peer sends and
// nothing comes back: a partition, a firewall that drops. The kernel keeps
// retransmitting, each time waiting twice as long as the time before, so a
// connection that stayed stalled for a while may stay silent for many
// seconds after the network healed, and everything queued behind it waits
// as long. The protocol's retransmissions do not help: they go into the
// same connection. So a link does not wait for the kernel: it replaces a
// stalled connection, at once when it hears from the peer (the network is
// back), after its usual backoff otherwise (see link.checkStall). What the
// kernel held in the old connection is lost; the protocol retransmits what
// matters.

// minStallAfter is the least stallAfter, whatever SuspectAfter: above the
// longest a healthy LAN connection leaves data unacknowledged. Linux
// delays an ACK by at most 200 ms (RFC 1122 allows 500 ms) and retransmits
// a lost segment after 200 ms at the earliest, so a connection that lost
// one segment and got it through on the first retransmission is not
// stalled.
const minStallAfter = 500 * time.Millisecond

// stallAfterFor is how long data may stay unacknowledged on a link's
// connection before the connection counts as stalled: half of
// SuspectAfter, and at least minStallAfter.
//
// Half, because then a heal is followed within about SuspectAfter/2 by
// a stream that moves again, however long the partition lasted. A
// partition shorter than the bound leaves the kernel retransmitting
// about as often as the partition lasted (its wait doubles each time), so
// it retries within about the bound after the heal; after a longer one the
// link redials as soon as it hears the peer. And the bound is passed
// before the partition makes anyone suspect the peer, so the link already
// knows the stream is stalled by the time the peer is back.
func stallAfterFor(suspectAfter time.Duration) time.Duration {
	return max(suspectAfter/2, minStallAfter)
}

// stallCheckFor is the period of the event loop's check of every link,
// which replaces a stalled connection even when the peer stays silent:
// half the bound, so a stall is found within 1.5 times stallAfter of the
// write, before the kernel aborts the connection (userTimeoutFor).
func stallCheckFor(stallAfter time.Duration) time.Duration { return stallAfter / 2 }

// userTimeoutFor is TCP_USER_TIMEOUT, set on every connection a link
// dials (Linux only): the kernel aborts a connection whose data stays
// unacknowledged this long, twice the stall bound (SuspectAfter, unless
// that is below 2*minStallAfter). A connection that delivered nothing for
// as long as it takes to suspect a silent peer is as good as gone; the
// kernel then gives it up itself rather than retransmit into a partition
// for the default fifteen minutes, even when this process does not look
// (between checks, or once the link closed it and the kernel still tries
// to send what it held).
func userTimeoutFor(stallAfter time.Duration) time.Duration { return 2 * stallAfter }

// tcpProgress is what the kernel tells of an outbound connection's
// progress: the fields of Linux's struct tcp_info that the stall rule and
// its log line use.
type tcpProgress struct {
	unacked     uint32        // segments sent and not yet acknowledged
	sinceAck    time.Duration // since the last ACK was received
	retransmits uint8         // retransmission timeouts in a row of the oldest unacknowledged segment
	backoff     uint8         // doublings of the retransmission timeout
	rto         time.Duration // the current retransmission timeout
}

// errNoTCPInfo: the OS does not tell a connection's progress (tcpinfo_*.go).
var errNoTCPInfo = errors.New("TCP_INFO is not available on this system")

// stalledTCP is the stall rule on what the kernel tells: data is
// unacknowledged, and nothing was acknowledged for stallAfter since the
// oldest of it was written. pendingFor is how long ago the link wrote the
// oldest data that may still be unacknowledged (see stream.pendingSince);
// the ACK clock alone would count an idle connection's quiet time against
// data written a moment ago.
func stalledTCP(p tcpProgress, pendingFor, stallAfter time.Duration) bool {
	return p.unacked > 0 && min(p.sinceAck, pendingFor) >= stallAfter
}

// stalledWrite is the stall rule that needs nothing from the kernel: a
// write waited stallAfter for room in a send buffer that the peer does not
// empty. Where the kernel tells nothing, it is the only rule, and it sees
// only a stall that has filled the send buffer (tens of kilobytes or more,
// where membership messages are tens of bytes): there a stall of a few
// small frames is left to the kernel. Where the kernel tells, it also
// catches a peer that acknowledges but takes nothing (its receive window
// stays shut).
func stalledWrite(writingFor, stallAfter time.Duration) bool {
	return writingFor >= stallAfter
}

// stream is the connection a link writes on, with what tells whether it
// still makes progress. The link's mutex guards its fields but conn and
// raw, which are set once.
type stream struct {
	conn net.Conn
	raw  syscall.RawConn // for getsockopt; nil when conn offers none
	// pendingSince is when the link wrote the oldest data that may
	// still be unacknowledged: the first write since a look at the
	// connection found nothing unacknowledged. Zero when nothing was
	// written since that look. Invariant: the connection held
	// unacknowledged data all the time since pendingSince, or an ACK
	// came after it (which sinceAck shows), so the smaller of the two
	// never exceeds the time without progress.
	pendingSince time.Time
	// writeSince is when the write in progress began; zero between
	// writes.
	writeSince time.Time
}

// newStream wraps a dialled connection.
func newStream(c net.Conn) *stream {
	s := &stream{conn: c}
	if sc, ok := c.(syscall.Conn); ok {
		s.raw, _ = sc.SyscallConn()
	}
	return s
}

// progress asks the kernel about s.
func (s *stream) progress() (tcpProgress, error) {
	if s.raw == nil {
		return tcpProgress{}, errNoTCPInfo
	}
	return readTCPInfo(s.raw)
}

// beginWrite notes a write starting at now; the link's mutex is held.
// A look before the write tells whether the data about to be written is
// the oldest unacknowledged: it is when nothing was pending, or when all
// that was has been acknowledged since.
func (s *stream) beginWrite(now time.Time) {
	s.writeSince = now
	if s.pendingSince.IsZero() {
		s.pendingSince = now
		return
	}
	if p, err := s.progress(); err == nil && p.unacked == 0 {
		s.pendingSince = now
	}
}

// endWrite notes the write in progress finished; the link's mutex is
// held.
func (s *stream) endWrite() { s.writeSince = time.Time{} }

// delivered reports whether everything written on s is known to be
// acknowledged: nothing was written since a look found nothing
// unacknowledged, or the kernel says so now. Where the kernel tells
// nothing, only a write in progress says otherwise. The link's mutex is
// held.
func (s *stream) delivered() bool {
	if !s.writeSince.IsZero() {
		return false
	}
	if s.pendingSince.IsZero() {
		return true
	}
	p, err := s.progress()
	if err != nil {
		return errors.Is(err, errNoTCPInfo)
	}
	if p.unacked > 0 {
		return false
	}
	s.pendingSince = time.Time{}
	return true
}

// stalled reports whether s has stalled at now, and what the kernel told
// of it (the zero tcpProgress where it tells nothing); the link's mutex is
// held. A connection the kernel already closed is not stalled: the link
// finds out at its next write.
func (s *stream) stalled(now time.Time, stallAfter time.Duration) (bool, tcpProgress) {
	if s.pendingSince.IsZero() && s.writeSince.IsZero() {
		return false, tcpProgress{} // nothing written since all was acknowledged: no syscall
	}
	blocked := !s.writeSince.IsZero() && stalledWrite(now.Sub(s.writeSince), stallAfter)
	p, err := s.progress()
	if err != nil {
		// errNoTCPInfo leaves the write rule alone; any other error
		// is a connection already closed.
		return blocked && errors.Is(err, errNoTCPInfo), tcpProgress{}
	}
	if p.unacked == 0 {
		s.pendingSince = time.Time{}
	}
	var pendingFor time.Duration
	if !s.pendingSince.IsZero() {
		pendingFor = now.Sub(s.pendingSince)
	}
	return blocked || stalledTCP(p, pendingFor, stallAfter), p
}
