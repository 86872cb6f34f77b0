// Package netrt runs a protocol.Peer over real sockets: TCP for membership
// messages, UDP for heartbeats (each also sent on the TCP stream when that
// is idle, so that a flood of datagrams cannot silence a member). One
// goroutine owns the peer and runs the event loop; socket readers and
// timers feed it events. No protocol logic lives here: netrt only carries
// out what protocol.Peer.Step asks, in the order protocol.Output
// documents.
package netrt

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/protocol"
)

// Host is one line of a hosts file: peer ID is its 1-based position among
// the host lines.
type Host struct {
	ID      protocol.PeerID
	Name    string // the host as written in the file, without ports
	TCPAddr string // host:port for membership messages
	UDPAddr string // host:port for heartbeats
	Line    int    // line in the file, for messages
	File    string // the file it was read from, for messages ("" when built by hand)
}

// Hosts is a parsed hosts file: Hosts[i] has ID i+1.
type Hosts []Host

// ParseHosts parses a hosts file's contents. Lines are "host",
// "host:tcpport" or "host:tcpport:udpport"; blank lines and # comments are
// skipped; ports default to tcpPort and udpPort. Errors name file and line
// (an empty file, a bad port, a duplicate host:port, more than
// protocol.MaxPeers hosts).
func ParseHosts(data []byte, file string, tcpPort, udpPort int) (Hosts, error) {
	return parseHosts(data, file, tcpPort, udpPort)
}

// MaxHostsFileSize bounds what ReadHosts reads of a hosts file: 1 MiB,
// room for protocol.MaxPeers lines of a full DNS name and both ports with
// hundreds of bytes of comment each. A path to something endless
// (/dev/zero, a pipe that never closes) must not fill the memory: past the
// bound the file is refused.
const MaxHostsFileSize = 1 << 20

// ReadHosts reads and parses the hosts file at path. It reads at most
// MaxHostsFileSize bytes: a larger file is an error naming it.
func ReadHosts(path string, tcpPort, udpPort int) (Hosts, error) {
	return readHosts(path, tcpPort, udpPort)
}

// FindSelf returns the id of the host line naming hostname, or else the
// first whose host resolves to one of localAddrs (IP strings); an error
// says neither matched.
func (h Hosts) FindSelf(hostname string, localAddrs []string) (protocol.PeerID, error) {
	return h.findSelf(hostname, localAddrs)
}

// Options configures a Runtime. Zero values take the documented defaults.
type Options struct {
	ID     protocol.PeerID // this peer's id in Hosts (required)
	Hosts  Hosts           // the universe (required)
	Config protocol.Config // protocol timing; must Validate

	// Keys is the keyring: each key is 32 bytes, and with any, every
	// frame and datagram is sealed with AES-256-GCM. The first key (the
	// primary) seals; every key opens, so a cluster can rotate keys
	// without a pause (see SetKeys). No two keys may be alike. None sends
	// in the clear.
	//
	// Sealed messages carry their sender's wall-clock time, and a
	// receiver refuses one stamped more than Config.SuspectAfter behind
	// or ahead of its own clock: the peers' clocks must agree within
	// that (NTP keeps them so). Refusals for the clock are counted
	// (stale-stamp, future-stamp) and logged on OperatorLog, at most
	// every 10 s per sender.
	Keys [][]byte
	// Broadcast sends heartbeats to BroadcastAddr instead of to each
	// member's address. A heartbeat still names one receiver, so there is
	// still one datagram per member; every peer receives them all and
	// silently ignores those addressed to another peer. The UDP socket
	// then listens on every IPv4 address, as broadcasts require.
	Broadcast     bool
	BroadcastAddr string // default 255.255.255.255:<own UDP port>

	// LeaderCrashHook arms the seed's -t hook (docs/design.md, section 10, case 4).
	LeaderCrashHook bool
	// CrashAfter (duration, 0 = never) makes the peer crash this long
	// after Run started it: it logs "crashing" and Run returns ErrCrashed.
	CrashAfter time.Duration
	// Incarnation identifies this process among all that ever ran as ID;
	// 0 takes the wall-clock start time in nanoseconds, which grows across
	// restarts.
	Incarnation uint64
	// Tags are this process's tags (protocol.Tags: a few key=value pairs,
	// such as a role or a zone): its JOIN carries them, and every member
	// holding a view that holds this peer holds them too (ViewChange.Tags,
	// Members, Status). They are fixed for the process, as its
	// incarnation is: to change them, restart it. A durable peer resuming
	// from its state file keeps the tags stored with its incarnation, as
	// the members know it by them: Tags is then not used, and a
	// difference is logged on OperatorLog.
	Tags protocol.Tags

	// DataDir, when set, makes the peer durable (Config.Durable): it keeps
	// its state in DIR/state, written and synced before anything that
	// depends on it is sent, and a later process started on the same
	// directory resumes from it as the same member (same incarnation, same
	// promises, same view) instead of joining as a new one. The directory
	// is created if needed (0700) and locked: Listen refuses a second
	// process on it. A state file that cannot be used (ErrState) is never
	// discarded silently: Listen fails until ResetState discards it. The
	// state file records the hosts' Fingerprint: editing the hosts file
	// (or the ports completing its lines) makes every existing state file
	// foreign, and each peer must then start with ResetState.
	DataDir string
	// ResetState (needs DataDir) removes the state file before the start:
	// the peer forgets its promises and its view, and starts as a new
	// member under a new incarnation. It is logged on OperatorLog.
	ResetState bool
	// ForceView (needs DataDir holding a state file, not with ResetState:
	// Listen refuses a peer that has no view stored) is the way out of a
	// lost majority: SuspectAfter plus HeartbeatInterval after Run starts
	// the peer, once it has heard from every member it can reach, it
	// installs a view of itself and those members (protocol.ForceViewJump
	// above any view id it knows; see protocol.Node.ForceView). It can
	// lose decisions the lost members made: use it on one survivor only,
	// when the others are gone for good. A refusal (the peer holds no
	// view) is logged on OperatorLog; the forced view shows as a
	// protocol.NoteForcedView note.
	ForceView bool

	// OnNote is called on the event loop for every note the peer produces,
	// before any message of the same step is sent (the seed's log lines
	// come from here). It must not block for long.
	OnNote func(protocol.Note)
	// OnView is called on the event loop, after OnNote, every time the
	// view this peer holds changes: each view it installs, the view it
	// resumes (durable peers), and its leaving the view (removed, or
	// left). It is how an embedding program follows the membership; a
	// program that must not block the peer hands the ViewChange to a
	// goroutine of its own (a buffered channel). It must not block for
	// long.
	OnView func(ViewChange)
	// Logger receives diagnostics (drops, reconnects, bad input); nil
	// discards them. Drops are logged within limits, whatever the input:
	// a warning for the first of each reason and sender, then a count
	// every 10 s, and at debug level a few more each 10 s.
	Logger *slog.Logger
	// OperatorLog receives the few lines an operator asked for by an
	// option and must see whatever the diagnostics level: the state file
	// ResetState removed, or why ForceView was refused. nil sends them to
	// Logger.
	OperatorLog *slog.Logger

	DialTimeout  time.Duration // default 1 s
	WriteTimeout time.Duration // default 2 s
	SendQueueLen int           // per peer, in frames; default 1024, and at most 16 MiB; when full the oldest is dropped
}

// ErrCrashed is returned by Run when the peer crashed on purpose (-c or -t).
var ErrCrashed = errors.New("netrt: peer crashed")

// A durable peer that cannot store its state stops at once: Run returns
// an error wrapping protocol.ErrSave, which names the file and the failure.

// Runtime is one running peer.
type Runtime struct {
	impl *runtime
}

// Listen validates opts and binds the peer's TCP and UDP addresses. An
// address in use, an id outside Hosts or a bad key is an error naming it.
// With DataDir it also locks the directory and reads the state file: a
// directory in use by another process is an error, and a state file that
// cannot be used one wrapping ErrState. The lock is held until Run
// returns.
func Listen(opts Options) (*Runtime, error) {
	r, err := newRuntime(opts)
	if err != nil {
		return nil, err
	}
	return &Runtime{impl: r}, nil
}

// Run starts the peer and runs its event loop until the peer stops: nil
// after a finished graceful leave, ErrCrashed after a crash, or ctx's error
// when ctx is cancelled (without leaving: cancel is a kill). A durable peer
// resumes from the state Listen read, if any, and otherwise starts fresh;
// one whose state cannot be stored stops and Run returns an error wrapping
// protocol.ErrSave. It closes the sockets (and releases the data
// directory) before returning. A Runtime runs once: a second Run is an
// error.
//
// When the peer stops on its own (a leave or a crash), Run first lets the
// messages of its last steps go out, for at most DialTimeout plus
// WriteTimeout, as a process's closing sockets would.
func (r *Runtime) Run(ctx context.Context) error { return r.impl.run(ctx) }

// Leave asks the peer to leave gracefully; Run returns once it has. Asked
// before Run, the request waits for Run; after Run returned, it does
// nothing.
func (r *Runtime) Leave() { r.impl.leave() }

// Evict asks the peer, which should be the leader, to remove p.
func (r *Runtime) Evict(p protocol.PeerID) { r.impl.evict(p) }

// SetKeys replaces the keyring (see Options.Keys) while the peer runs,
// or before: every message sealed from then on uses the new primary key,
// and every message received is opened with the new keys. Readers and the
// sender see the whole new keyring at once, never a mix; it is safe to
// call from any goroutine. Stamps go on as before, so peers notice
// nothing but the key. A bad keyring is an error and changes nothing. A
// peer started without keys cannot take any, and one started with keys
// cannot drop them all: both need a restart.
//
// To rotate keys without a pause, take every peer through three steps,
// each on all peers before the next starts: add the new key second; make
// it first; remove the old one.
func (r *Runtime) SetKeys(keys [][]byte) error { return r.impl.setKeys(keys) }

// Status returns a snapshot of the peer, safe to call from any goroutine:
// its view, its own tags (Status.Tags) and its members' (MemberTags,
// aligned with Members; nil when none has any).
func (r *Runtime) Status() protocol.Status { return r.impl.status() }

// Members returns what the peer knows of each member of its view (see
// protocol.Peer.Members), tags included, asked of its event loop: it
// waits for the loop to answer, until ctx ends or Run returns
// (ErrNotRunning).
func (r *Runtime) Members(ctx context.Context) ([]protocol.MemberStatus, error) {
	return r.impl.members(ctx)
}

// ErrNotRunning is returned by a query of a Runtime whose Run has
// returned.
var ErrNotRunning = errors.New("netrt: peer not running")

// WriteMetrics writes the peer's counters in the Prometheus text format.
func (r *Runtime) WriteMetrics(w io.Writer) error { return r.impl.writeMetrics(w) }

// TCPAddr and UDPAddr are the bound addresses (useful with port 0).
func (r *Runtime) TCPAddr() string { return r.impl.tcpAddr() }
func (r *Runtime) UDPAddr() string { return r.impl.udpAddr() }
