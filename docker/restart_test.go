//go:build e2e

// Durable peers restarted under docker compose: testcase-restart.yml's
// five peers, each with its state in its own volume, form one view of
// five; compose restart stops and starts them all (SIGTERM: durable peers
// stop as members); each must resume the
// view it held and they must end in one view of five again.
package docker_test

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/memberly/memberly/check"
	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

// restartFile is the compose file of the restart case.
const restartFile = "testcase-restart.yml"

// heldView is a view a peer holds as its log shows it: the view of a
// resumed line, or of a view line.
type heldView struct {
	id      protocol.ViewID
	members []protocol.PeerID
}

func (v heldView) String() string {
	return fmt.Sprintf("view %d %s", v.id, protocol.FormatMembers(v.members))
}

// resumed returns p's resumed lines, each with the index of its entry.
func (p peerLog) resumed() (at []int, views []heldView, problems []string) {
	for i, e := range p.entries {
		l, ok := check.ParseOperatorLine(e.text)
		if !ok || l.Msg != protocol.NoteResumed.String() {
			continue
		}
		id, err := strconv.ParseUint(l.Fields["view_id"], 10, 64)
		ms, merr := parseMembers(l.Fields["members"])
		if err != nil || merr != nil || l.Fields["peer_id"] != strconv.Itoa(int(p.id)) {
			problems = append(problems, fmt.Sprintf("p%d printed a resumed line that does not parse: %q", p.id, e.text))
			continue
		}
		at = append(at, i)
		views = append(views, heldView{protocol.ViewID(id), ms})
	}
	return at, views, problems
}

// parseMembers parses a member list as FormatMembers writes it: [1,2,3],
// or [] for none.
func parseMembers(s string) ([]protocol.PeerID, error) {
	inner, open := strings.CutPrefix(s, "[")
	inner, closed := strings.CutSuffix(inner, "]")
	if !open || !closed {
		return nil, fmt.Errorf("members %q: not in brackets", s)
	}
	var ms []protocol.PeerID
	if inner == "" {
		return ms, nil
	}
	for _, f := range strings.Split(inner, ",") {
		n, err := strconv.ParseUint(f, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("members %q: %v", s, err)
		}
		ms = append(ms, protocol.PeerID(n))
	}
	return ms, nil
}

// lastViewIn returns the last view line among entries.
func lastViewIn(entries []entry) (heldView, bool) {
	for i := len(entries) - 1; i >= 0; i-- {
		if e := entries[i]; e.parsed && e.line.IsView() {
			return heldView{e.line.ViewID, e.line.Members}, true
		}
	}
	return heldView{}, false
}

// afterRestart reports how the logs miss the end of the restart case, or
// "": every peer runs, has resumed, and holds the view of five that every
// other holds (its last view line since it resumed, else the view it
// resumed with). hopeless says it can no longer hold: a peer exited.
func afterRestart(logs []peerLog) (why string, hopeless bool) {
	var bad []string
	var views []heldView
	for _, p := range logs {
		if p.exited {
			return fmt.Sprintf("p%d exited (status %d) after the restart", p.id, p.exitCode), true
		}
		at, resumedViews, _ := p.resumed()
		if len(at) == 0 {
			bad = append(bad, fmt.Sprintf("p%d has not resumed yet", p.id))
			continue
		}
		v := resumedViews[len(at)-1]
		if since, ok := lastViewIn(p.entries[at[len(at)-1]:]); ok {
			v = since
		}
		views = append(views, v)
		if !slices.Equal(v.members, scenarioFive) {
			bad = append(bad, fmt.Sprintf("p%d holds %s", p.id, v))
		}
	}
	if len(bad) == 0 {
		for i, v := range views {
			if v.id != views[0].id {
				bad = append(bad, fmt.Sprintf("p%d holds %s, p%d %s", logs[i].id, v, logs[0].id, views[0]))
			}
		}
	}
	if len(bad) == 0 {
		return "", false
	}
	return "every peer should have resumed and hold one view of [1,2,3,4,5]: " + strings.Join(bad, "; "), false
}

// scenarioFive is the view the restart case starts and ends with.
var scenarioFive = []protocol.PeerID{1, 2, 3, 4, 5}

// restartProblems judges the whole log of the restart case: each peer
// resumed once, holding the view it last installed before the restart,
// and installed no view at or below that one afterwards (view 1 least of
// all).
func restartProblems(logs []peerLog) []string {
	var problems []string
	for _, p := range logs {
		at, views, bad := p.resumed()
		problems = append(problems, bad...)
		if len(at) != 1 {
			problems = append(problems, fmt.Sprintf("p%d printed %d resumed lines, want 1 (one restart)", p.id, len(at)))
			continue
		}
		before, ok := lastViewIn(p.entries[:at[0]])
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("p%d installed no view before the restart", p.id))
		case before.id != views[0].id || !slices.Equal(before.members, views[0].members):
			problems = append(problems, fmt.Sprintf("p%d held %s before the restart but resumed with %s", p.id, before, views[0]))
		}
		for _, e := range p.entries[at[0]:] {
			if e.parsed && e.line.IsView() && e.line.ViewID <= views[0].id {
				problems = append(problems, fmt.Sprintf("p%d installed view %d %s after resuming at view %d",
					p.id, e.line.ViewID, protocol.FormatMembers(e.line.Members), views[0].id))
			}
		}
	}
	return problems
}

// awaitRestart polls the logs as await does, with afterRestart as the
// expectation.
func (c *cluster) awaitRestart(ctx context.Context, deadline, settle time.Duration) ([]peerLog, string) {
	return c.awaitLogs(ctx, afterRestart, deadline, settle)
}

func TestE2E_DurableRestart(t *testing.T) {
	compose := findCompose(t)
	requireImage(t)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The cluster's cleanup runs down -v: the volumes go with it, and an
	// earlier run's are removed before this one starts.
	c := startCluster(ctx, t, compose, restartFile, "memberly-restart")
	var problems []string
	logs, why := c.await(ctx, scenarios.Expect{View: scenarioFive, Leader: 1}, caseDeadline, settle)
	if why != "" {
		problems = append(problems, "before the restart: "+why)
	} else {
		if _, err := c.composeCmd(ctx, "restart"); err != nil {
			t.Fatalf("restarting: %v", err)
		}
		logs, why = c.awaitRestart(ctx, caseDeadline, settle)
		if why != "" {
			problems = append(problems, why)
		}
	}
	if ctx.Err() == nil {
		problems = append(problems, commonProblems(logs)...)
		if why == "" {
			problems = append(problems, restartProblems(logs)...)
		}
	}

	took := time.Since(c.start).Seconds()
	if len(problems) == 0 {
		fmt.Printf("e2e restart (durable peers): pass in %.1fs\n", took)
		return
	}
	fmt.Printf("e2e restart (durable peers): FAIL in %.1fs: %s\n", took, strings.Join(problems, "; "))
	t.Errorf("the restart case failed; the peers' logs:\n%s", dump(logs))
}
