package protocol

import (
	"errors"
	"fmt"
	"time"
)

// role is what a member is doing about leadership.
type role uint8

const (
	roleFollower  role = iota // follows promise.Leader
	roleCandidate             // gathering PENDING answers under ballot
	roleLeader                // runs changes under ballot
)

var roleNames = [...]string{roleFollower: "follower", roleCandidate: "candidate", roleLeader: "leader"}

func (r role) String() string { return roleNames[r] }

// pendingOp is a change accepted (or proposed) for view viewID under
// ballot: one operation, or a batch decided as one value.
type pendingOp struct {
	change Change
	viewID ViewID
	ballot Ballot
}

// opReason records why the leader queued an operation, because some reasons
// lapse: a DEL queued on suspicion is dropped if the peer was heard again
// before the DEL reached the head of the queue.
type opReason uint8

const (
	reasonJoin       opReason = iota + 1 // ADD from JOIN
	reasonSuspicion                      // DEL of a suspected member
	reasonEvict                          // DEL asked by an operator
	reasonLeave                          // DEL asked by the member itself
	reasonRestart                        // DEL of a member that joined again: its old process is gone
	reasonRecovered                      // recovered from PENDING answers: must go first, whole
	reasonSuccession                     // DEL of the leader this leader replaced
)

// queuedOp is one entry of the leader's queue: a single operation, or a
// recovered change, batch or not, that is proposed whole.
type queuedOp struct {
	change Change
	reason opReason
}

// Errors returned by Step. Step never changes the peer's state when it
// returns one of the input errors (ErrBadMessage and what wraps it).
var (
	ErrNotStarted     = errors.New("protocol: peer not started")
	ErrAlreadyStarted = errors.New("protocol: peer already started")
	ErrStopped        = errors.New("protocol: peer stopped")
	ErrTimeBackwards  = errors.New("protocol: event time went backwards")
	ErrUnknownEvent   = errors.New("protocol: unknown event type")
	ErrBadMessage     = errors.New("protocol: bad message")
	ErrNotLeader      = errors.New("protocol: not the leader")
	ErrBadEvict       = errors.New("protocol: bad eviction")
)

// Peer is one peer's protocol state. It is not safe for concurrent use: one
// driver goroutine calls Step. See the package documentation for the
// contract.
type Peer struct {
	cfg         Config
	id          PeerID
	universe    int // peers are 1..universe
	incarnation uint64
	tags        Tags // this process's, carried in its ADD

	started bool
	stopped bool
	now     time.Duration

	acc acceptor // what every member keeps as an acceptor
	fd  detector // the failure detector

	role   role
	ballot Ballot // own ballot while candidate or leader; its round is at most maxRound

	lead  leading  // what a leader keeps
	elect election // promises, for candidates and leaders alike
	join  joiner   // founding and joining

	leaving bool

	// timerGen counts the armings and cancellations of each timer kind.
	// It grows by at most a few per Step, so it cannot wrap in any run:
	// that would take 2^64 Steps.
	timerGen [timerKindEnd]uint64

	// saved is the durable state last handed to the driver to store (or
	// resumed from): a durable peer stores again only what changed.
	saved DurableState

	out Output // reused by every Step
}

// NewPeer returns peer id of a universe of peers 1..universe, not yet
// started.
func NewPeer(cfg Config, id PeerID, universe int) (*Peer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if universe < 1 || universe > MaxPeers {
		return nil, fmt.Errorf("protocol: universe of %d peers, must be 1..%d", universe, MaxPeers)
	}
	if id < 1 || int(id) > universe {
		return nil, fmt.Errorf("protocol: peer id %d outside the universe 1..%d", id, universe)
	}
	n := universe + 1
	return &Peer{
		cfg:      cfg,
		id:       id,
		universe: universe,
		acc: acceptor{
			promise:      InitialBallot,
			leader:       InitialBallot.Leader,
			following:    InitialBallot,
			incarnations: make([]uint64, n),
			heardAs:      make([]uint64, n),
		},
		fd: detector{
			lastHeard: make([]time.Duration, n),
			suspected: newCountedSet(universe),
			departed:  newCountedSet(universe),
			reports:   make([][]PeerID, n),
			agreed:    newCountedSet(universe),
			agreedAt:  make([]time.Duration, n),
			joiners:   newPeerSet(universe),
			watch:     newWatchState(universe),
		},
		lead: leading{
			acks:      newCountedSet(universe),
			knownView: make([]ViewID, n),
		},
		elect: election{
			promised: newCountedSet(universe),
			answers:  make([]pendingOp, n),
		},
		join: joiner{noCluster: newPeerSet(universe)},
	}, nil
}

// Step applies one event and returns what the driver must do, in the order
// documented on Output. The returned slices are reused by the next Step.
// When it returns an error the event was refused: the peer is unchanged
// and the Output is empty.
//
// Like etcd's raft, Step first applies the rules shared by every role
// (validation, time, liveness of the sender), then hands off to the handler
// for the event, and finally lets the role act on the new state (a leader
// proposes its next operation, a follower without a live leader may
// campaign).
func (p *Peer) Step(ev Event) (Output, error) {
	p.out.Notes = p.out.Notes[:0]
	p.out.Messages = p.out.Messages[:0]
	p.out.Timers = p.out.Timers[:0]
	p.out.Stopped = false
	p.out.Save = nil
	if p.stopped {
		return p.out, ErrStopped
	}
	if ev.Type != EventStart && !p.started {
		return p.out, ErrNotStarted
	}
	if ev.Now < p.now {
		return p.out, fmt.Errorf("%w: %v after %v", ErrTimeBackwards, ev.Now, p.now)
	}
	// Every refusal returns before the first change of state: a refused
	// event leaves the peer as it was and asks nothing of the driver.
	switch ev.Type {
	case EventStart:
		if p.started {
			return p.out, ErrAlreadyStarted
		}
		if ev.State != nil {
			if err := p.checkState(ev.State); err != nil {
				return p.out, err
			}
			p.now = ev.Now
			p.resume(ev.State)
			break
		}
		p.now = ev.Now
		p.start(ev.Incarnation, ev.Tags)
	case EventMessage:
		if err := p.checkMessage(&ev.Msg); err != nil {
			return p.out, err
		}
		p.now = ev.Now
		p.stepMessage(&ev.Msg)
	case EventTimer:
		p.now = ev.Now
		p.stepTimer(ev.Timer)
	case EventEvict:
		if err := p.checkEvict(ev.Peer); err != nil {
			return p.out, err
		}
		p.now = ev.Now
		p.enqueue(Op{Kind: OpDel, Peer: ev.Peer}, reasonEvict)
	case EventLeave:
		p.now = ev.Now
		p.leave()
	case EventCrash:
		p.now = ev.Now
		p.note(Note{Kind: NoteCrashing})
		p.stop()
	case EventForceView:
		if err := p.checkForceView(); err != nil {
			return p.out, err
		}
		p.now = ev.Now
		p.forceView()
	default:
		return p.out, fmt.Errorf("%w: %d", ErrUnknownEvent, ev.Type)
	}
	p.settle()
	p.saveIfChanged()
	return p.out, nil
}

// settle lets the role act on the state the event left behind.
func (p *Peer) settle() {
	if p.stopped {
		return
	}
	p.reviewAgreement()
	if p.role == roleFollower {
		p.maybeCampaign()
	}
	// A candidacy can win at once (a quorum of one): it then leads in
	// this very step.
	if p.role == roleLeader {
		p.removeAgreed()
		p.proposeNext()
	}
}

// start starts a process that holds no stored state.
func (p *Peer) start(incarnation uint64, tags Tags) {
	p.started = true
	p.incarnation, p.tags = incarnation, tags
	for q := range p.fd.lastHeard {
		p.fd.lastHeard[q] = p.now
	}
	p.arm(TimerHeartbeat, p.cfg.HeartbeatInterval)
	p.startFresh()
}

// startFresh begins what a process that never held a view does: peer 1
// founds a cluster unless one exists, every other peer joins.
func (p *Peer) startFresh() {
	switch {
	case p.id == 1 && (p.universe == 1 || p.cfg.Mutation == MutationFoundAtOnce):
		p.found() // nobody to ask (or, broken on purpose, asking nobody)
	case p.id == 1:
		p.startFounding()
	default:
		p.startJoining(InitialBallot.Leader)
	}
}

// stop ends the peer: no more events are accepted.
func (p *Peer) stop() {
	p.stopped = true
	p.out.Stopped = true
}

// checkMessage rejects what no correct peer of this universe sends. The
// peer's state is untouched when it fails.
func (p *Peer) checkMessage(m *Message) error {
	if !m.Type.Valid() {
		return fmt.Errorf("%w: unknown type %d", ErrBadMessage, m.Type)
	}
	if !p.inUniverse(m.From) {
		return fmt.Errorf("%w: %s from unknown peer %d (universe 1..%d)", ErrBadMessage, m.Type, m.From, p.universe)
	}
	if m.From == p.id {
		return fmt.Errorf("%w: %s claims to come from this peer (%d)", ErrBadMessage, m.Type, m.From)
	}
	if m.To != p.id {
		return fmt.Errorf("%w: %s from %d addressed to %d, not to this peer (%d)", ErrBadMessage, m.Type, m.From, m.To, p.id)
	}
	if m.Ballot.Leader > PeerID(p.universe) || m.OpBallot.Leader > PeerID(p.universe) || m.Leader > PeerID(p.universe) {
		return fmt.Errorf("%w: %s from %d names a peer outside the universe 1..%d", ErrBadMessage, m.Type, m.From, p.universe)
	}
	if m.Op.Kind > OpDel || (m.Op.Kind != OpNothing && !p.inUniverse(m.Op.Peer)) || (m.Op.Kind != OpAdd && !m.Op.Tags.IsZero()) {
		return fmt.Errorf("%w: %s from %d carries invalid operation %s", ErrBadMessage, m.Type, m.From, m.Op)
	}
	if m.Tags != nil && m.Type != MsgNewView {
		return fmt.Errorf("%w: %s from %d carries tags", ErrBadMessage, m.Type, m.From)
	}
	if problem := viewTagsProblem(m.Members, m.Tags); problem != "" {
		// What the wire would refuse cannot be the view a leader decided.
		return fmt.Errorf("%w: %s from %d carries tags: %s", ErrBadMessage, m.Type, m.From, problem)
	}
	if len(m.More) > 0 {
		if m.Type != MsgReq && m.Type != MsgNewView && m.Type != MsgPending {
			return fmt.Errorf("%w: %s from %d carries a batch", ErrBadMessage, m.Type, m.From)
		}
		if problem := checkChange(m.Op, m.More, PeerID(p.universe)); problem != "" {
			return fmt.Errorf("%w: %s from %d carries an invalid batch: %s", ErrBadMessage, m.Type, m.From, problem)
		}
	}
	var prev PeerID
	for i, q := range m.Members {
		if q <= prev || !p.inUniverse(q) {
			return fmt.Errorf("%w: %s from %d: member %d (%d) out of order or outside the universe 1..%d",
				ErrBadMessage, m.Type, m.From, i, q, p.universe)
		}
		prev = q
	}
	// View ids and ballot rounds grow one at a time: the largest value
	// leaves no next one (see lastViewID).
	switch {
	case m.ViewID > lastViewID:
		return fmt.Errorf("%w: %s from %d: view id %d is the largest value: the next one would wrap",
			ErrBadMessage, m.Type, m.From, m.ViewID)
	case m.Ballot.Round > lastRound:
		return fmt.Errorf("%w: %s from %d: ballot round %d is the largest value: the next one would wrap",
			ErrBadMessage, m.Type, m.From, m.Ballot.Round)
	case m.OpBallot.Round > lastRound:
		return fmt.Errorf("%w: %s from %d: op ballot round %d is the largest value: the next one would wrap",
			ErrBadMessage, m.Type, m.From, m.OpBallot.Round)
	}
	switch m.Type {
	case MsgNewView, MsgPending:
		if len(m.Members) == 0 || m.ViewID == 0 {
			return fmt.Errorf("%w: %s from %d carries an empty view", ErrBadMessage, m.Type, m.From)
		}
	case MsgJoin:
		if m.Op.Kind != OpAdd || m.Op.Peer != m.From {
			return fmt.Errorf("%w: JOIN from %d asks for %s", ErrBadMessage, m.From, m.Op)
		}
	}
	return nil
}

func (p *Peer) inUniverse(q PeerID) bool { return q >= 1 && int(q) <= p.universe }

func (p *Peer) stepMessage(m *Message) {
	if p.fromOtherProcess(m) {
		// A member's id, another process: the member it stands for is
		// gone, whatever this message says.
		p.checkOverdueSuspicions()
		p.suspect(m.From)
	} else {
		p.heard(m.From)
		p.checkOverdueSuspicions()
	}
	if p.join.founding && m.ViewID != 0 && m.Type != MsgNotMember {
		p.clusterExists()
	}
	if m.Type == MsgJoin {
		if p.acc.view.Contains(m.From) {
			p.fd.joiners.add(m.From)
		}
	} else {
		p.fd.joiners.del(m.From) // only JOIN and LEAVE come from non-members; LEAVE from members
	}
	if m.Ballot.Round > p.acc.maxRound {
		p.acc.maxRound = m.Ballot.Round
	}
	// The rule shared by every handler: a leader that sees a higher ballot
	// from a member of its view has been superseded.
	if p.role == roleLeader && p.ballot.Less(m.Ballot) && p.acc.view.Contains(m.From) {
		p.stepDown(m.Ballot)
	}
	switch m.Type {
	case MsgHeartbeat:
		p.onHeartbeat(m)
	case MsgJoin:
		p.onJoin(m)
	case MsgRedirect:
		p.onRedirect(m)
	case MsgReq:
		p.onReq(m)
	case MsgOK:
		p.onOK(m)
	case MsgNack:
		p.onNack(m)
	case MsgNewView:
		p.onNewView(m)
	case MsgNewLeader:
		p.onNewLeader(m)
	case MsgPending:
		p.onPending(m)
	case MsgNotMember:
		p.onNotMember(m)
	case MsgLeave:
		p.onLeave(m)
	}
}

func (p *Peer) stepTimer(t Timer) {
	if t.Kind == 0 || t.Kind >= timerKindEnd || t.Gen != p.timerGen[t.Kind] {
		return // stale: re-armed or cancelled since
	}
	switch t.Kind {
	case TimerHeartbeat:
		p.onHeartbeatTimer()
	case TimerSuspect:
		p.checkSuspicions()
	case TimerRetry:
		p.onRetryTimer()
	case TimerJoin:
		p.onJoinTimer()
	case TimerLeave:
		p.note(Note{Kind: NoteLeft, TimedOut: true})
		p.stop()
	case TimerBatch:
		// The wait is over: settle proposes what queued meanwhile.
	}
}

// send queues m for m.To, from this peer.
func (p *Peer) send(m Message) {
	m.From = p.id
	m.Incarnation = p.incarnation
	p.out.Messages = append(p.out.Messages, m)
}

// note records n with this peer's log-line header.
func (p *Peer) note(n Note) {
	n.Peer = p.id
	n.ViewID = p.acc.latestViewID
	n.Leader = p.shownLeader()
	p.out.Notes = append(p.out.Notes, n)
}

// shownLeader is the leader a note names: the one this peer follows, or,
// while that one is outside the installed view (it left, or was removed,
// and its successor has not won its election yet), the member next in line
// to lead. A view's log line thus never names a leader outside the view.
func (p *Peer) shownLeader() PeerID {
	if p.isMember() && p.acc.leader != 0 && !p.acc.view.Contains(p.acc.leader) {
		if next := p.nextLeader(0); next != 0 {
			return next
		}
	}
	return p.acc.leader
}

// arm (re)arms the timer of kind k to fire after d.
func (p *Peer) arm(k TimerKind, d time.Duration) {
	p.timerGen[k]++
	p.out.Timers = append(p.out.Timers, TimerRequest{Timer: Timer{Kind: k, Gen: p.timerGen[k]}, After: d})
}

// disarm cancels the timer of kind k.
func (p *Peer) disarm(k TimerKind) {
	p.timerGen[k]++
	p.out.Timers = append(p.out.Timers, TimerRequest{Timer: Timer{Kind: k, Gen: p.timerGen[k]}, Cancel: true})
}

// isMember reports whether this peer has an installed view.
func (p *Peer) isMember() bool { return p.acc.view.ID != 0 }

// stepDown makes a leader or candidate follow the higher ballot b.
func (p *Peer) stepDown(b Ballot) {
	p.role = roleFollower
	if p.acc.promise.Less(b) {
		p.acc.promise = b
	}
	p.follow(b)
	p.lead.inflight = false
	p.lead.queue = p.lead.queue[:0]
	p.elect.promised.clear()
	p.elect.quorumPromised = false
	p.note(Note{Kind: NoteSteppedDown, Ballot: b})
}

// follow makes this follower follow the leadership of ballot b.
func (p *Peer) follow(b Ballot) {
	p.acc.following = b
	p.acc.leader = b.Leader
}

// advertised is the ballot this peer's heartbeats carry: the leadership it
// runs or follows.
func (p *Peer) advertised() Ballot {
	if p.role == roleFollower {
		return p.acc.following
	}
	return p.ballot
}
