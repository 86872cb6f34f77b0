package protocol

import (
	"errors"
	"fmt"
	"time"
)

// Config holds a peer's timing and behaviour switches. Every peer of a
// cluster should use the same values: suspicion and retransmission are tuned
// against the other peers' heartbeat interval.
type Config struct {
	// HeartbeatInterval (duration) is how often a member sends HEARTBEAT to
	// every other member; at least MinHeartbeatInterval. Default 1.1 s, the seed's: one datagram per member
	// per second is negligible load and gives two chances to be heard within
	// the default SuspectAfter.
	HeartbeatInterval time.Duration

	// SuspectAfter (duration) is how long a member may stay silent before it
	// is suspected. Default 2.2 s, the seed's: two heartbeat intervals, so one
	// lost datagram alone never raises a suspicion. Must be at least twice
	// HeartbeatInterval, for that reason.
	SuspectAfter time.Duration

	// RetryInterval (duration) is how often REQ, NEWVIEW, NEWLEADER and LEAVE
	// are re-sent to peers that have not answered. They travel over a
	// reliable stream, so a retransmission only matters after the stream
	// broke (a crash or a partition); default 500 ms: far above any LAN round
	// trip, so it never races a normal answer, yet well below SuspectAfter, so
	// a change interrupted by a broken stream resumes before anyone is
	// suspected over it.
	RetryInterval time.Duration

	// JoinRetryInterval (duration) is how often a non-member re-sends JOIN;
	// after a JOIN that nobody answered it moves on to the next host of the
	// hosts file. Default 1 s: a joiner walks a five-host file within five
	// seconds, while a slow leader is given a full second to answer.
	JoinRetryInterval time.Duration

	// LeaveTimeout (duration) bounds a graceful leave: the peer stops this
	// long after it asked to leave even if it never saw a view without
	// itself. Default 5 s: room for a few retries and a leader change,
	// short enough for a shutdown hook.
	LeaveTimeout time.Duration

	// Rejoin (switch): a peer that learns it was removed while alive joins
	// again. Default true, as in the seed's test case 4; turn it off for
	// peers that must stay out once removed.
	Rejoin bool

	// Durable (switch): the peer asks its driver to store its acceptor
	// state before anything that depends on it is sent (Output.Save), and
	// can be started again from it (Event.State) as the same member.
	// Default off: crash-stop, the seed's behaviour, where a restarted
	// process is a new member. A durable change costs one fsync per
	// acceptor.
	Durable bool

	// Observers (members) is how many members watch each member in a view
	// larger than Observers+1; in a smaller one every member watches every
	// other, as the seed does. A member heartbeats its Observers watchers
	// and times as many subjects, so its load stays the same however large
	// the view grows, and a member is removed on suspicion once more than
	// half its observers agree (docs/design.md, section 5). Default 8, as
	// in Rapid's and memberlist's experience: a crash is seen by eight
	// members within a heartbeat of one another, while up to four bad
	// links to one member never remove it; and clusters of up to nine
	// peers, the seed's included, keep watching all-to-all. At least 2:
	// with one observer, one bad link would remove a member.
	Observers int
	// MaxChangesPerView (operations) is how many queued ADDs and DELs the
	// leader may decide together, in one view change. Default 1, the
	// seed's rule S3: each view differs from the one before by exactly one
	// peer, and a peer's log shows every step. Above 1, a burst of joins
	// or removals takes one round of REQ, OK and NEWVIEW instead of one
	// per peer (docs/design.md, section 3). At most
	// MaxChangesPerViewLimit: a change names each peer once.
	MaxChangesPerView int

	// BatchWait (duration) is how long a leader that batches
	// (MaxChangesPerView above 1) lets operations queue after a decision
	// before it proposes the next change, unless a full batch is queued
	// first. Default 0: the next change goes out at once, batching only
	// what queued while the last one was in flight, which on a LAN is
	// little: joins a few milliseconds apart each take a view, and every
	// view is sent to every member. A wait of, say, 100 ms turns a burst
	// of joins into a few views, and delays a removal after a change by
	// at most as much. At most SuspectAfter.
	BatchWait time.Duration

	// Mutation breaks the protocol on purpose, to prove the simulator's
	// checkers can fail. Leave it MutationNone.
	Mutation Mutation
}

// DefaultObservers is Config.Observers's default.
const DefaultObservers = 8

// DefaultConfig returns the seed's timing: heartbeat 1.1 s, suspect after
// 2.2 s, retry 500 ms, join retry 1 s, leave timeout 5 s, rejoin on, one
// change per view; and eight observers per member.
func DefaultConfig() Config {
	return Config{
		HeartbeatInterval: 1100 * time.Millisecond,
		SuspectAfter:      2200 * time.Millisecond,
		RetryInterval:     500 * time.Millisecond,
		JoinRetryInterval: time.Second,
		LeaveTimeout:      5 * time.Second,
		Rejoin:            true,
		Observers:         DefaultObservers,
		MaxChangesPerView: 1,
	}
}

// MaxChangesPerViewLimit is the largest MaxChangesPerView, and the most
// operations one change may carry on the wire. 64 keeps every message
// of a cluster without tags within about 2 KB, and so the buffer a
// runtime keeps per connection small (tags add at most 514 bytes per
// operation: see MaxMessageSize), while a mass join of a thousand peers
// still takes only sixteen view changes.
const MaxChangesPerViewLimit = 64

// MinHeartbeatInterval is the shortest HeartbeatInterval Validate accepts:
// below it a peer of a large view sends a datagram more often than a
// scheduler keeps time, and a typing slip (1ns for 1s) would make every
// peer flood every other.
const MinHeartbeatInterval = 10 * time.Millisecond

// ErrConfig is wrapped by every error Validate returns.
var ErrConfig = errors.New("invalid config")

// Validate reports the first setting that makes no sense, naming it.
func (c Config) Validate() error {
	positive := []struct {
		name string
		d    time.Duration
	}{
		{"HeartbeatInterval", c.HeartbeatInterval},
		{"SuspectAfter", c.SuspectAfter},
		{"RetryInterval", c.RetryInterval},
		{"JoinRetryInterval", c.JoinRetryInterval},
		{"LeaveTimeout", c.LeaveTimeout},
	}
	for _, f := range positive {
		if f.d <= 0 {
			return fmt.Errorf("%w: %s is %v, must be positive", ErrConfig, f.name, f.d)
		}
	}
	if c.HeartbeatInterval < MinHeartbeatInterval {
		return fmt.Errorf("%w: HeartbeatInterval %v is below %v: a peer would spend its time heartbeating, and timers that short are not kept",
			ErrConfig, c.HeartbeatInterval, MinHeartbeatInterval)
	}
	if c.SuspectAfter < 2*c.HeartbeatInterval {
		return fmt.Errorf("%w: SuspectAfter %v must be at least twice HeartbeatInterval %v, or one lost heartbeat makes a member suspected",
			ErrConfig, c.SuspectAfter, c.HeartbeatInterval)
	}
	if c.BatchWait < 0 || c.BatchWait > c.SuspectAfter {
		return fmt.Errorf("%w: BatchWait %v must be 0..SuspectAfter %v: a removal must not wait longer than a suspicion takes",
			ErrConfig, c.BatchWait, c.SuspectAfter)
	}
	if c.Observers < 2 || c.Observers > MaxPeers {
		return fmt.Errorf("%w: Observers is %d, must be 2..%d: with one observer, one bad link would remove a member",
			ErrConfig, c.Observers, MaxPeers)
	}
	if c.LeaveTimeout < c.RetryInterval {
		return fmt.Errorf("%w: LeaveTimeout %v is shorter than RetryInterval %v: a LEAVE would never be retried",
			ErrConfig, c.LeaveTimeout, c.RetryInterval)
	}
	if c.MaxChangesPerView < 1 || c.MaxChangesPerView > MaxChangesPerViewLimit {
		return fmt.Errorf("%w: MaxChangesPerView is %d, must be 1..%d: a view change decides at least one operation, and names each peer at most once",
			ErrConfig, c.MaxChangesPerView, MaxChangesPerViewLimit)
	}
	return nil
}
