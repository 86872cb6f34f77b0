//go:build e2e

package docker_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/memberly/memberly/check"
	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

// expectation reports how the logs miss e, as the simulator judges its
// scenarios, or "": every peer of the expected view is running and its
// latest view line shows that view and leader, and every other peer has
// exited (in the seed's cases, the peers outside the final view crash).
// hopeless says the expectation can no longer hold: a peer that should
// hold the view has exited.
func expectation(e scenarios.Expect, logs []peerLog) (why string, hopeless bool) {
	var bad []string
	for _, p := range logs {
		inView := e.View == nil || slices.Contains(e.View, p.id)
		switch {
		case !inView && !p.exited:
			bad = append(bad, fmt.Sprintf("p%d is still running, though it should be down", p.id))
		case !inView:
		case p.exited:
			return fmt.Sprintf("p%d exited (status %d), though it should hold the final view", p.id, p.exitCode), true
		default:
			v, ok := p.latestView()
			switch {
			case !ok:
				bad = append(bad, fmt.Sprintf("p%d printed no view", p.id))
			case (e.View != nil && !slices.Equal(v.Members, e.View)) || (e.Leader != 0 && v.Leader != e.Leader):
				bad = append(bad, fmt.Sprintf("p%d holds view %d %s led by %d",
					p.id, v.ViewID, protocol.FormatMembers(v.Members), v.Leader))
			}
		}
	}
	if len(bad) == 0 {
		return "", false
	}
	return fmt.Sprintf("every live peer should hold %s led by %d; %s",
		protocol.FormatMembers(e.View), e.Leader, strings.Join(bad, "; ")), false
}

// await polls the logs until the expectation has held for settle (so that
// a late spurious change shows), or it cannot hold any more, or deadline
// passes, or ctx is cancelled. It returns the last logs read and, unless
// the expectation held, why not.
func (c *cluster) await(ctx context.Context, e scenarios.Expect, deadline, settle time.Duration) ([]peerLog, string) {
	return c.awaitLogs(ctx, func(logs []peerLog) (string, bool) { return expectation(e, logs) }, deadline, settle)
}

// awaitLogs polls the logs every second until judge finds nothing wrong
// with them for settle, says it never will (hopeless), ctx ends or
// deadline passes; it returns the last logs read and what was wrong, or
// "".
func (c *cluster) awaitLogs(ctx context.Context, judge func([]peerLog) (why string, hopeless bool), deadline, settle time.Duration) ([]peerLog, string) {
	var logs []peerLog
	var heldSince time.Time
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	end := time.After(deadline)
	for {
		got, err := c.collect(ctx)
		if err == nil {
			logs = got
		}
		why, hopeless := judge(logs)
		switch {
		case ctx.Err() != nil:
			return logs, "interrupted: " + context.Cause(ctx).Error()
		case err != nil:
			return logs, "reading the logs: " + err.Error()
		case hopeless:
			return logs, why
		case why != "":
			heldSince = time.Time{}
		case heldSince.IsZero():
			heldSince = time.Now()
		case time.Since(heldSince) >= settle:
			return logs, ""
		}
		select {
		case <-ctx.Done():
		case <-end:
			if why == "" {
				why = "the expectation held, but not for " + settle.String()
			}
			return logs, fmt.Sprintf("not reached within %v: %s", deadline, why)
		case <-tick.C:
		}
	}
}

// commonProblems are what every case must satisfy beyond its expectation:
// S1-S4 over all installs, each peer logging under its own id, and every
// exited peer having said it was crashing.
func commonProblems(logs []peerLog) []string {
	var problems []string
	if prop, detail := check.CheckInstalls(len(services), installs(logs)); prop != "" {
		problems = append(problems, fmt.Sprintf("safety property %s violated: %s", prop, detail))
	}
	for _, p := range logs {
		for _, l := range p.lines() {
			if l.Peer != p.id {
				problems = append(problems, fmt.Sprintf("service %s (peer %d) logged as peer %d: %s", p.service, p.id, l.Peer, l))
				break
			}
		}
		if p.exited && !p.crashed() {
			problems = append(problems, fmt.Sprintf("p%d exited with status %d without printing %q last",
				p.id, p.exitCode, protocol.MessageCrashing))
		}
	}
	return problems
}

// mustPrint reports each of peers that never printed msg.
func mustPrint(logs []peerLog, msg string, peers ...protocol.PeerID) []string {
	var problems []string
	for _, id := range peers {
		if !logs[id-1].printed(msg) {
			problems = append(problems, fmt.Sprintf("p%d never printed %q", id, msg))
		}
	}
	return problems
}
