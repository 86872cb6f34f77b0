package sim_test

import (
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
	"github.com/memberly/memberly/sim"
)

const drawSeeds = 3000

// cutsOff reports whether a stops p and q from reaching each other, in
// either direction, or stops or ends q.
func cutsOff(a scenarios.Action, p, q protocol.PeerID) bool {
	switch a.Kind {
	case scenarios.ActIsolate:
		return a.Peer == p || a.Peer == q
	case scenarios.ActCut:
		return a.From == p && a.To == q || a.From == q && a.To == p
	case scenarios.ActSplit:
		side := map[protocol.PeerID]int{}
		for i, g := range a.Groups {
			for _, id := range g {
				side[id] = i + 1
			}
		}
		return side[p] != 0 && side[q] != 0 && side[p] != side[q]
	case scenarios.ActCrash, scenarios.ActKill, scenarios.ActLeave:
		return slices.Contains(a.Peers, q)
	case scenarios.ActPause:
		return a.Peer == q
	}
	return false
}

// TestRandomScenario_RestartedPeer1KeepsAPeerReachable: a crash-stop
// schedule that restarts peer 1 leaves it one other peer that no fault
// cuts off from it, stops or ends. (A durable peer 1 resumes from its
// state file and never founds again: it needs no such peer.)
func TestRandomScenario_RestartedPeer1KeepsAPeerReachable(t *testing.T) {
	restarts := 0
	for seed := uint64(1); seed <= drawSeeds; seed++ {
		sc := sim.RandomScenario(seed)
		if sc.Timing.Durable {
			continue
		}
		if !slices.ContainsFunc(sc.Timeline, func(a scenarios.Action) bool {
			return a.Kind == scenarios.ActRestart && slices.Contains(a.Peers, 1)
		}) {
			continue
		}
		restarts++
		reachable := false
		for q := protocol.PeerID(2); q <= protocol.PeerID(sc.Peers); q++ {
			if !slices.ContainsFunc(sc.Timeline, func(a scenarios.Action) bool { return cutsOff(a, 1, q) }) {
				reachable = true
			}
		}
		if !reachable {
			t.Errorf("seed %d restarts peer 1 with no peer it surely reaches:\n%s", seed, scenarios.Format(sc))
		}
	}
	// Restarts of peer 1 must be common, not a rarity.
	if restarts < drawSeeds/15 {
		t.Errorf("%d of %d scenarios restart peer 1, want at least a tenth", restarts, drawSeeds)
	}
}

// TestRandomScenario_LivenessKeepsToSurvivableFaults: with a liveness
// phase, every partition, cut and pause heals, pauses within 2 s, and no
// state file is damaged. Crash-stop crashes (triggered ones too) hit
// fewer than half of the peers and come without partitions or loss;
// durable peers come back as the same members, and a majority of them or
// all may crash, with any network.
func TestRandomScenario_LivenessKeepsToSurvivableFaults(t *testing.T) {
	for seed := uint64(1); seed <= drawSeeds; seed++ {
		sc := sim.RandomScenario(seed)
		if sc.Liveness == nil {
			continue
		}
		crashes, partitions := 0, 0
		for _, a := range sc.Timeline {
			switch a.Kind {
			case scenarios.ActCorrupt, scenarios.ActTear:
				t.Errorf("seed %d: %s in a liveness scenario", seed, a.Kind)
			case scenarios.ActCrash, scenarios.ActKill:
				crashes++
			case scenarios.ActIsolate, scenarios.ActSplit, scenarios.ActCut, scenarios.ActPause:
				partitions++
				if a.Until <= a.At {
					t.Errorf("seed %d: %s at %v never heals", seed, a.Kind, a.At)
				}
				if a.Kind == scenarios.ActPause && a.Until-a.At > 2*time.Second {
					t.Errorf("seed %d: a pause of %v, want 2s at most", seed, a.Until-a.At)
				}
			case scenarios.ActLeave, scenarios.ActHook, scenarios.ActChurn:
				t.Errorf("seed %d: %s in a liveness scenario", seed, a.Kind)
			}
		}
		if sc.Timing.Durable {
			continue
		}
		if crashes > (sc.Peers-1)/2 {
			t.Errorf("seed %d: %d crashes of %d peers", seed, crashes, sc.Peers)
		}
		if crashes > 0 && (partitions > 0 || sc.Network.LossPercent > 0) {
			t.Errorf("seed %d: crashes with partitions or loss:\n%s", seed, scenarios.Format(sc))
		}
	}
}

// TestRandomScenario_DrawsCorrelatedFaults: every kind of correlated
// fault shows up in the swarm.
func TestRandomScenario_DrawsCorrelatedFaults(t *testing.T) {
	kinds := map[string]func(scenarios.Action) bool{
		"link cut both ways": func(a scenarios.Action) bool {
			return a.Kind == scenarios.ActSplit && len(a.Groups) == 2 && len(a.Groups[0]) == 1 && len(a.Groups[1]) == 1
		},
		"cut after a REQ": func(a scenarios.Action) bool {
			return (a.Kind == scenarios.ActSplit || a.Kind == scenarios.ActCut) && a.After != nil && a.After.Type == protocol.MsgReq
		},
		"kill after a decision": func(a scenarios.Action) bool {
			return (a.Kind == scenarios.ActKill || a.Kind == scenarios.ActCrash) && a.After != nil &&
				a.After.Type == protocol.MsgNewView && a.After.From != 0 && a.Peers[0] == a.After.From
		},
		"link cut as a NEWVIEW leaves": func(a scenarios.Action) bool {
			return a.Kind == scenarios.ActSplit && a.After != nil && a.After.Type == protocol.MsgNewView && a.After.To != 0
		},
		"pause": func(a scenarios.Action) bool { return a.Kind == scenarios.ActPause && a.After == nil },
		"pause on a message": func(a scenarios.Action) bool {
			return a.Kind == scenarios.ActPause && a.After != nil && a.After.From == a.Peer
		},
		"NEWVIEW, OK or PENDING dropped between two peers": func(a scenarios.Action) bool {
			return a.Kind == scenarios.ActDrop && a.Drop.To != 0 &&
				slices.Contains([]protocol.MsgType{protocol.MsgNewView, protocol.MsgOK, protocol.MsgPending}, a.Drop.Type)
		},
	}
	seen := map[string]int{}
	for seed := uint64(1); seed <= drawSeeds; seed++ {
		for name, is := range kinds {
			if slices.ContainsFunc(sim.RandomScenario(seed).Timeline, is) {
				seen[name]++
			}
		}
	}
	for name := range kinds {
		if seen[name] < drawSeeds/50 {
			t.Errorf("%s in %d of %d scenarios, want at least one in 50", name, seen[name], drawSeeds)
		}
	}
}

// TestRandomScenario_DrawsDurableFaults: a third of the swarm's scenarios
// have durable peers, and every fault only they survive, or only they can
// get wrong, shows up among them.
func TestRandomScenario_DrawsDurableFaults(t *testing.T) {
	kinds := map[string]func(sc scenarios.Scenario) bool{
		"a majority killed or crashed at once": func(sc scenarios.Scenario) bool {
			at := map[time.Duration]int{}
			for _, a := range sc.Timeline {
				if (a.Kind == scenarios.ActKill || a.Kind == scenarios.ActCrash) && a.After == nil {
					at[a.At]++
				}
			}
			for _, n := range at {
				if n > sc.Peers/2 && n > 1 {
					return true
				}
			}
			return false
		},
		"a crash before an fsync": func(sc scenarios.Scenario) bool {
			return slices.ContainsFunc(sc.Timeline, func(a scenarios.Action) bool { return a.After != nil && a.After.BeforeSync })
		},
		"a damaged state file": func(sc scenarios.Scenario) bool {
			return slices.ContainsFunc(sc.Timeline, func(a scenarios.Action) bool {
				return a.Kind == scenarios.ActCorrupt || a.Kind == scenarios.ActTear
			})
		},
	}
	seen, durable := map[string]int{}, 0
	for seed := uint64(1); seed <= drawSeeds; seed++ {
		sc := sim.RandomScenario(seed)
		if !sc.Timing.Durable {
			continue
		}
		durable++
		for name, is := range kinds {
			if is(sc) {
				seen[name]++
			}
		}
	}
	if durable < drawSeeds/4 || durable > drawSeeds/2 {
		t.Errorf("%d of %d scenarios are durable, want about a third", durable, drawSeeds)
	}
	for name := range kinds {
		if seen[name] < drawSeeds/50 {
			t.Errorf("%s in %d of %d scenarios, want at least one in 50", name, seen[name], drawSeeds)
		}
	}
}

// TestRandomScenario_DrawsTags: about a third of the swarm's scenarios tag
// their peers, most of them but not always all, and a seed draws the same
// tags every time.
func TestRandomScenario_DrawsTags(t *testing.T) {
	tagged, mixed := 0, 0
	for seed := uint64(1); seed <= drawSeeds; seed++ {
		sc := sim.RandomScenario(seed)
		if sc.Tags == nil {
			continue
		}
		tagged++
		if len(sc.Tags) < sc.Peers {
			mixed++
		}
		for id, tags := range sc.Tags {
			if id < 1 || int(id) > sc.Peers || tags.IsZero() {
				t.Errorf("seed %d: tags %q for p%d of %d peers", seed, tags, id, sc.Peers)
			}
		}
		if again := sim.RandomScenario(seed); !maps.Equal(again.Tags, sc.Tags) {
			t.Errorf("seed %d draws tags %v, then %v", seed, sc.Tags, again.Tags)
		}
	}
	if tagged < drawSeeds/4 || tagged > drawSeeds/2 {
		t.Errorf("%d of %d scenarios have tags, want about a third", tagged, drawSeeds)
	}
	if mixed < tagged/4 {
		t.Errorf("%d of %d tagged scenarios have an untagged peer, want a fair share", mixed, tagged)
	}
}

// labelChooser draws from a seeded source, as the swarm does, and records
// the label of every choice.
type labelChooser struct {
	r      *rand.Rand
	labels []string
}

func (c *labelChooser) IntRange(lo, hi int, label string) int {
	c.labels = append(c.labels, label)
	return lo + c.r.IntN(hi-lo+1)
}

// TestDrawScenario_TagsDrawnLast: tags are the last choices a scenario is
// drawn with, so that adding them changed no other choice: every seed's
// schedule, and so every mutation's catches, is what it was before.
func TestDrawScenario_TagsDrawnLast(t *testing.T) {
	tagLabels := []string{"tags", "untaggedPeer", "tagCount", "tagKey", "tagValue"}
	for seed := uint64(1); seed <= 500; seed++ {
		c := &labelChooser{r: rand.New(rand.NewPCG(seed, 1))}
		sim.DrawScenario(c, seed%2 == 0)
		first := slices.Index(c.labels, "tags")
		if first < 0 {
			t.Fatalf("seed %d: no tags choice among %v", seed, c.labels)
		}
		for _, l := range c.labels[first:] {
			if !slices.Contains(tagLabels, l) {
				t.Fatalf("seed %d: choice %q after the tags: %v", seed, l, c.labels[first:])
			}
		}
		for _, l := range c.labels[:first] {
			if slices.Contains(tagLabels, l) {
				t.Fatalf("seed %d: tag choice %q before the tags", seed, l)
			}
		}
	}
}
