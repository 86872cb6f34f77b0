//go:build e2e

// The real run: the seed's four test cases (docs/design.md, section 10) on five peer
// containers, and case 4 again with every peer sealing with a key, judged
// by the same expectations as the simulator's scenarios and by its safety
// checkers. Build the image first: make image.
package docker_test

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

const (
	// caseDeadline bounds each case; the slowest (case 3) settles about
	// 35 s after its start.
	caseDeadline = 120 * time.Second
	// settle is how long the expectation must keep holding, so that a
	// spurious change right after it is caught.
	settle = 3 * time.Second
)

// seedCase is one of the seed's test cases.
type seedCase struct {
	n        int
	scenario string // the scenario holding its expectation
	// keyed runs the case from testcase-N-key.yml, whose peers all seal
	// with docker/testcase.key, rather than from testcase-N.yml.
	keyed bool
	// extra lists what the case must show beyond the expectation.
	extra func(logs []peerLog) []string
}

// name is the case as its verdict names it.
func (sc seedCase) name() string {
	if sc.keyed {
		return fmt.Sprintf("case %d with a key", sc.n)
	}
	return fmt.Sprintf("case %d", sc.n)
}

// file is the compose file of the case, project its compose project.
func (sc seedCase) file() string {
	if sc.keyed {
		return fmt.Sprintf("testcase-%d-key.yml", sc.n)
	}
	return fmt.Sprintf("testcase-%d.yml", sc.n)
}

func (sc seedCase) project() string {
	if sc.keyed {
		return fmt.Sprintf("memberly-case%d-key", sc.n)
	}
	return fmt.Sprintf("memberly-case%d", sc.n)
}

// leaderCrashLossLines is what case 4 must print: the leader's crash, its
// successor's suspicion of it, and the removal of 5.
func leaderCrashLossLines(logs []peerLog) []string {
	p := mustPrint(logs, protocol.MessageCrashing, 1)
	p = append(p, mustPrint(logs, protocol.UnreachableMessage(1, true), 2)...)
	return append(p, mustPrint(logs, protocol.MessageRemoved, 5)...)
}

var seedCases = []seedCase{
	{n: 1, scenario: "join", extra: func(logs []peerLog) []string {
		// One view per join: the founding view 1, then views 2..5.
		if v, _ := logs[0].latestView(); v.ViewID != 5 {
			return []string{fmt.Sprintf("p1 ends at view %d, not view 5", v.ViewID)}
		}
		return nil
	}},
	{n: 2, scenario: "single-crash", extra: func(logs []peerLog) []string {
		return append(mustPrint(logs, protocol.MessageCrashing, 5),
			mustPrint(logs, protocol.UnreachableMessage(5, false), 1, 2, 3, 4)...)
	}},
	{n: 3, scenario: "multi-crash", extra: func(logs []peerLog) []string {
		return mustPrint(logs, protocol.MessageCrashing, 2, 3, 4, 5)
	}},
	{n: 4, scenario: "leader-crash-loss", extra: leaderCrashLossLines},
	// The same case with sealed traffic: the stamps, the seal's overhead
	// and the dropped-on-sight unsealed input change nothing of it.
	{n: 4, scenario: "leader-crash-loss", keyed: true, extra: leaderCrashLossLines},
}

func TestE2E_SeedCases(t *testing.T) {
	compose := findCompose(t)
	requireImage(t)
	// An interrupt stops the polling; each case's cleanup still tears its
	// containers down.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var verdicts []string
	for _, sc := range seedCases {
		// In order, not in parallel: the cases would share the peers'
		// host names and the machine's few cores.
		name := fmt.Sprintf("case%d_%s", sc.n, sc.scenario)
		if sc.keyed {
			name += "_key"
		}
		t.Run(name, func(t *testing.T) {
			if ctx.Err() != nil {
				t.Skip("interrupted")
			}
			verdicts = append(verdicts, runCase(ctx, t, compose, sc))
		})
	}
	t.Log("verdicts:\n" + strings.Join(verdicts, "\n"))
}

// runCase runs one case and returns its verdict line.
func runCase(ctx context.Context, t *testing.T, compose []string, sc seedCase) string {
	s, err := scenarios.Load(sc.scenario)
	if err != nil {
		t.Fatal(err)
	}
	c := startCluster(ctx, t, compose, sc.file(), sc.project())
	logs, why := c.await(ctx, s.Expect, caseDeadline, settle)

	var problems []string
	if why != "" {
		problems = append(problems, why)
	}
	// An interrupted case was cut short: judging its logs would only add
	// noise to the one reason that matters.
	if ctx.Err() == nil {
		problems = append(problems, commonProblems(logs)...)
		problems = append(problems, sc.extra(logs)...)
	}

	took := time.Since(c.start).Seconds()
	if len(problems) == 0 {
		verdict := fmt.Sprintf("e2e %s (%s): pass in %.1fs", sc.name(), sc.scenario, took)
		fmt.Println(verdict)
		return verdict
	}
	verdict := fmt.Sprintf("e2e %s (%s): FAIL in %.1fs: %s", sc.name(), sc.scenario, took, strings.Join(problems, "; "))
	fmt.Println(verdict)
	t.Errorf("%s failed; the peers' logs:\n%s", sc.name(), dump(logs))
	return verdict
}
