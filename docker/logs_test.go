//go:build e2e

package docker_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/memberly/memberly/check"
	"github.com/memberly/memberly/protocol"
)

// peerLog is what one peer's container printed, and its state.
type peerLog struct {
	id        protocol.PeerID
	service   string
	container string
	exited    bool
	exitCode  int
	entries   []entry
}

// entry is one line of a container's log.
type entry struct {
	at     time.Duration // since the case started; 0 if the time did not parse
	text   string        // as printed, without the timestamp
	line   protocol.Line
	parsed bool // text is one of the seed's log lines
}

// parseEntries reads docker logs -t output: each line is an RFC 3339
// timestamp, a space and what the peer printed.
func parseEntries(text string, start time.Time) []entry {
	var entries []entry
	for _, raw := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		if strings.TrimSpace(raw) == "" {
			continue
		}
		var e entry
		ts, rest, ok := strings.Cut(raw, " ")
		if when, err := time.Parse(time.RFC3339Nano, ts); ok && err == nil {
			e.at, e.text = when.Sub(start), rest
		} else {
			e.text = raw
		}
		e.line, e.parsed = parseLine(e.text)
		entries = append(entries, e)
	}
	return entries
}

func parseLine(s string) (protocol.Line, bool) {
	l, err := check.ParseLine(s)
	return l, err == nil
}

// lines returns the seed's log lines among the entries.
func (p peerLog) lines() []protocol.Line {
	var lines []protocol.Line
	for _, e := range p.entries {
		if e.parsed {
			lines = append(lines, e.line)
		}
	}
	return lines
}

// latestView returns the last view line p printed.
func (p peerLog) latestView() (protocol.Line, bool) {
	lines := p.lines()
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i].IsView() {
			return lines[i], true
		}
	}
	return protocol.Line{}, false
}

// printed reports whether p printed a message line holding msg.
func (p peerLog) printed(msg string) bool {
	for _, l := range p.lines() {
		if !l.IsView() && l.Message == msg {
			return true
		}
	}
	return false
}

// crashed reports whether p's last log line says it is crashing.
func (p peerLog) crashed() bool {
	lines := p.lines()
	return len(lines) > 0 && !lines[len(lines)-1].IsView() && lines[len(lines)-1].Message == protocol.MessageCrashing
}

// installs returns every peer's installs, merged by log time; each peer's
// stay in the order it printed them, which is what S1 judges.
func installs(logs []peerLog) []check.Install {
	var each [][]check.Install
	for _, p := range logs {
		var mine []check.Install
		for _, e := range p.entries {
			if in, ok := check.InstallFromLine(e.line); e.parsed && ok {
				in.At = e.at
				mine = append(mine, in)
			}
		}
		each = append(each, mine)
	}
	var merged []check.Install
	for {
		next := -1
		for i, mine := range each {
			if len(mine) > 0 && (next < 0 || mine[0].At < each[next][0].At) {
				next = i
			}
		}
		if next < 0 {
			return merged
		}
		merged = append(merged, each[next][0])
		each[next] = each[next][1:]
	}
}

// dump renders every peer's whole log, for a failed case.
func dump(logs []peerLog) string {
	var b strings.Builder
	for _, p := range logs {
		state := "running"
		if p.exited {
			state = fmt.Sprintf("exited with status %d", p.exitCode)
		}
		fmt.Fprintf(&b, "--- peer %d (service %s, container %.12s, %s), %d lines:\n",
			p.id, p.service, p.container, state, len(p.entries))
		for _, e := range p.entries {
			fmt.Fprintf(&b, "  %8.3fs %s\n", e.at.Seconds(), e.text)
		}
	}
	return b.String()
}
