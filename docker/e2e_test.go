//go:build e2e

// The real run: the seed's four test cases (docs/design.md, section 10) on five peer
// containers, judged by the same expectations as the simulator's scenarios
// and by its safety checkers. Build the image first: make image.
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
	// extra lists what the case must show beyond the expectation.
	extra func(logs []peerLog) []string
}

var seedCases = []seedCase{
	{1, "join", func(logs []peerLog) []string {
		// One view per join: the founding view 1, then views 2..5.
		if v, _ := logs[0].latestView(); v.ViewID != 5 {
			return []string{fmt.Sprintf("p1 ends at view %d, not view 5", v.ViewID)}
		}
		return nil
	}},
	{2, "single-crash", func(logs []peerLog) []string {
		return append(mustPrint(logs, protocol.MessageCrashing, 5),
			mustPrint(logs, protocol.UnreachableMessage(5, false), 1, 2, 3, 4)...)
	}},
	{3, "multi-crash", func(logs []peerLog) []string {
		return mustPrint(logs, protocol.MessageCrashing, 2, 3, 4, 5)
	}},
	{4, "leader-crash-loss", func(logs []peerLog) []string {
		p := mustPrint(logs, protocol.MessageCrashing, 1)
		p = append(p, mustPrint(logs, protocol.UnreachableMessage(1, true), 2)...)
		return append(p, mustPrint(logs, protocol.MessageRemoved, 5)...)
	}},
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
		t.Run(fmt.Sprintf("case%d_%s", sc.n, sc.scenario), func(t *testing.T) {
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
	file := fmt.Sprintf("testcase-%d.yml", sc.n)
	c := startCluster(ctx, t, compose, file, fmt.Sprintf("memberly-case%d", sc.n))
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
		verdict := fmt.Sprintf("e2e case %d (%s): pass in %.1fs", sc.n, sc.scenario, took)
		fmt.Println(verdict)
		return verdict
	}
	verdict := fmt.Sprintf("e2e case %d (%s): FAIL in %.1fs: %s", sc.n, sc.scenario, took, strings.Join(problems, "; "))
	fmt.Println(verdict)
	t.Errorf("case %d failed; the peers' logs:\n%s", sc.n, dump(logs))
	return verdict
}
