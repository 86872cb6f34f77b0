// Command peer runs one Memberly peer over real sockets, with the seed's
// command line and log lines.
//
//	peer -h hosts [-d seconds] [-c seconds] [-t] [-id n] [flags]
//
// It prints the seed's log lines on stderr, one per line:
//
//	{peer_id:1, view_id: 1, leader: 1, memb_list: [1]}
//	{peer_id:2, view_id: 3, leader: 1, message:"peer 5 unreachable"}
//
// SIGTERM or SIGINT leaves the group gracefully; a second one exits at once.
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
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, sigs))
}

// run is the whole command: it parses args, starts the peer, and returns the
// exit status. sigs delivers SIGTERM and SIGINT.
func run(args []string, stdout, stderr io.Writer, sigs <-chan os.Signal) int {
	cfg, err := parseFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return startupError(stderr, err)
	}
	ident, err := resolve(cfg)
	if err != nil {
		return startupError(stderr, err)
	}

	if cfg.delay > 0 {
		t := time.NewTimer(cfg.delay)
		select {
		case <-t.C:
		case <-sigs:
			// Not started yet: there is no group to leave.
			t.Stop()
			return exitOK
		}
	}

	out := &lockedWriter{w: stderr}
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
		DataDir:         cfg.dataDir,
		ResetState:      cfg.resetState,
		ForceView:       cfg.forceView,
		OnNote:          noteWriter(cfg.logFormat, out),
		Logger:          diag,
		OperatorLog:     operatorLog(cfg.logFormat, out),
	})
	if err != nil {
		if httpLn != nil {
			httpLn.Close()
		}
		return startupError(stderr, stateHint(err))
	}
	if httpLn != nil {
		srv := newServer(rt, serverLog(diag))
		go srv.Serve(httpLn)
		defer srv.Close()
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	if !cfg.leaveOnSignal {
		return superviseMember(done, cancel, sigs, stderr, operatorLog(cfg.logFormat, out))
	}
	return supervise(rt, done, cancel, sigs, stderr)
}

// supervise waits for the peer to stop. The first signal asks it to leave
// gracefully; a second one kills it without waiting.
func supervise(rt *netrt.Runtime, done <-chan error, kill context.CancelFunc, sigs <-chan os.Signal, stderr io.Writer) int {
	leaving := false
	for {
		select {
		case err := <-done:
			return exitStatus(err, stderr)
		case <-sigs:
			if leaving {
				kill()
				return exitCrashed
			}
			leaving = true
			rt.Leave()
		}
	}
}

// superviseMember waits for a durable peer to stop. A signal stops it
// where it is, without leaving: its state is on disk, every change it
// took part in synced, and a restart on the same data directory resumes
// it as the same member, as restarting a machine or a container should.
// It exits 0.
func superviseMember(done <-chan error, stop context.CancelFunc, sigs <-chan os.Signal, stderr io.Writer, log *slog.Logger) int {
	select {
	case err := <-done:
		return exitStatus(err, stderr)
	case <-sigs:
		log.Info("stopping on a signal without leaving: restart on the same -data-dir to resume as the same member")
		stop()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			return exitStatus(err, stderr)
		}
		return exitOK
	}
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
	fmt.Fprintf(stderr, "peer: %v\n", err)
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
	msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
	fmt.Fprintf(stderr, "peer: %s\n", msg)
	return exitStartup
}
