package check

import (
	"fmt"
	"time"

	"github.com/memberly/memberly/protocol"
)

// Install is one view installed by a peer outside the simulator: as its
// log line shows it, or as a test's harness recorded it.
type Install struct {
	Peer protocol.PeerID
	// Incarnation tells the processes that ran as Peer apart: S1 holds per
	// process, and a restarted peer starts over.
	Incarnation uint64
	// Cluster tells apart the clusters of a run in which every process
	// stopped and a new cluster was founded: view ids start over in each
	// (History.NewCluster). Installs come cluster by cluster.
	Cluster int
	View    protocol.View
	At      time.Duration // when it was logged, for messages only
}

// CheckInstalls runs the safety checkers S1-S4 over views installed by a
// real run, as read from its log lines, and returns the first violated
// property and what broke it, or "", "". It is the simulator's own checking,
// so a real run and a simulated one are judged alike.
//
// Installs must be in the order each peer logged them; how the peers' logs
// are interleaved changes only which violation is reported first, not
// whether one is. S5 is not checked: it needs the JOINs, evictions and
// LEAVEs, which logs do not show. S3 is the seed's: one peer per view, as
// every peer runs with MaxChangesPerView 1 by default. An install by a peer
// outside 1..peers is reported as property "input".
func CheckInstalls(peers int, installs []Install) (property, detail string) {
	h := NewHistory(peers, 1)
	h.skipValidity = true
	cluster := 0
	for _, in := range installs {
		if in.Peer < 1 || int(in.Peer) > peers {
			return "input", fmt.Sprintf("p%d installed view %s, but the peers are 1..%d", in.Peer, in.View, peers)
		}
		if in.Cluster != cluster {
			h.NewCluster()
			cluster = in.Cluster
		}
		if prop, d := h.Install(in.Peer, in.Incarnation, in.View, protocol.Change{}, in.At); prop != "" {
			return prop, d
		}
	}
	return "", ""
}

// InstallsFromLines returns the installs that lines show, in order: one per
// view line, skipping message lines. Lines come from one process per peer,
// so every Install has Incarnation 0; At is left zero for the caller to set
// from timestamps, if the log has them.
func InstallsFromLines(lines []protocol.Line) []Install {
	var installs []Install
	for _, l := range lines {
		if in, ok := InstallFromLine(l); ok {
			installs = append(installs, in)
		}
	}
	return installs
}

// InstallFromLine returns the install l shows, as InstallsFromLines does,
// and false for a message line: for callers that read a log line by line,
// each with its own time.
func InstallFromLine(l protocol.Line) (Install, bool) {
	if !l.IsView() {
		return Install{}, false
	}
	return Install{Peer: l.Peer, View: protocol.View{ID: l.ViewID, Members: l.Members}}, true
}
