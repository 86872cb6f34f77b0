package sim_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
	"github.com/memberly/memberly/sim"
)

// viewIDDecidedTwice names the scenarios that stage a schedule which once
// made two peers install different members under one view id: they run
// for at least 300 seeds.
var viewIDDecidedTwice = map[string]bool{"cross-view-add": true, "cross-view-del": true, "restart-founder": true}

// TestScenarios_Seeds runs every scenario file for seeds 1 to 100 (300 for
// the schedules of viewIDDecidedTwice): none may violate safety or miss its
// expectation or liveness bound.
func TestScenarios_Seeds(t *testing.T) {
	all, err := scenarios.All()
	if err != nil {
		t.Fatal(err)
	}
	seeds := *scenarioSeeds
	if testing.Short() {
		seeds = min(seeds, 10)
	}
	for _, sc := range all {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			seeds := seeds
			if !testing.Short() && viewIDDecidedTwice[sc.Name] {
				seeds = max(seeds, 300)
			}
			failed := 0
			for seed := uint64(1); seed <= seeds; seed++ {
				r := sim.Run(sc, sim.Options{Seed: seed})
				if r.Verdict != sim.Pass {
					failed++
					if failed <= 3 {
						t.Errorf("seed %d: %s %s at %v: %s\nreplay: go run ./cmd/simulate -scenario %s -seed %d",
							seed, r.Verdict, r.Property, r.At, r.Detail, sc.Name, seed)
					}
				}
			}
			if failed > 3 {
				t.Errorf("%d of %d seeds failed", failed, seeds)
			}
		})
	}
}

// TestScenarios_ExploreFromIgnored runs every scenario that sets
// explore_from with and without it: the key is for a model checker, and
// the simulator must run such a scenario exactly as it runs any other.
func TestScenarios_ExploreFromIgnored(t *testing.T) {
	all, err := scenarios.All()
	if err != nil {
		t.Fatal(err)
	}
	explored := 0
	for _, sc := range all {
		if sc.ExploreFrom == 0 {
			continue
		}
		explored++
		plain := sc
		plain.ExploreFrom = 0
		for seed := uint64(1); seed <= 3; seed++ {
			var want, got strings.Builder
			sim.Run(plain, sim.Options{Seed: seed, Out: &want, Verbose: true})
			sim.Run(sc, sim.Options{Seed: seed, Out: &got, Verbose: true})
			if diff := cmp.Diff(want.String(), got.String()); diff != "" {
				t.Errorf("%s seed %d: explore_from changes the run (-without +with):\n%s", sc.Name, seed, diff)
			}
		}
	}
	if explored == 0 {
		t.Error("no embedded scenario sets explore_from")
	}
}

// TestKeepDown_RestCarryOn: the liveness phase of keep-down takes two
// peers down for good once the healed cluster settles, and the other
// three end in a view of exactly themselves.
func TestKeepDown_RestCarryOn(t *testing.T) {
	sc, err := scenarios.Load("keep-down")
	if err != nil {
		t.Fatal(err)
	}
	for seed := uint64(1); seed <= 20; seed++ {
		r := sim.Run(sc, sim.Options{Seed: seed})
		if r.Verdict != sim.Pass {
			t.Fatalf("seed %d: %s %s: %s", seed, r.Verdict, r.Property, r.Detail)
		}
		var down, live []protocol.PeerID
		for _, st := range r.Final {
			if st.Alive {
				live = append(live, st.ID)
			} else {
				down = append(down, st.ID)
			}
		}
		if len(down) != 2 {
			t.Fatalf("seed %d: down at the end: %v, want two peers", seed, down)
		}
		for _, st := range r.Final {
			if st.Alive && !slices.Equal(st.View.Members, live) {
				t.Errorf("seed %d: p%d holds %s, want the live peers %v", seed, st.ID, st.View, live)
			}
		}
	}
}

// TestSingleCrash_EverySurvivorLogsUnreachable replays the seed's case 2
// for 300 seeds: every survivor must log "peer 5 unreachable", as the
// seed's test expects, even when the leader's detector spoke first and its
// removal of 5 reached a survivor before that survivor's own detector did.
func TestSingleCrash_EverySurvivorLogsUnreachable(t *testing.T) {
	sc, err := scenarios.Load("single-crash")
	if err != nil {
		t.Fatal(err)
	}
	seeds := uint64(300)
	if testing.Short() {
		seeds = 30
	}
	want := protocol.UnreachableMessage(5, false)
	failed := 0
	for seed := uint64(1); seed <= seeds; seed++ {
		var out strings.Builder
		sim.Run(sc, sim.Options{Seed: seed, Out: &out})
		var silent []string
		for _, p := range []string{"p1", "p2", "p3", "p4"} {
			if !linePrinted(out.String(), p, want) {
				silent = append(silent, p)
			}
		}
		if len(silent) > 0 {
			if failed++; failed <= 3 {
				t.Errorf("seed %d: %v never logged %q\nreplay: go run ./cmd/simulate -scenario single-crash -seed %d", seed, silent, want, seed)
			}
		}
	}
	if failed > 3 {
		t.Errorf("%d of %d seeds failed", failed, seeds)
	}
}

// linePrinted reports whether peer p (as "p2") logged a line holding msg.
func linePrinted(out, p, msg string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, " "+p+" {") && strings.Contains(l, msg) {
			return true
		}
	}
	return false
}
