package trace_test

import (
	"bytes"
	"testing"

	"github.com/memberly/memberly/scenarios"
	"github.com/memberly/memberly/sim"
	"github.com/memberly/memberly/sim/trace"
)

// A tagged run's tooltips show the tags a view holds and a message
// carries; an untagged run's mention none.
func TestWriteHTML_Tags(t *testing.T) {
	tooltips := func(name string) []string {
		sc, err := scenarios.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		res := sim.Run(sc, sim.Options{Seed: 1, Trace: true})
		var buf bytes.Buffer
		if err := trace.WriteHTML(&buf, name+" seed 1", sc.Peers, res.Trace); err != nil {
			t.Fatal(err)
		}
		return parsePage(t, buf.Bytes()).tooltips
	}
	tagged := tooltips("tags")
	for _, want := range [][]string{
		{"p1: {peer_id:1, view_id: 3,", "\ntags: {1:role=seed,zone=eu-west-1a;2:zone=eu-west-1b;3:port=5432,role=db,zone=eu-west-1a}"},
		{"JOIN 3->1 ADD 3#1{port=5432,role=db,zone=eu-west-1a}"},
		{"NEWVIEW 1->3 b=(0,1) v=3 [1,2,3] tags{1:role=seed,zone=eu-west-1a;2:zone=eu-west-1b;3:port=5432,role=db,zone=eu-west-1a} by ADD 3#1{port=5432,role=db,zone=eu-west-1a}"},
	} {
		if !containsWith(tagged, want...) {
			t.Errorf("no tooltip with %q", want)
		}
	}
	if containsWith(tooltips("join"), "tags") {
		t.Errorf("an untagged run's tooltips mention tags")
	}
}
