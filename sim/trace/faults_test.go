package trace_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/memberly/memberly/scenarios"
	"github.com/memberly/memberly/sim"
	"github.com/memberly/memberly/sim/trace"
)

// TestTraces_ShowTriggersAndPauses: a trigger going off, the messages a
// killed sender never sent, and a pause and its end show in both traces,
// at the peer they concern.
func TestTraces_ShowTriggersAndPauses(t *testing.T) {
	cases := []struct {
		scenario string
		want     []string
	}{
		{"kill-after-decision", []string{
			"fault at p1: trigger: NEWVIEW p1->p2 about to leave; now: kill [1]",
			"fault at p1: kill p1",
			"fault at p1: p1 ended before sending NEWVIEW p1->p2, NEWVIEW p1->p3, NEWVIEW p1->p4, NEWVIEW p1->p5",
			"network-wide fault: arm: kill [1], as the next NEWVIEW from p1 is about to leave",
		}},
		{"pause-leader", []string{"fault at p1: pause p1 until 21s", "fault at p1: resume p1: "}},
	}
	for _, c := range cases {
		t.Run(c.scenario, func(t *testing.T) {
			sc, err := scenarios.Load(c.scenario)
			if err != nil {
				t.Fatal(err)
			}
			res := sim.Run(sc, sim.Options{Seed: 1, Trace: true})
			var html, shiviz bytes.Buffer
			if err := trace.WriteHTML(&html, c.scenario, sc.Peers, res.Trace); err != nil {
				t.Fatal(err)
			}
			if err := trace.WriteShiViz(&shiviz, res.Trace); err != nil {
				t.Fatal(err)
			}
			p := parsePage(t, html.Bytes())
			for _, want := range c.want {
				if !containsWith(p.tooltips, want) {
					t.Errorf("no HTML tooltip with %q", want)
				}
				if at, fault, ok := strings.Cut(want, "fault at p1: "); ok && at == "" && !strings.Contains(shiviz.String(), "fault: "+fault) {
					t.Errorf("the ShiViz log lacks %q", "fault: "+fault)
				}
			}
		})
	}
}

// TestTraces_FaultKinds: every fault a run records has a kind, and each heal
// names a partition or cut that began before it, which is what the diagram's
// bands pair them by.
func TestTraces_FaultKinds(t *testing.T) {
	for _, name := range []string{"partition-heal", "leader-crash-loss"} {
		sc, err := scenarios.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		res := sim.Run(sc, sim.Options{Seed: 1, Trace: true})
		begun := make(map[int]bool)
		kinds := make(map[sim.FaultKind]int)
		for _, ev := range res.Trace {
			if ev.Kind != sim.TraceFault {
				continue
			}
			kinds[ev.Fault]++
			switch ev.Fault {
			case 0:
				t.Errorf("%s: fault %q has no kind", name, ev.Reason)
			case sim.FaultPartition, sim.FaultCut:
				begun[ev.Partition] = true
			case sim.FaultHeal:
				if !begun[ev.Partition] {
					t.Errorf("%s: %q heals partition %d, which did not begin", name, ev.Reason, ev.Partition)
				}
			}
		}
		if kinds[sim.FaultStart] == 0 {
			t.Errorf("%s: no start among the faults %v", name, kinds)
		}
		if name == "partition-heal" && kinds[sim.FaultHeal]+kinds[sim.FaultHealAll] == 0 {
			t.Errorf("%s: no heal among the faults %v", name, kinds)
		}
	}
}
