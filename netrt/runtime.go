package netrt

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/protocol"
)

// Defaults of Options' zero values.
const (
	defaultDialTimeout  = time.Second
	defaultWriteTimeout = 2 * time.Second
	defaultSendQueueLen = 1024
)

const (
	// inboxLen bounds the messages waiting for the event loop; readers
	// block when it is full, which pushes back on TCP senders.
	inboxLen = 1024
	// controlLen bounds the operator requests (Leave, Evict) waiting.
	controlLen = 16
	// flushPoll is how often a stopping runtime checks its send queues.
	flushPoll = 10 * time.Millisecond
)

// runtime is a Runtime's implementation.
type runtime struct {
	opts  Options // defaults applied
	id    protocol.PeerID
	addrs []peerAddr // by id; index 0 unused
	node  *protocol.Node
	// stepAt is the time of the event the node is handling: Effects.Timer
	// arms from it.
	stepAt time.Duration
	seal   *sealer
	log    *slog.Logger
	oplog  *slog.Logger // Options.OperatorLog, or log
	views  views        // what Options.OnView was last told; event loop only
	book   *addrBook

	// store is the data directory of a durable peer (nil otherwise), and
	// resumeFrom the state Listen read from it (nil: start fresh).
	store      *store
	resumeFrom *protocol.DurableState
	// saveErr is the node's error when a state could not be stored: the
	// peer stopped, and Run reports it.
	saveErr error

	// Bounds on a stalled outbound connection, from SuspectAfter
	// (stall.go): data unacknowledged for stallAfter stalls it, the
	// event loop looks every stallCheck, and the kernel aborts it after
	// userTimeout (none when 0).
	stallAfter, stallCheck, userTimeout time.Duration

	tcpLn         net.Listener
	udpConn       *net.UDPConn
	localIP       netip.Addr     // source address of dials; invalid for any
	broadcastAddr netip.AddrPort // valid with Options.Broadcast

	met     metrics
	dropLog dropLog

	inbox     chan protocol.Message
	control   chan protocol.Event
	queries   chan func() // run on the event loop: reads of the peer's state
	datagrams chan datagram
	done      chan struct{} // closed when Run returns
	ran       atomic.Bool

	statusMu sync.Mutex
	snap     protocol.Status

	// ctx and wg cover every goroutine of a Run; set before any starts.
	ctx     context.Context
	wg      sync.WaitGroup
	inbound *inboundConns // open inbound connections, bounded
	replays *replayGuard  // highest sealed stamps accepted, by sender
	fresh   *freshness    // the window sealed stamps must lie in
	joins   *joinLimiter  // JOINs let through, by claimed sender

	// Owned by the event loop.
	start   time.Time
	links   []*link // by id, created on first use
	timers  timers
	stopped bool
	left    bool // stopped by a finished or timed-out leave, not a crash
}

// newRuntime validates opts, applies defaults and binds the sockets.
func newRuntime(opts Options) (*runtime, error) {
	n := len(opts.Hosts)
	switch {
	case n == 0:
		return nil, errors.New("netrt: no hosts")
	case n > protocol.MaxPeers:
		return nil, errors.Errorf("netrt: %d hosts, at most %d", n, protocol.MaxPeers)
	case opts.ID < 1 || int(opts.ID) > n:
		return nil, errors.Errorf("netrt: peer id %d outside the hosts 1..%d", opts.ID, n)
	case opts.DataDir == "" && opts.ResetState:
		return nil, errors.New("netrt: ResetState needs a DataDir: only a durable peer has a state file")
	case opts.DataDir == "" && opts.ForceView:
		return nil, errors.New("netrt: ForceView needs a DataDir: only a durable peer resumes holding a view to force")
	case opts.DataDir == "" && opts.Config.Durable:
		return nil, errors.New("netrt: Config.Durable needs a DataDir to store the state in")
	case opts.ResetState && opts.ForceView:
		return nil, errors.New("netrt: ForceView needs the stored view, which ResetState discards")
	}
	if opts.DataDir != "" {
		opts.Config.Durable = true
	}
	seal, err := newSealer(opts.Keys)
	if err != nil {
		return nil, err
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = defaultDialTimeout
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = defaultWriteTimeout
	}
	if opts.SendQueueLen <= 0 {
		opts.SendQueueLen = defaultSendQueueLen
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	oplog := opts.OperatorLog
	if oplog == nil {
		oplog = log
	}
	r := &runtime{
		opts:      opts,
		id:        opts.ID,
		addrs:     make([]peerAddr, n+1),
		seal:      seal,
		log:       log.With("peer", int(opts.ID)),
		oplog:     oplog.With("peer", int(opts.ID)),
		book:      newAddrBook(),
		inbound:   newInboundConns(maxInbound(n)),
		replays:   newReplayGuard(n),
		fresh:     newFreshness(opts.Config.SuspectAfter, n),
		joins:     newJoinLimiter(n, joinRefill(opts.Config.JoinRetryInterval)),
		inbox:     make(chan protocol.Message, inboxLen),
		control:   make(chan protocol.Event, controlLen),
		queries:   make(chan func()),
		datagrams: make(chan datagram, datagramQueueLen),
		done:      make(chan struct{}),
		links:     make([]*link, n+1),
		timers:    newTimers(),
	}
	r.node, err = protocol.NewNode(opts.Config, opts.ID, n, effects{r})
	if err != nil {
		return nil, errors.Wrap(err, "netrt")
	}
	if opts.LeaderCrashHook {
		r.node.ArmLeaderCrashHook(func(victim, spared protocol.PeerID) {
			r.log.Info("leader crash hook fires", "victim", int(victim), "spared", int(spared))
		})
	}
	r.stallAfter = stallAfterFor(opts.Config.SuspectAfter)
	r.stallCheck = stallCheckFor(r.stallAfter)
	r.userTimeout = userTimeoutFor(r.stallAfter)
	r.snap = r.node.Peer().Status()
	for i, h := range opts.Hosts {
		// A peer's id is its position; a Host built by hand may leave
		// ID zero, but must not contradict it.
		if h.ID != 0 && h.ID != protocol.PeerID(i+1) {
			return nil, errors.Errorf("netrt: host %d has id %d, want %d", i+1, h.ID, i+1)
		}
		if r.addrs[i+1], err = splitPeerAddr(h); err != nil {
			return nil, errors.Wrap(err, "netrt")
		}
	}
	self := r.addrs[r.id]
	if opts.Broadcast {
		if r.broadcastAddr, err = broadcastAddr(opts.BroadcastAddr, self.udpPort); err != nil {
			return nil, err
		}
	}
	if opts.DataDir != "" {
		if err := r.openDataDir(); err != nil {
			return nil, err
		}
	}
	b, err := bind(self, opts.Broadcast)
	if err != nil {
		r.closeStore()
		return nil, errors.Wrapf(err, "netrt: peer %d", r.id)
	}
	r.tcpLn, r.udpConn, r.localIP = b.tcp, b.udp, b.localIP
	return r, nil
}

// broadcastAddr resolves Options.BroadcastAddr, by default the limited
// broadcast address at the own UDP port.
func broadcastAddr(s string, port uint16) (netip.AddrPort, error) {
	if s == "" {
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{255, 255, 255, 255}), port), nil
	}
	ua, err := net.ResolveUDPAddr("udp4", s)
	if err != nil {
		return netip.AddrPort{}, errors.Wrapf(err, "netrt: broadcast address %s", s)
	}
	ap := ua.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

// run implements Run.
func (r *runtime) run(ctx context.Context) error {
	if !r.ran.CompareAndSwap(false, true) {
		return errors.New("netrt: Run called twice")
	}
	defer close(r.done)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.ctx = ctx
	r.start = time.Now()

	r.spawn(r.logDrops)
	r.spawn(r.acceptLoop)
	r.spawn(r.readDatagrams)
	r.spawn(r.writeDatagrams)

	err := r.loop(ctx)
	if r.stopped {
		// The peer's last messages (a leader's final view, the case-4
		// REQs) are on their way: let them go, as a process's closing
		// sockets would.
		r.flush(ctx)
	}
	cancel()
	r.tcpLn.Close()
	r.udpConn.Close()
	r.wg.Wait()
	r.timers.stop()
	r.closeStore()
	return err
}

// spawn runs f on a goroutine that Run waits for, with Run's context.
func (r *runtime) spawn(f func(context.Context)) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		f(r.ctx)
	}()
}

// flush waits until every link has sent its queue or given up on its
// peer, for at most one dial and one write, or until ctx ends: a cancel is
// a kill, which sends nothing more.
func (r *runtime) flush(ctx context.Context) {
	deadline := time.Now().Add(r.opts.DialTimeout + r.opts.WriteTimeout)
	for time.Now().Before(deadline) {
		if !slices.ContainsFunc(r.links, func(l *link) bool { return l != nil && !l.flushed() }) {
			return
		}
		if !sleepCtx(ctx, flushPoll) {
			return
		}
	}
}

// request hands an operator event to the event loop; it returns at once
// when Run has returned.
func (r *runtime) request(ev protocol.Event) {
	select {
	case r.control <- ev:
	case <-r.done:
	}
}

func (r *runtime) leave() { r.request(protocol.Event{Type: protocol.EventLeave}) }
func (r *runtime) evict(p protocol.PeerID) {
	r.request(protocol.Event{Type: protocol.EventEvict, Peer: p})
}

// status implements Status: the snapshot the loop took after its last
// Step, with slices the caller may keep and modify.
func (r *runtime) status() protocol.Status {
	r.statusMu.Lock()
	s := r.snap
	r.statusMu.Unlock()
	s.Members = slices.Clone(s.Members)
	s.MemberTags = slices.Clone(s.MemberTags)
	s.Suspects = slices.Clone(s.Suspects)
	return s
}

// setKeys implements SetKeys.
func (r *runtime) setKeys(keys [][]byte) error { return r.seal.setKeys(keys) }

func (r *runtime) tcpAddr() string { return r.tcpLn.Addr().String() }
func (r *runtime) udpAddr() string { return r.udpConn.LocalAddr().String() }

// members implements Members.
func (r *runtime) members(ctx context.Context) ([]protocol.MemberStatus, error) {
	reply := make(chan []protocol.MemberStatus, 1)
	select {
	case r.queries <- func() { reply <- r.node.Peer().Members() }:
	case <-r.done:
		return nil, ErrNotRunning
	case <-ctx.Done():
		return nil, errors.Wrap(ctx.Err(), "netrt: members")
	}
	return <-reply, nil // the loop answers as soon as it takes the query
}
