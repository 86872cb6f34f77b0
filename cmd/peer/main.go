// Command peer runs one Memberly peer over real sockets, with the seed's
// command line and log lines.
//
//	peer -h hosts [-d seconds] [-c seconds] [-t] [-id n] [-tag key=value]... [flags]
//
// It prints the seed's log lines on stderr, one per line:
//
//	{peer_id:1, view_id: 1, leader: 1, memb_list: [1]}
//	{peer_id:2, view_id: 3, leader: 1, message:"peer 5 unreachable"}
//
// Each -tag key=value gives the peer a tag, which every member shows
// (GET /members, GET /status, peer members); a peer's tags are fixed for
// its process.
//
// SIGTERM or SIGINT leaves the group gracefully; a second one exits at once.
// SIGHUP reloads -key-file and installs its keys in the running peer (a
// bad file is logged as one line, and the keys in use are kept), so keys
// rotate without a restart. peer -gen-key prints a new random key.
// The exit status is 0 after a graceful leave, 1 after a crash (-c, -t), a
// second signal or a runtime failure (a state that -data-dir cannot store),
// and 2 for a start-up error, which is printed as one line "peer: what is
// wrong": a state file in -data-dir that cannot be used is one.
//
// With -data-dir the peer is durable: it stores its state there, and a
// process started again on that directory resumes as the same member. It
// then also prints, in slog's format (never the seed's), the lines an
// operator must see: that it resumed, that -reset-state removed a state
// file, that -force-view forced a view or could not.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/netrt"
)

// Exit statuses.
const (
	exitOK      = 0 // graceful leave, or stopped before starting
	exitCrashed = 1 // crashed on purpose, killed by a second signal, or failed while running
	exitStartup = 2 // the command line or the environment is wrong
)

func main() {
	// Signals are caught from the very start, so that one arriving during
	// the -d delay stops the peer cleanly instead of killing it.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, sigs))
}

// run is the whole command: it parses args, starts the peer, and returns the
// exit status. sigs delivers SIGTERM, SIGINT and SIGHUP.
func run(args []string, stdout, stderr io.Writer, sigs <-chan os.Signal) int {
	if len(args) > 0 {
		if sub, ok := subcommands[args[0]]; ok {
			return sub(args[1:], stdout, stderr)
		}
	}
	cfg, err := parseFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return startupError(stderr, err)
	}
	if cfg.genKey {
		key, err := genKey(rand.Reader)
		if err != nil {
			return startupError(stderr, err)
		}
		fmt.Fprintln(stdout, key)
		return exitOK
	}
	ident, hup, signalled, err := resolveUnlessSignalled(cfg, sigs)
	if signalled {
		// Not started yet: there is no group to leave.
		return exitOK
	}
	if err != nil {
		return startupError(stderr, err)
	}

	out := &lockedWriter{w: stderr}
	oplog := operatorLog(cfg.logFormat, out)
	// Until the peer runs, a reload replaces the keys it will start with.
	keys := &keyReloader{path: cfg.keyFile, log: oplog, install: func(k [][]byte) error {
		ident.keys = k
		return nil
	}}
	if hup {
		// A SIGHUP while the files were read: the key file may have
		// changed since it was read.
		keys.reload()
	}
	if cfg.delay > 0 && !waitDelay(cfg.delay, sigs, keys.reload) {
		// Not started yet: there is no group to leave.
		return exitOK
	}

	diag := diagnostics(cfg.verbose, cfg.logFormat, out)
	// The HTTP address is bound before the peer's, so that a failure
	// leaves no peer sockets behind (only Run closes those).
	var httpLn net.Listener
	if cfg.httpAddr != "" {
		if httpLn, err = net.Listen("tcp", cfg.httpAddr); err != nil {
			return startupError(stderr, errors.Wrap(err, "-http"))
		}
	}
	rt, err := netrt.Listen(netrt.Options{
		ID:              ident.id,
		Hosts:           ident.hosts,
		Config:          cfg.proto,
		Keys:            ident.keys,
		Broadcast:       cfg.broadcast,
		LeaderCrashHook: cfg.leaderCrash,
		CrashAfter:      cfg.crashAfter,
		Tags:            cfg.tags,
		DataDir:         cfg.dataDir,
		ResetState:      cfg.resetState,
		ForceView:       cfg.forceView,
		OnNote:          noteWriter(cfg.logFormat, out),
		Logger:          diag,
		OperatorLog:     oplog,
	})
	if err != nil {
		if httpLn != nil {
			httpLn.Close()
		}
		return startupError(stderr, stateHint(err))
	}
	keys.install = rt.SetKeys
	if httpLn != nil {
		srv := newServer(peerAdmin{Runtime: rt, hosts: ident.hosts, token: ident.adminToken}, serverLog(diag))
		go srv.Serve(httpLn)
		defer srv.Close()
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	if !cfg.leaveOnSignal {
		return superviseMember(done, cancel, sigs, keys.reload, stderr, oplog)
	}
	return supervise(rt, done, cancel, sigs, keys.reload, stderr)
}

// resolveUnlessSignalled runs resolve, and gives up on it when a signal
// comes first: opening a FIFO that no one writes blocks for good, and a
// hosts file on a hung network file system or a slow resolver may take
// long. SIGTERM and SIGINT are caught from the start (see main), so
// without this they would be lost while the peer reads its files. The
// abandoned resolve ends with the process. A SIGHUP meanwhile is
// remembered (hup): the key file is read again once resolve is done.
func resolveUnlessSignalled(cfg config, sigs <-chan os.Signal) (ident identity, hup, signalled bool, err error) {
	type result struct {
		ident identity
		err   error
	}
	done := make(chan result, 1)
	go func() {
		ident, err := resolve(cfg)
		done <- result{ident, err}
	}()
	r, stopped := untilStop(done, sigs, func() { hup = true })
	return r.ident, hup, stopped, r.err
}

// untilStop waits for a value from c, and returns it, unless a signal
// other than SIGHUP comes first (stopped). Each SIGHUP meanwhile calls hup,
// on the caller's goroutine.
func untilStop[T any](c <-chan T, sigs <-chan os.Signal, hup func()) (v T, stopped bool) {
	for {
		select {
		case v := <-c:
			return v, false
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				hup()
				continue
			}
			return v, true
		}
	}
}

// waitDelay waits d before the start (-d). A SIGHUP meanwhile calls hup;
// any other signal ends the wait, and waitDelay returns false.
func waitDelay(d time.Duration, sigs <-chan os.Signal, hup func()) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	_, stopped := untilStop(t.C, sigs, hup)
	return !stopped
}

// supervise waits for the peer to stop. The first SIGTERM or SIGINT asks
// it to leave gracefully; a second one kills it without waiting. SIGHUP
// calls hup.
func supervise(rt *netrt.Runtime, done <-chan error, kill context.CancelFunc, sigs <-chan os.Signal, hup func(), stderr io.Writer) int {
	for leaving := false; ; leaving = true {
		err, stopped := untilStop(done, sigs, hup)
		switch {
		case !stopped:
			return exitStatus(err, stderr)
		case leaving:
			kill()
			return exitCrashed
		}
		rt.Leave()
	}
}

// superviseMember waits for a durable peer to stop. SIGTERM or SIGINT
// stops it where it is, without leaving: its state is on disk, every
// change it took part in synced, and a restart on the same data directory
// resumes it as the same member, as restarting a machine or a container
// should. It exits 0. SIGHUP calls hup.
func superviseMember(done <-chan error, stop context.CancelFunc, sigs <-chan os.Signal, hup func(), stderr io.Writer, log *slog.Logger) int {
	if err, stopped := untilStop(done, sigs, hup); !stopped {
		return exitStatus(err, stderr)
	}
	log.Info("stopping on a signal without leaving: restart on the same -data-dir to resume as the same member")
	stop()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		return exitStatus(err, stderr)
	}
	return exitOK
}

// keyReloader reloads the key file on SIGHUP.
type keyReloader struct {
	path string // -key-file; "" when none
	log  *slog.Logger
	// install puts reloaded keys to use: Runtime.SetKeys once the peer
	// runs.
	install func([][]byte) error
}

// reload reads the key file again and installs its keys. A file that
// cannot be read or parsed, or keys that install refuses, are logged as
// one line, and the keys in use are kept; so is a SIGHUP to a peer
// without -key-file.
func (k *keyReloader) reload() {
	if k.path == "" {
		k.log.Warn("SIGHUP ignored: no -key-file to reload")
		return
	}
	keys, err := readKeyFile(k.path)
	if err == nil {
		err = k.install(keys)
	}
	if err != nil {
		k.log.Error("cannot reload the key file: keeping the keys in use", "err", oneLine(err.Error()))
		return
	}
	ids := make([]string, len(keys))
	for i, key := range keys {
		ids[i] = netrt.KeyID(key)
	}
	k.log.Info("keys reloaded", "file", k.path, "primary", ids[0], "keys", strings.Join(ids, ","))
}

// exitStatus maps Run's result to the exit status.
func exitStatus(err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, netrt.ErrCrashed):
		// The peer has printed "crashing" already.
		return exitCrashed
	case errors.Is(err, netrt.ErrState):
		// A state the start refused: a start-up error, as when Listen
		// finds it.
		return startupError(stderr, stateHint(err))
	}
	fmt.Fprintf(stderr, "peer: %s\n", oneLine(err.Error()))
	return exitCrashed
}

// stateHint adds to an error about a state file (netrt.ErrState) the way
// out, and what it costs.
func stateHint(err error) error {
	if !errors.Is(err, netrt.ErrState) {
		return err
	}
	return errors.Errorf("%v: start with -reset-state to discard it (this peer then joins as a new member)", err)
}

// startupError prints err as the one line "peer: what is wrong".
func startupError(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "peer: %s\n", oneLine(err.Error()))
	return exitStartup
}
