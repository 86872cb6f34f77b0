package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/protocol"
)

// config is the parsed and checked command line. Only what needs the world
// outside (the hosts file, the key file, the network) is left to check.
type config struct {
	hostsFile   string
	delay       time.Duration // -d: wait this long before starting
	crashAfter  time.Duration // -c: crash this long after starting; 0 = never
	leaderCrash bool          // -t: the seed's case-4 hook
	id          int           // -id: 0 means find this host in the hosts file
	tcpPort     int
	udpPort     int
	proto       protocol.Config
	broadcast   bool
	keyFile     string
	// httpTokenFile names the file holding the token of POST /evict and
	// /leave.
	httpTokenFile string
	genKey        bool   // -gen-key: print a new key and exit
	logFormat     string // "text" or "json"
	httpAddr      string
	verbose       bool
	dataDir       string // -data-dir: keep the state there (durable peer)
	resetState    bool   // -reset-state: discard the stored state first
	forceView     bool   // -force-view: force a view of the reachable members
	// leaveOnSignal (-leave-on-signal): SIGTERM or SIGINT leaves the group
	// first. Default on, the seed's behaviour, but off with -data-dir: a
	// durable peer is stopped to be restarted, as a member.
	leaveOnSignal bool
	// tagPairs are the -tag flags as given, tags what they make.
	tagPairs []string
	tags     protocol.Tags
}

// Log formats accepted by -log.
const (
	logText = "text"
	logJSON = "json"
)

// maxSeconds bounds -d and -c so that they fit a time.Duration.
const maxSeconds = float64(math.MaxInt64 / int64(time.Second))

// secondsFlag is a duration written as a decimal number of seconds, as the
// seed's -d and -c take it ("2", "0.5").
type secondsFlag struct{ d *time.Duration }

func (s secondsFlag) String() string {
	if s.d == nil {
		return "0"
	}
	return strconv.FormatFloat(s.d.Seconds(), 'g', -1, 64)
}

func (s secondsFlag) Set(v string) error {
	f, err := strconv.ParseFloat(v, 64)
	switch {
	case err != nil || math.IsNaN(f) || math.IsInf(f, 0):
		return errors.New("want a number of seconds, like 2 or 0.5")
	case f < 0:
		return errors.New("must not be negative")
	case f > maxSeconds:
		return errors.New("too large")
	}
	*s.d = time.Duration(f * float64(time.Second))
	return nil
}

// tagFlag collects the repeatable -tag key=value. Each pair is checked as
// it comes, so that the error names it; the keys given twice and the
// total size are checked once all are in (parseFlags).
type tagFlag struct{ pairs *[]string }

func (f tagFlag) String() string {
	if f.pairs == nil {
		return ""
	}
	return strings.Join(*f.pairs, " ")
}

func (f tagFlag) Set(v string) error {
	if _, err := protocol.ParseTags([]string{v}); err != nil {
		return errors.New(tagProblem(err))
	}
	*f.pairs = append(*f.pairs, v)
	return nil
}

// tagProblem is what is wrong with tags, without protocol.ErrBadTags'
// prefix: the flag's name stands in front of it.
func tagProblem(err error) string {
	return strings.TrimPrefix(err.Error(), protocol.ErrBadTags.Error()+": ")
}

// newFlagSet declares every flag into cfg, with the defaults filled in.
func newFlagSet(cfg *config) *flag.FlagSet {
	def := protocol.DefaultConfig()
	cfg.proto = def
	fs := flag.NewFlagSet("peer", flag.ContinueOnError)
	// Parse errors are reported by run as one line; the flag package would
	// add the whole usage text to stderr, which is for -help only.
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.hostsFile, "h", "", "hosts `file`: one host per line (host, host:tcp or host:tcp:udp); a peer's id is its line number (required)")
	fs.Var(secondsFlag{&cfg.delay}, "d", "`seconds` to wait before starting (decimals allowed)")
	fs.Var(secondsFlag{&cfg.crashAfter}, "c", "crash this many `seconds` after starting: print crashing and exit 1 (0 = never)")
	fs.BoolVar(&cfg.leaderCrash, "t", false, "the seed's case-4 hook: as leader, once all have joined, half-send DEL of the last peer and crash")
	fs.IntVar(&cfg.id, "id", 0, "this peer's `id` (default: the line naming this host or one of its addresses)")
	fs.IntVar(&cfg.tcpPort, "tcp-port", 8080, "TCP `port` of hosts lines that give none")
	fs.IntVar(&cfg.udpPort, "udp-port", 8081, "UDP `port` of hosts lines that give none")
	fs.DurationVar(&cfg.proto.HeartbeatInterval, "heartbeat", def.HeartbeatInterval, "heartbeat `interval`")
	fs.DurationVar(&cfg.proto.SuspectAfter, "suspect-after", def.SuspectAfter, "suspect a member silent this `long`")
	fs.DurationVar(&cfg.proto.RetryInterval, "retry", def.RetryInterval, "retransmission `interval` of unanswered messages")
	fs.DurationVar(&cfg.proto.JoinRetryInterval, "join-retry", def.JoinRetryInterval, "JOIN retransmission `interval`")
	fs.DurationVar(&cfg.proto.LeaveTimeout, "leave-timeout", def.LeaveTimeout, "give up a graceful leave after this `long`")
	fs.BoolVar(&cfg.proto.Rejoin, "rejoin", def.Rejoin, "join again after being removed while alive")
	fs.IntVar(&cfg.proto.Observers, "observers", def.Observers, "members watching each member, in a view larger than this plus one "+
		"(smaller views watch all-to-all); a member is removed on suspicion once more than half its observers agree. Use the same value on every peer")
	fs.DurationVar(&cfg.proto.BatchWait, "batch-wait", def.BatchWait, "with -max-changes-per-view above 1: as leader, let joins and removals "+
		"queue this `long` after a decision so that they go out as one batch (0: at once; at most -suspect-after)")
	fs.IntVar(&cfg.proto.MaxChangesPerView, "max-changes-per-view", def.MaxChangesPerView,
		"as leader, decide up to `n` queued joins and removals in one view change (1..64); "+
			"default 1, the seed's rule that each view differs from the last by one peer. Give every peer the same value")
	fs.BoolVar(&cfg.broadcast, "broadcast", false, "send heartbeats to the broadcast address (255.255.255.255:udp-port) instead of to each member's address")
	fs.StringVar(&cfg.keyFile, "key-file", "", "`file` of keys, one per line as 64 hex digits (32 bytes; # comments allowed): "+
		"seal all traffic with AES-256-GCM, under the first key, and open it with any; SIGHUP reloads the file. "+
		"Sealed messages carry the sender's clock: peers' clocks must agree within -suspect-after (NTP), or they refuse one another")
	fs.BoolVar(&cfg.genKey, "gen-key", false, "print a new random key (64 hex digits, a line for -key-file) and exit")
	fs.StringVar(&cfg.logFormat, "log", logText, "log `format`: text (the seed's lines) or json (one object per line)")
	fs.StringVar(&cfg.httpTokenFile, "http-token-file", "", "`file` whose first line is the token POST /evict and /leave require "+
		"(Authorization: Bearer TOKEN); without it they are served on loopback connections only")
	fs.StringVar(&cfg.httpAddr, "http", "", "serve GET /status, /ready and /metrics on this `address`")
	fs.BoolVar(&cfg.verbose, "v", false, "also log diagnostics (drops, reconnects, bad input) on stderr")
	fs.StringVar(&cfg.dataDir, "data-dir", "", "keep this peer's state in `dir` (created if needed, one process per directory): "+
		"restarted on it, the peer resumes as the same member, with its view and promises, instead of joining as a new one; "+
		"every change costs a write and an fsync. Editing the hosts file makes the stored state foreign: start every peer with -reset-state then")
	fs.BoolVar(&cfg.resetState, "reset-state", false, "with -data-dir: discard the stored state before starting; "+
		"the peer forgets its view, promises and incarnation, and joins as a new member")
	fs.BoolVar(&cfg.forceView, "force-view", false, "with -data-dir holding this peer's state, when a majority of its view is gone for good: "+
		"once started (after -suspect-after plus -heartbeat), install a view of this peer and the members it hears from, "+
		"its id 1000 above any known. It can lose decisions only the lost members knew of; use it on one survivor only")
	fs.Var(tagFlag{&cfg.tagPairs}, "tag", "a tag of this peer, as `key=value` (repeat for more): every member shows it in /members and /status. "+
		fmt.Sprintf("Keys are 1 to %d letters, digits or ._-/, values UTF-8 without control characters, %d bytes in all at most. ", protocol.MaxTagKeySize, protocol.MaxTagsSize)+
		"Fixed for the process: a peer resumed from -data-dir keeps the tags it stored")
	fs.BoolVar(&cfg.leaveOnSignal, "leave-on-signal", true, "on SIGTERM or SIGINT, leave the group before exiting; "+
		"default true, but false with -data-dir, where a signal stops the peer as a member that resumes when restarted")
	// The flag package calls Usage on every parse error; the usage text
	// is printed for -help only (see parseFlags).
	fs.Usage = func() {}
	return fs
}

// printUsage writes the usage text of fs to w.
func printUsage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintf(w, "usage: peer -h hosts [-d seconds] [-c seconds] [-t] [-id n] [-data-dir dir] [-tag key=value]... [flags]\n       peer -gen-key\n"+
		"       peer members -http ADDR [-json]\n       peer evict -http ADDR [-token-file F] N\n       peer leave -http ADDR [-token-file F]\n\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// parseFlags parses and checks args. It returns flag.ErrHelp after printing
// the usage to usage when -help was asked for.
func parseFlags(args []string, usage io.Writer) (config, error) {
	var cfg config
	fs := newFlagSet(&cfg)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(fs, usage)
		}
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, errors.Errorf("unexpected argument %q (flags only; see -help)", fs.Arg(0))
	}
	if cfg.genKey {
		if fs.NFlag() > 1 {
			return cfg, errors.New("-gen-key prints a new key and exits: it takes no other flag")
		}
		return cfg, nil
	}
	if cfg.hostsFile == "" {
		return cfg, errors.New("-h: a hosts file is required")
	}
	tags, err := protocol.ParseTags(cfg.tagPairs)
	if err != nil {
		return cfg, errors.Errorf("-tag: %s", tagProblem(err))
	}
	cfg.tags = tags
	if cfg.id < 0 || cfg.id > protocol.MaxPeers {
		return cfg, errors.Errorf("-id %d: want a peer id in 1..%d", cfg.id, protocol.MaxPeers)
	}
	for _, p := range []struct {
		name string
		port int
	}{{"-tcp-port", cfg.tcpPort}, {"-udp-port", cfg.udpPort}} {
		if p.port < 1 || p.port > 65535 {
			return cfg, errors.Errorf("%s %d: want a port in 1..65535", p.name, p.port)
		}
	}
	if cfg.logFormat != logText && cfg.logFormat != logJSON {
		return cfg, errors.Errorf("-log %q: want text or json", cfg.logFormat)
	}
	if cfg.httpTokenFile != "" && cfg.httpAddr == "" {
		return cfg, errors.New("-http-token-file needs -http: the token guards the HTTP endpoints")
	}
	if cfg.dataDir != "" && !flagGiven(fs, "leave-on-signal") {
		cfg.leaveOnSignal = false
	}
	switch {
	case cfg.resetState && cfg.dataDir == "":
		return cfg, errors.New("-reset-state needs -data-dir: without it the peer stores no state")
	case cfg.forceView && cfg.dataDir == "":
		return cfg, errors.New("-force-view needs -data-dir: only a peer resumed from its state holds a view to force")
	case cfg.forceView && cfg.resetState:
		return cfg, errors.New("-force-view cannot go with -reset-state: it forces the stored view, which -reset-state discards")
	}
	if err := cfg.proto.Validate(); err != nil {
		return cfg, errors.New(flagNames.Replace(err.Error()))
	}
	return cfg, nil
}

// flagGiven reports whether name was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// flagNames rewrites Config's field names in Validate's errors into the
// flags that set them, so the message tells the user what to change.
var flagNames = strings.NewReplacer(
	"HeartbeatInterval", "-heartbeat",
	"SuspectAfter", "-suspect-after",
	"JoinRetryInterval", "-join-retry",
	"RetryInterval", "-retry",
	"LeaveTimeout", "-leave-timeout",
	"Observers", "-observers",
	"BatchWait", "-batch-wait",
	"MaxChangesPerView is", "-max-changes-per-view",
)
