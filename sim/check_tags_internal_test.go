package sim

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

// A view must hold, for each member, the tags the scenario gives it:
// none for a peer it gives none, and no tags where it gives some.
func TestCheckTags_ViewsHoldWhatProcessesStartWith(t *testing.T) {
	tag := func(m map[string]string) protocol.Tags {
		tt, err := protocol.NewTags(m)
		if err != nil {
			t.Fatal(err)
		}
		return tt
	}
	a, b := tag(map[string]string{"zone": "a"}), tag(map[string]string{"role": "db"})
	w := &world{sc: scenarios.Scenario{Peers: 3, Tags: map[protocol.PeerID]protocol.Tags{1: a, 3: b}}}
	members := []protocol.PeerID{1, 2, 3}
	cases := []struct {
		name string
		tags []protocol.Tags
		want string
	}{
		{"as started", []protocol.Tags{a, {}, b}, ""},
		{"tags lost", []protocol.Tags{a, {}, {}}, "p2 installed view 4[1,2,3] holding no tags for p3, whose processes start with tags role=db"},
		{"no tags at all", nil, "p2 installed view 4[1,2,3] holding no tags for p1, whose processes start with tags zone=a"},
		{"tags of another", []protocol.Tags{a, b, b}, "p2 installed view 4[1,2,3] holding tags role=db for p2, whose processes start with no tags"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := w.checkTags(2, protocol.View{ID: 4, Members: members, Tags: c.tags})
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("checkTags (-want +got):\n%s", diff)
			}
		})
	}

	// Without tags in the scenario, a view without tags is all there is.
	plain := &world{sc: scenarios.Scenario{Peers: 3}}
	if diff := cmp.Diff("", plain.checkTags(1, protocol.View{ID: 4, Members: members})); diff != "" {
		t.Errorf("checkTags without tags (-want +got):\n%s", diff)
	}
}
