package main_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
	"github.com/memberly/memberly/sim"
)

// binary is the simulate command, built once for these tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "simulate-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "simulate")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		panic("building simulate: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// simulate runs the command and returns its output and exit status.
func simulate(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &exit):
		return out.String(), exit.ExitCode()
	}
	t.Fatalf("running simulate %v: %v", args, err)
	return "", 0
}

// withoutStats drops the one line that depends on the wall clock.
func withoutStats(s string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if !strings.HasPrefix(line, "stats: ") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

func TestSimulate_DeterministicAcrossRunsAndGOMAXPROCS(t *testing.T) {
	args := []string{"-scenario", "leader-crash-loss", "-seed", "7", "-v"}
	first, code := simulate(t, []string{"GOMAXPROCS=1"}, args...)
	if code != 0 || !strings.Contains(first, "verdict: pass") {
		t.Fatalf("exit %d, output:\n%s", code, first)
	}
	for _, env := range [][]string{{"GOMAXPROCS=1"}, {"GOMAXPROCS=2"}, {"GOMAXPROCS=2"}} {
		again, _ := simulate(t, env, args...)
		if diff := cmp.Diff(withoutStats(first), withoutStats(again)); diff != "" {
			t.Errorf("%v: output differs from the first run (-first +again):\n%s", env, diff)
		}
	}
	other, _ := simulate(t, nil, "-scenario", "leader-crash-loss", "-seed", "8", "-v")
	if withoutStats(other) == withoutStats(first) {
		t.Errorf("seeds 7 and 8 gave the same run: the seed is not used")
	}
}

func TestSimulate_PrintsOptionsLogLinesVerdictAndStats(t *testing.T) {
	out, code := simulate(t, nil, "-scenario", "leader-crash-loss", "-seed", "1")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{
		"scenario leader-crash-loss (scenarios/leader-crash-loss.yaml) seed 1",
		"replay:   simulate -scenario leader-crash-loss -seed 1",
		"timing:   heartbeat=1.1s suspect_after=2.2s",
		`p1 {peer_id:1, view_id: 5, leader: 1, message:"crashing"}`,
		`p5 {peer_id:5, view_id: 6, leader: 2, message:"removed from view"}`,
		"p2 {peer_id:2, view_id: 8, leader: 2, memb_list: [2,3,4,5]}",
		"verdict: pass",
		"stats: events=",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// A tagged run prints the peers' tags in its header, and each start with
// the tags it starts with, so that the header alone replays it; an
// untagged run prints neither.
func TestSimulate_PrintsTags(t *testing.T) {
	out, code := simulate(t, nil, "-scenario", "tags", "-seed", "1")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{
		"  tags:     p1 role=seed,zone=eu-west-1a; p2 zone=eu-west-1b; p3 port=5432,role=db,zone=eu-west-1a; p5 version=1.4.2,zone=eu-west-1c\n",
		"** start p3 (incarnation 1, tags port=5432,role=db,zone=eu-west-1a)",
		"** start p4 (incarnation 1)\n",
		"** restart p3 (incarnation 2, tags port=5432,role=db,zone=eu-west-1a)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _ = simulate(t, nil, "-scenario", "join", "-seed", "1")
	if strings.Contains(out, "tags") {
		t.Errorf("an untagged run mentions tags:\n%s", out)
	}
}

func TestSimulate_ExitCodes(t *testing.T) {
	caught := strconv.FormatUint(firstCaughtSeed(t), 10)
	dir := t.TempDir()
	impossible := filepath.Join(dir, "impossible.yaml")
	os.WriteFile(impossible, []byte("description: a join that is expected to end alone\npeers: 2\n"+
		"timeline:\n  - {at: 0s, start: [1, 2]}\nexpect:\n  view: [1]\n  within: 10s\n"), 0o644)
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"pass", []string{"-scenario", "join", "-seed", "3"}, 0, "verdict: pass"},
		{"safety violation", []string{"-swarm-seed", caught, "-mutation", "quorum-of-one"}, 1, "verdict: SAFETY VIOLATION S2"},
		{"liveness failure", []string{"-scenario", impossible}, 2, "verdict: LIVENESS FAILURE expect"},
		{"bad flag", []string{"-nope"}, 64, "flag provided but not defined: -nope"},
		{"nothing to run", nil, 64, "say what to run"},
		{"unknown scenario", []string{"-scenario", "nosuch"}, 64, "leader-crash-loss"},
		{"bad mutation", []string{"-scenario", "join", "-mutation", "chaos"}, 64, `-mutation "chaos"`},
		{"two modes", []string{"-scenario", "join", "-swarm"}, 64, "do not go together"},
		{"explore passes", []string{"-explore", "-scenario", "explore-three", "-max-states", "2000"}, 0, "explore: states=2000 "},
		{"explore catches", []string{"-explore", "-scenario", "explore-three", "-mutation", "quorum-of-one"}, 1, "verdict=SAFETY VIOLATION S2"},
		{"explore with delays catches", []string{"-explore", "-scenario", "explore-four", "-depth", "60", "-faults", "1", "-delays", "1", "-mutation", "skip-recovery"},
			1, "verdict=SAFETY VIOLATION S2"},
		{"tags lost in a recovery", []string{"-scenario", "tags-recovery", "-mutation", "untagged-recovery"}, 1,
			"verdict: SAFETY VIOLATION S2 at 12.326s: p2 installed view 5 as [1,2,3,4,5] with tags {1:zone=a;2:zone=b;3:zone=c;4:zone=a}, " +
				"but p1 installed it as [1,2,3,4,5] with tags {1:zone=a;2:zone=b;3:zone=c;4:zone=a;5:role=db,zone=b}"},
		{"explore catches lost tags", []string{"-explore", "-scenario", "explore-tags", "-depth", "60", "-faults", "1", "-delays", "1", "-mutation", "untagged-recovery"},
			1, "verdict=SAFETY VIOLATION S2"},
		{"explore bad delays", []string{"-explore", "-scenario", "explore-four", "-delays", "-1"}, 64, "-delays -1"},
		{"explore without explore_from", []string{"-explore", "-scenario", "join"}, 64, "explore_from"},
		{"explore without scenario", []string{"-explore", "-swarm"}, 64, "-explore needs -scenario"},
		{"explore bad depth", []string{"-explore", "-scenario", "explore-three", "-depth", "0"}, 64, "want depth 1 or more"},
		{"explore-out without explore", []string{"-scenario", "join", "-explore-out", "x.yaml"}, 64, "-explore-out goes with -explore"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, code := simulate(t, nil, c.args...)
			if code != c.code || !strings.Contains(out, c.want) {
				t.Errorf("simulate %v: exit %d (want %d), output lacks %q:\n%s", c.args, code, c.code, c.want, out)
			}
		})
	}
}

func TestSimulate_List(t *testing.T) {
	out, code := simulate(t, nil, "-list")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	names := scenarios.Names()
	if len(lines) != len(names) || !strings.HasPrefix(lines[0], names[0]+" ") {
		t.Errorf("-list printed %d lines, want the %d scenarios with descriptions:\n%s", len(lines), len(names), out)
	}
}

func TestSimulate_TraceFiles(t *testing.T) {
	dir := t.TempDir()
	html, shiviz := filepath.Join(dir, "run.html"), filepath.Join(dir, "run.log")
	out, code := simulate(t, nil, "-scenario", "leader-crash-loss", "-seed", "1", "-trace", html, "-shiviz", shiviz)
	if code != 0 || !strings.Contains(out, "trace: "+html) {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	page, err := os.ReadFile(html)
	if err != nil || !bytes.Contains(page, []byte("<svg")) || !bytes.Contains(page, []byte("[2,3,4,5]")) {
		t.Errorf("trace %s: err %v, %d bytes, want an SVG diagram showing view [2,3,4,5]", html, err, len(page))
	}
	if log, err := os.ReadFile(shiviz); err != nil || !bytes.Contains(log, []byte(`"p1"`)) {
		t.Errorf("shiviz log %s: err %v, want vector clocks naming p1:\n%.300s", shiviz, err, log)
	}
}

func TestSimulate_Swarm(t *testing.T) {
	out, code := simulate(t, nil, "-swarm", "-runs", "40", "-jobs", "2")
	if code != 0 || !strings.Contains(out, "swarm: 40 runs, 0 failed") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	seed := firstCaughtSeed(t)
	out, code = simulate(t, nil, "-swarm", "-runs", strconv.FormatUint(seed, 10), "-mutation", "quorum-of-one")
	if want := fmt.Sprintf("replay: simulate -swarm-seed %d -mutation quorum-of-one", seed); code != 1 || !strings.Contains(out, want) {
		t.Errorf("a broken protocol's swarm: exit %d, want 1 and a replay line for seed %d:\n%s", code, seed, out)
	}
}

// firstCaughtSeed is the first swarm seed whose scenario shows the
// quorum-of-one mutation as a safety violation: the command must report
// it as the library finds it, whatever scenarios the swarm draws.
func firstCaughtSeed(t *testing.T) uint64 {
	t.Helper()
	for seed := uint64(1); seed <= 100; seed++ {
		r := sim.Run(sim.RandomScenario(seed), sim.Options{Seed: seed, Mutation: protocol.MutationQuorumOfOne})
		if r.Verdict == sim.SafetyViolation {
			return seed
		}
	}
	t.Fatal("no swarm seed up to 100 catches quorum-of-one")
	return 0
}

// A counterexample written with -explore-out replays with -scenario to
// the same violation, under the same mutation only.
func TestSimulate_ExploreOutReplays(t *testing.T) {
	file := filepath.Join(t.TempDir(), "counterexample.yaml")
	out, code := simulate(t, nil, "-explore", "-scenario", "explore-three", "-mutation", "quorum-of-one", "-explore-out", file)
	if code != 1 || !strings.Contains(out, "counterexample: "+file) {
		t.Fatalf("explore: exit %d, want 1 and the counterexample written:\n%s", code, out)
	}
	_, violation, _ := strings.Cut(out, "violation S2: ")
	violation, _, _ = strings.Cut(violation, "\n")
	out, code = simulate(t, nil, "-scenario", file, "-seed", "1", "-mutation", "quorum-of-one")
	if code != 1 || !strings.Contains(out, "verdict: SAFETY VIOLATION S2: "+violation) {
		t.Errorf("replay: exit %d, want 1 and %q:\n%s", code, violation, out)
	}
	out, code = simulate(t, nil, "-scenario", file, "-seed", "1")
	if code != 0 || !strings.Contains(out, "verdict: pass") {
		t.Errorf("replay without the mutation: exit %d, want 0 and a pass:\n%s", code, out)
	}
}

// A counterexample of a tagged scenario keeps the peers' tags: without
// them the schedule would replay a run in which no tags can be lost.
func TestSimulate_ExploreOutKeepsTags(t *testing.T) {
	file := filepath.Join(t.TempDir(), "counterexample.yaml")
	out, code := simulate(t, nil, "-explore", "-scenario", "explore-tags", "-depth", "60", "-faults", "1", "-delays", "1",
		"-mutation", "untagged-recovery", "-explore-out", file)
	if code != 1 {
		t.Fatalf("explore: exit %d, want 1:\n%s", code, out)
	}
	written, err := scenarios.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	want, err := scenarios.Load("explore-tags")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.Tags, written.Tags); diff != "" {
		t.Errorf("the counterexample's tags (-scenario +written):\n%s", diff)
	}
	out, code = simulate(t, nil, "-scenario", file, "-seed", "1", "-mutation", "untagged-recovery")
	if code != 1 || !strings.Contains(out, "verdict: SAFETY VIOLATION S2: ") || !strings.Contains(out, "4:role=db,zone=a") {
		t.Errorf("replay: exit %d, want 1 and S2 over 4's tags:\n%s", code, out)
	}
}
