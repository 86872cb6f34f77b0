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
