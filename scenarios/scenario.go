// Package scenarios holds Memberly's scenario files and their model: what
// peers exist, how the network behaves, what happens when, and what must
// hold at the end. The simulator runs them; the docker real-run checks its
// logs against the same expectations.
package scenarios

import (
	"time"

	"github.com/memberly/memberly/protocol"
)

// Scenario is one parsed scenario file.
type Scenario struct {
	Name        string // the file name without .yaml
	File        string // where it was read from, for messages
	Description string
	Peers       int // the universe: peers 1..Peers

	// Tags holds, by peer, the tags every process of that peer starts
	// with (protocol.Event.Tags): the file's tags block. A peer it leaves
	// out has none; nil when no peer has any. A restarted process keeps
	// its peer's tags, as a machine restarted with the same command line
	// does.
	Tags map[protocol.PeerID]protocol.Tags

	Timing   protocol.Config // the file's timing over protocol.DefaultConfig
	Network  Network
	Timeline []Action // in file order; the simulator sorts by At, stably

	Expect   Expect
	Liveness *Liveness // nil: no liveness phase

	// RunFor is how much virtual time to run: the file's run_for, or else
	// the end of the liveness phase, or else Expect.Within.
	RunFor time.Duration

	// ExploreFrom is when a model checker (simulate -explore) stops
	// replaying the timeline and begins exploring every order of the
	// events that may come next; zero: the scenario is not meant for
	// exploring. Parse keeps it before RunFor, which leaves something to
	// explore, and refuses it in a scenario with churn, whose victims are
	// drawn at random: an exploration must start from one deterministic
	// state. The simulator ignores it and runs the scenario as any other.
	ExploreFrom time.Duration

	// Schedule, with ExploreFrom, replaces the simulation after
	// ExploreFrom by this exact interleaving of steps, one a line in the
	// explorer's step language ("deliver p3->p1", "fire p2 suspect",
	// "kill p1"...): a counterexample found by simulate -explore, written
	// with -explore-out, and replayed by simulate -scenario.
	Schedule []string
}

// Network is the fault model of the network. Streams (every message but
// HEARTBEAT) are FIFO per ordered pair and lose nothing while connected;
// the percentages apply to datagrams only.
type Network struct {
	LatencyMin  time.Duration // every message takes at least this long
	LatencyMean time.Duration // mean of the random part added to LatencyMin
	// LatencyDistribution of the random part: "exponential" (default), or
	// "uniform" over [0, 2*LatencyMean].
	LatencyDistribution string
	LossPercent         float64       // datagrams lost, 0..100
	DuplicatePercent    float64       // datagrams delivered twice, 0..100
	ReorderPercent      float64       // datagrams given an extra delay, 0..100
	ReorderDelayMax     time.Duration // the extra delay is uniform in [0, this]
	// TimerLatenessMax makes every timer fire late by a uniform amount in
	// [0, this], as on a loaded machine or behind a busy event loop: a
	// peer's deadlines may then pass before their timers fire, and
	// messages overtake them. Zero (the default) fires timers on time.
	TimerLatenessMax time.Duration
}

// DefaultNetwork is a quiet LAN: 1 ms plus an exponential 1 ms, no loss.
func DefaultNetwork() Network {
	return Network{LatencyMin: time.Millisecond, LatencyMean: time.Millisecond, LatencyDistribution: "exponential",
		ReorderDelayMax: 50 * time.Millisecond}
}

// ActionKind names what an Action does.
//
// A split cuts only the links between its groups: split: [[1], [3]] cuts
// the link between 1 and 3 both ways and leaves every other link alone.
//
// A pause stops Peer as SIGSTOP stops a process: it takes no step until it
// continues at Until. Messages reach it and wait in its inbox, its timers
// come due and wait; on continuing it handles them all, in the order they
// came. Its streams stay connected and nothing it was sent is lost. A kill
// or crash ends a paused peer at once; a leave or evict asked of it waits
// with its inbox.
type ActionKind string

const (
	ActStart   ActionKind = "start"   // start Peers (first start: peer 1 founds the cluster)
	ActCrash   ActionKind = "crash"   // Peers print "crashing" and exit; what they sent is still delivered
	ActKill    ActionKind = "kill"    // Peers vanish (kill -9): no line, streams reset, in-flight data lost
	ActRestart ActionKind = "restart" // start Peers again as fresh processes, which join
	ActLeave   ActionKind = "leave"   // Peers leave gracefully
	ActEvict   ActionKind = "evict"   // the current leader is asked to remove Peer
	ActIsolate ActionKind = "isolate" // Peer can neither send nor receive, until Until
	ActSplit   ActionKind = "split"   // Groups cannot reach each other, until Until; peers in no group are unaffected
	ActCut     ActionKind = "cut"     // From's messages to To are lost (one way), until Until
	ActPause   ActionKind = "pause"   // Peer is stopped (SIGSTOP) until Until, then continues
	ActDrop    ActionKind = "drop"    // the next Drop.Count messages matching Drop are lost
	ActNetwork ActionKind = "network" // the network's rates change to SetNetwork from At on
	ActHook    ActionKind = "leader_crash_hook"
	// ActHook arms the seed's -t hook (docs/design.md, section 10, case 4) on Peer.
	ActChurn ActionKind = "churn" // random kills and restarts from At until Until, as Churn says
	// Storage faults and operator recovery, for durable peers (durable: true).
	ActCorrupt   ActionKind = "corrupt"    // flip a byte in the state file of Peers: their next start is refused
	ActTear      ActionKind = "tear"       // cut the state file of Peers in half, as a torn write: their next start is refused
	ActForceView ActionKind = "force_view" // the operator makes Peer install a view of the members it reaches (protocol.EventForceView)
)

// Action is one timeline entry.
type Action struct {
	At   time.Duration
	Kind ActionKind
	Line int // line in the file, for messages

	Peers  []protocol.PeerID   // start, crash, kill, restart, leave, corrupt, tear
	Peer   protocol.PeerID     // evict, isolate, pause, leader_crash_hook, force_view
	Groups [][]protocol.PeerID // split
	From   protocol.PeerID     // cut
	To     protocol.PeerID     // cut
	Until  time.Duration       // isolate, split, cut, pause: end time; 0 means never (until liveness heals it)

	Drop       Drop     // drop
	SetNetwork *Network // network: the whole network after the change
	Churn      Churn    // churn

	// After, if set, makes the action wait for a message (crash, kill,
	// isolate, split, cut, pause and drop only): see Trigger.
	After *Trigger
}

// Trigger sets an action off on a message rather than at a time, so that
// a fault can land exactly between two steps of the protocol: "cut the
// link 1-3 3 ms after a REQ", "kill the leader once it decided, before
// its NEWVIEW goes out". Armed at the action's At, it goes off at the
// first message matching Type, From and To (zero fields match anything)
// that a peer sends from then on, whether or not the network then loses
// it, and the action happens Delay later. Each trigger goes off once.
//
// With Delay 0 the action happens as that message is about to leave, so
// it applies to the message too: a cut or split stops it, a drop may take
// it, a kill or crash of its sender loses it and every later message of
// the same step (as kill -9 just before the write), and a pause of its
// sender holds them until the sender continues.
//
// The Until of a triggered action counts from when it happens: the fault
// lasts Until-At, as it would at At. A trigger that has not gone off when
// the liveness phase begins never does.
//
// BeforeSync (fsync: before; crash and kill of a durable scenario only)
// moves the crash earlier: a durable peer stores its state before the
// step that sends the message does anything else, and the crash comes
// between the write and its fsync. The write is lost, and so is all the
// step would have done. Without it (or with fsync: after) a crash as the
// message is about to leave comes after the fsync: the state is stored,
// the messages are lost.
type Trigger struct {
	Type       protocol.MsgType
	From       protocol.PeerID
	To         protocol.PeerID
	Delay      time.Duration
	BeforeSync bool
}

// Churn kills a random live peer every Interval and restarts it DownFor
// later, never taking down so many that the live peers lose a majority of
// the universe: at most (Peers-1)/2 are down at once. The simulator's one
// random source chooses the victims, so a seed replays them.
type Churn struct {
	Interval time.Duration
	DownFor  time.Duration
}

// Drop selects messages to lose. Zero fields match anything.
type Drop struct {
	Type  protocol.MsgType
	From  protocol.PeerID
	To    protocol.PeerID
	Count int // how many matching messages to lose (>= 1)
}

// Expect is what must hold when the run (or its fault phase) ends.
type Expect struct {
	View   []protocol.PeerID // every live peer holds this view (nil: not checked)
	Leader protocol.PeerID   // and follows this leader (0: not checked)
	// Within bounds convergence: by this virtual time every live peer holds
	// View and Leader.
	Within time.Duration
	// FalseRemovalsMax (removals; nil: not checked) bounds the false
	// removals decided by Within: views that removed a peer whose process
	// kept running since it was last added, neither paused nor cut off by
	// a partition, and that neither left nor was evicted. Loss and delay
	// excuse nothing: a detector must absorb them.
	FalseRemovalsMax *int
}

// Liveness is the liveness phase (L1 of docs/design.md, section 11): at HealAt every
// partition heals, loss stops and crashed peers restart; by HealAt+Within
// every peer must hold one view with all peers.
type Liveness struct {
	HealAt time.Duration
	Within time.Duration
	// KeepDown (peers, 0 = none) is how many members of the current view
	// the heal takes down for good instead of restarting them, as a
	// cluster that lost machines must carry on without them. The
	// simulator draws them, with the run's random source, among the
	// members of the highest view a live peer holds at the heal, and
	// never more than a minority of that view: the rest then hold a
	// quorum, and L1 is judged among them.
	KeepDown int
}
