package netrt

import (
	"context"
	"math/rand/v2"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/protocol"
)

const (
	// backoffMin is the first pause before redialling a peer after a
	// failed dial or a broken connection: short, as a restarting peer is
	// back within a moment.
	backoffMin = 100 * time.Millisecond
	// backoffMax caps the pause: below the default suspect-after, so a
	// peer that comes back is reached before anyone gives up on it.
	backoffMax = 2 * time.Second
	// staleDialAfter is how long a dial may wait before hearing the peer
	// cuts it short, to dial again at once. A dial on a LAN is answered
	// within a round trip, and Linux resends an unanswered SYN only after
	// a second: a dial still waiting after half of that lost its SYN,
	// most likely to the partition that hearing the peer shows healed.
	staleDialAfter = 500 * time.Millisecond
)

// link carries stream messages to one peer over the one TCP connection
// this peer dials to it (the other direction has its own connection,
// dialled by the other peer). Its goroutine, started by the first frame,
// dials lazily, writes frames in order with a deadline, and redials with
// exponential backoff and jitter when a dial fails or the connection
// breaks. Frames wait in a bounded queue meanwhile; when it is full, the
// oldest is dropped: the protocol retransmits what matters, and the newest
// frames are the most up to date. A connection that stalls is replaced
// (stall.go, checkStall).
type link struct {
	r    *runtime
	to   protocol.PeerID
	wake chan struct{} // holds a token when frames were queued, or a redial asked for
	// redial holds a token when the peer was heard from while this link
	// was down: its pause before the next dial ends at once.
	redial chan struct{}

	mu      sync.Mutex
	queue   frameQueue
	writing bool // a frame is out of the queue, being written
	down    bool // the last dial or write failed: backing off
	started bool
	// conn is the connection run writes on, nil while there is none.
	// Only run sets it and clears it; a stall check may close it, and
	// then says in replace how run is to redial.
	conn    *stream
	replace replacement
	// dialing cuts short the dial in progress, nil when there is none;
	// dialSince is when it began.
	dialing   context.CancelFunc
	dialSince time.Time
	// beat is the first byte of the last heartbeat offered: a frame
	// that is never sent again (see offer).
	beat *byte
}

// replacement says whether a stall check closed the link's connection,
// and how the link is to redial.
type replacement uint8

const (
	keep          replacement = iota // not closed by a stall check
	redialNow                        // the peer was heard from: dial at once
	redialBackoff                    // the peer was not heard from: the usual backoff
)

// link returns the link to peer to, creating it on first use. Only the
// event loop calls it.
func (r *runtime) link(to protocol.PeerID) *link {
	l := r.links[to]
	if l == nil {
		l = &link{r: r, to: to, wake: make(chan struct{}, 1), redial: make(chan struct{}, 1), queue: newFrameQueue(r.opts.SendQueueLen, sendQueueBytes)}
		r.links[to] = l
	}
	return l
}

// enqueue queues one frame for sending. A connection found stalled now is
// replaced, after the usual backoff: the frame would only wait behind it.
func (l *link) enqueue(frame []byte) {
	l.mu.Lock()
	dropped := l.queue.push(frame)
	start := !l.started
	l.started = true
	l.mu.Unlock()
	for range dropped {
		l.r.dropped(dropQueueFull, l.name(), nil)
	}
	if start {
		l.r.spawn(l.run)
	}
	if !l.checkStall(time.Now(), false) {
		l.poke()
	}
}

// offer sends payload, a heartbeat, on the link's connection too, but only
// when the link is idle: nothing queued or being written, and its
// connection, if it has one, has delivered everything written to it (see
// stream.delivered). Otherwise it is skipped: the heartbeat went as a
// datagram as well, and a late one is worth nothing. A link with no
// connection dials for it, after its backoff; a heartbeat whose dial or
// write fails is not sent again (see done). So a link that is down or
// stalled never piles up heartbeats, and one that is busy sends its own
// frames first.
//
// The copy is what keeps a member heard while its datagrams are lost in a
// flood at the receiver: the flood fills the receiver's one UDP socket
// buffer, in which heartbeats and junk compete, while each stream has a
// buffer of its own that only its peer can write to.
func (l *link) offer(payload []byte) {
	l.mu.Lock()
	s := l.conn
	ok := !l.writing && l.queue.len() == 0 && (s == nil || (l.replace == keep && s.delivered()))
	start := false
	if ok {
		f := appendFrame(make([]byte, 0, frameHeaderLen+len(payload)), payload)
		l.queue.push(f)
		l.beat = &f[0]
		start = !l.started
		l.started = true
	}
	l.mu.Unlock()
	if start {
		l.r.spawn(l.run)
	}
	if ok {
		l.poke()
	}
}

// poke wakes the link's goroutine if it waits for a frame.
func (l *link) poke() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *link) name() string { return "peer " + strconv.Itoa(int(l.to)) }

// heard tells a link that its peer was just heard from: the network
// between them works, whatever its connection says. A link backing off
// after failed dials then dials at once: the peer is up now (a peer that
// starts after this one first tried it would otherwise wait out a
// backoff of up to backoffMax before its first message from here). A
// stalled connection is replaced at once: the kernel would go on waiting
// out its own retransmission backoff, which can last many times longer
// than the partition did. So is a dial waiting for an answer that will
// not come (staleDialAfter).
func (l *link) heard() {
	now := time.Now()
	l.mu.Lock()
	down := l.down
	var dialingFor time.Duration
	if l.dialing != nil && now.Sub(l.dialSince) >= staleDialAfter {
		dialingFor = now.Sub(l.dialSince)
		l.dialing()
		l.dialing = nil
		// The dial fails now, and the token below ends the pause
		// after it.
		down = true
	}
	upgraded := l.replace == redialBackoff
	if upgraded {
		// Closed as stalled while the peer was silent, not yet
		// redialled: the peer is back, so no backoff.
		l.replace = redialNow
	}
	l.mu.Unlock()
	if upgraded {
		l.poke()
	}
	if dialingFor > 0 {
		l.r.log.Debug("dial cut short: the peer was heard", "to", l.to, "dialling", dialingFor)
	}
	if down {
		select {
		case l.redial <- struct{}{}:
		default:
		}
		return
	}
	l.checkStall(now, true)
}

// checkStall closes the link's connection when it is stalled at now, and
// reports whether it did. heard says the peer was just heard from: the
// link then dials again at once, and otherwise after its usual backoff
// (the peer may well be unreachable). Cheap when nothing was written since
// the kernel last had everything acknowledged: no system call.
func (l *link) checkStall(now time.Time, heard bool) bool {
	l.mu.Lock()
	s := l.conn
	if s == nil || l.replace != keep {
		l.mu.Unlock()
		return false
	}
	stalled, p := s.stalled(now, l.r.stallAfter)
	if !stalled {
		l.mu.Unlock()
		return false
	}
	l.replace = redialBackoff
	if heard {
		l.replace = redialNow
	}
	pendingFor, writingFor := durationSince(now, s.pendingSince), durationSince(now, s.writeSince)
	l.mu.Unlock()
	// A write blocked on it fails now, and its frame goes first on the
	// next connection.
	s.conn.Close()
	l.r.met.stallRedials.Add(1)
	l.r.log.Debug("stream stalled: redialling", "to", l.to, "heard", heard,
		"pending", pendingFor, "writing", writingFor, "unacked", p.unacked,
		"since_ack", p.sinceAck, "retransmits", p.retransmits, "backoff", p.backoff, "rto", p.rto)
	l.poke()
	return true
}

// durationSince is now-t, or 0 for the zero t.
func durationSince(now, t time.Time) time.Duration {
	if t.IsZero() {
		return 0
	}
	return now.Sub(t)
}

// pause waits d before a redial, or less when the peer is heard from; it
// returns false when ctx ends.
func (l *link) pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-l.redial:
	case <-ctx.Done():
		return false
	}
	return true
}

// flushed reports whether the link has nothing left it can send: its
// queue is empty, or its peer is unreachable (waiting for it would only
// delay a stop).
func (l *link) flushed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.down || (l.queue.len() == 0 && !l.writing)
}

// next waits for a frame and takes it out of the queue, dropping those
// that expired on the way. It returns (nil, true) when a stall check asks
// to dial at once and nothing is queued, and (nil, false) when ctx ends.
func (l *link) next(ctx context.Context) ([]byte, bool) {
	for {
		if ctx.Err() != nil {
			return nil, false
		}
		l.mu.Lock()
		f := l.queue.pop()
		for f != nil && l.r.expired(f) {
			l.mu.Unlock()
			l.dropExpired()
			l.mu.Lock()
			f = l.queue.pop()
		}
		if f != nil {
			l.writing = true
			l.mu.Unlock()
			return f, true
		}
		now := l.replace == redialNow
		l.mu.Unlock()
		if now {
			return nil, true
		}
		select {
		case <-l.wake:
		case <-ctx.Done():
			return nil, false
		}
	}
}

// done ends the write of a frame: sent, or put back after a failure. f is
// nil after a dial with nothing to send.
func (l *link) done(f []byte, failed bool) {
	l.mu.Lock()
	l.writing = false
	l.down = failed
	// A heartbeat that did not go is not sent again: the next is due.
	retry := failed && f != nil && &f[0] != l.beat
	dropped := retry && l.queue.pushFront(f)
	l.mu.Unlock()
	if dropped {
		l.r.dropped(dropQueueFull, l.name(), nil)
	}
}

// current returns the connection to write on, nil when there is none:
// when a stall check closed it, it is dropped, and how says how to
// redial.
func (l *link) current() (s *stream, how replacement) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.replace != keep {
		how, l.replace, l.conn = l.replace, keep, nil
	}
	return l.conn, how
}

// lose drops s, whose write failed, and says how to redial: as a stall
// check asked, when one closed it.
func (l *link) lose(s *stream) replacement {
	l.mu.Lock()
	defer l.mu.Unlock()
	how := l.replace
	if l.conn == s {
		l.conn, l.replace = nil, keep
	}
	return how
}

// use makes s the link's connection.
func (l *link) use(s *stream) {
	l.mu.Lock()
	l.conn, l.replace = s, keep
	l.mu.Unlock()
}

// write writes f on s, with the deadline; the stall checks see how long
// it has been waiting.
func (l *link) write(s *stream, f []byte) error {
	now := time.Now()
	l.mu.Lock()
	s.beginWrite(now)
	l.mu.Unlock()
	s.conn.SetWriteDeadline(now.Add(l.r.opts.WriteTimeout))
	_, err := s.conn.Write(f)
	l.mu.Lock()
	s.endWrite()
	l.mu.Unlock()
	return err
}

// hangUp closes the link's connection when its goroutine ends.
func (l *link) hangUp() {
	l.mu.Lock()
	s := l.conn
	l.conn = nil
	l.mu.Unlock()
	if s != nil {
		s.conn.Close()
	}
}

// run is the link's goroutine.
func (l *link) run(ctx context.Context) {
	defer l.hangUp()
	failures, dials := 0, 0
	// afterLoss counts a lost connection: a stall check that heard the
	// peer asks for no backoff, anything else is a failure.
	afterLoss := func(how replacement) {
		if how == redialNow {
			failures = 0
		} else {
			failures++
		}
	}
	for {
		f, ok := l.next(ctx)
		if !ok {
			return
		}
		s, how := l.current()
		if how != keep {
			afterLoss(how)
		}
		if s == nil {
			if failures > 0 && !l.pause(ctx, backoff(failures)) {
				l.done(f, true)
				return
			}
			if dials > 0 {
				l.r.met.reconnects.Add(1)
			}
			dials++
			c, err := l.dialCuttable(ctx)
			if err != nil {
				failures++
				l.done(f, true)
				l.r.log.Debug("dial failed", "to", l.to, errAttr(err))
				continue
			}
			s = newStream(c)
			if s.raw != nil && l.r.userTimeout > 0 {
				if err := setUserTimeout(s.raw, l.r.userTimeout); err != nil {
					l.r.log.Debug("connection kept without a user timeout", "to", l.to, errAttr(err))
				}
			}
			l.use(s)
			l.r.spawn(func(ctx context.Context) { watch(ctx, c) })
			l.r.log.Debug("connected", "to", l.to, "addr", c.RemoteAddr().String())
		}
		if f != nil && l.r.expired(f) {
			// It aged during the pause and the dial.
			l.dropExpired()
			f = nil
		}
		if f == nil {
			// Dialled at once after a stall, with nothing to send.
			l.done(nil, false)
			continue
		}
		if err := l.write(s, f); err != nil {
			// What the kernel had accepted before is lost with the
			// connection; the protocol retransmits. This frame was
			// not sent whole, so it goes first on the next one.
			s.conn.Close()
			afterLoss(l.lose(s))
			l.done(f, true)
			l.r.log.Debug("connection broke", "to", l.to, errAttr(err))
			continue
		}
		failures = 0
		l.done(f, false)
	}
}

// expired reports whether frame, which this peer sealed, was sealed
// longer ago than receivers accept (see freshness): they would refuse it.
// Frames wait that long only while their peer is unreachable, or was
// restarted; the protocol retransmits what matters.
func (r *runtime) expired(frame []byte) bool {
	if r.seal == nil || len(frame) < frameHeaderLen {
		return false
	}
	stamp, ok := sealedStamp(frame[frameHeaderLen:])
	if !ok || stamp > maxStamp {
		return false
	}
	reason, _ := r.fresh.judge(stamp, r.fresh.now())
	return reason == dropStaleStamp
}

// dropExpired counts a frame dropped as expired.
func (l *link) dropExpired() {
	l.r.dropped(dropExpired, l.name(), errors.New("sealed longer ago than receivers accept"))
}

// watch reads from an outbound connection, on which the peer never
// writes, to notice at once when the peer closes it (it exited), rather
// than at the next write, which would be lost. Ending ctx closes it. Its
// buffer is small: it waits on every link a peer dials, for as long as
// the connection lives (io.Copy to io.Discard would hold 8 KiB).
func watch(ctx context.Context, c net.Conn) {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	var buf [64]byte
	for {
		if _, err := c.Read(buf[:]); err != nil {
			break
		}
	}
	c.Close()
}

// dialCuttable dials the peer; heard may cut the dial short.
func (l *link) dialCuttable(ctx context.Context) (net.Conn, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l.mu.Lock()
	l.dialing, l.dialSince = cancel, time.Now()
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.dialing = nil
		l.mu.Unlock()
	}()
	return l.dial(ctx)
}

// dial resolves the peer's host afresh and connects to it.
func (l *link) dial(ctx context.Context) (net.Conn, error) {
	a := l.r.addrs[l.to]
	ctx, cancel := context.WithTimeout(ctx, l.r.opts.DialTimeout)
	defer cancel()
	ips, err := l.r.book.resolve(ctx, a.tcpHost)
	if err != nil {
		return nil, err
	}
	err = errors.Errorf("%s resolves to no address", a.tcpHost)
	for _, ip := range ips {
		var c net.Conn
		if c, err = l.r.dialFrom(ctx, netip.AddrPortFrom(ip, a.tcpPort)); err == nil {
			return c, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Wrapf(err, "dial peer %d", l.to)
}

// dialFrom connects to dst from this peer's own address when it has one,
// so that a peer sharing a machine with others (127.0.0.1, 127.0.0.2, ...)
// is seen coming from its own IP and passes the identity check. When that
// source address cannot be used for dst, it dials from wherever the
// kernel picks.
func (r *runtime) dialFrom(ctx context.Context, dst netip.AddrPort) (net.Conn, error) {
	if r.localIP.IsValid() && r.localIP.Is4() == dst.Addr().Is4() {
		d := net.Dialer{LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(r.localIP, 0))}
		c, err := d.DialContext(ctx, "tcp", dst.String())
		if err == nil || !sourceAddrProblem(err) {
			return c, err
		}
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", dst.String())
}

// sourceAddrProblem reports whether a dial failed because of its source
// address rather than its destination.
func sourceAddrProblem(err error) bool {
	return errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EINVAL) ||
		errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EADDRINUSE)
}

// backoff is the pause before redialling after failures failed attempts:
// exponential from backoffMin up to backoffMax, with jitter so that peers
// that lost one another at the same moment do not redial in lockstep.
func backoff(failures int) time.Duration {
	d := backoffMax
	if failures < 16 {
		d = min(backoffMin<<(failures-1), backoffMax)
	}
	return d/2 + rand.N(d/2+1)
}

// sleepCtx sleeps for d, or less when ctx ends; it reports whether it slept
// the whole time.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
