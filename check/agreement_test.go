package check_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/check"
	"github.com/memberly/memberly/protocol"
)

// tagsOf returns the tags holding the pairs of m, which must be valid.
func tagsOf(t *testing.T, m map[string]string) protocol.Tags {
	t.Helper()
	tags, err := protocol.NewTags(m)
	if err != nil {
		t.Fatal(err)
	}
	return tags
}

// installs returns the installs of views 1 to 3 of a cluster of three
// tagged peers, each by every member, followed by last.
func installs(t *testing.T, last ...check.Install) []check.Install {
	t.Helper()
	a, b := tagsOf(t, map[string]string{"zone": "a"}), tagsOf(t, map[string]string{"role": "db", "zone": "b"})
	views := []protocol.View{
		{ID: 1, Members: []protocol.PeerID{1}, Tags: []protocol.Tags{a}},
		{ID: 2, Members: []protocol.PeerID{1, 2}, Tags: []protocol.Tags{a, {}}},
		{ID: 3, Members: []protocol.PeerID{1, 2, 3}, Tags: []protocol.Tags{a, {}, b}},
	}
	var in []check.Install
	for _, v := range views {
		for _, p := range v.Members {
			in = append(in, check.Install{Peer: p, View: v})
		}
	}
	return append(in, last...)
}

func TestAgreement_SameTagsPass(t *testing.T) {
	got := installs(t)
	p, d := check.CheckInstalls(3, got)
	if diff := cmp.Diff(verdict{}, verdict{p, d}); diff != "" {
		t.Errorf("verdict (-want +got):\n%s", diff)
	}
}

// The same members with other tags under one view id is a disagreement:
// the report shows both sets of tags.
func TestAgreement_DifferentTagsFailS2(t *testing.T) {
	a := tagsOf(t, map[string]string{"zone": "a"})
	untagged := protocol.View{ID: 3, Members: []protocol.PeerID{1, 2, 3}, Tags: []protocol.Tags{a, {}, {}}}
	p, d := check.CheckInstalls(3, installs(t, check.Install{Peer: 3, Incarnation: 1, View: untagged}))
	want := verdict{"S2", "p3 installed view 3 as [1,2,3] with tags {1:zone=a}, " +
		"but p1 installed it as [1,2,3] with tags {1:zone=a;3:role=db,zone=b} at 0s"}
	if diff := cmp.Diff(want, verdict{p, d}); diff != "" {
		t.Errorf("verdict (-want +got):\n%s", diff)
	}
}

// A view that holds no tags at all against one that does.
func TestAgreement_NoTagsAgainstTagsFailS2(t *testing.T) {
	bare := protocol.View{ID: 3, Members: []protocol.PeerID{1, 2, 3}}
	p, d := check.CheckInstalls(3, installs(t, check.Install{Peer: 2, Incarnation: 1, View: bare}))
	want := verdict{"S2", "p2 installed view 3 as [1,2,3] with no tags, " +
		"but p1 installed it as [1,2,3] with tags {1:zone=a;3:role=db,zone=b} at 0s"}
	if diff := cmp.Diff(want, verdict{p, d}); diff != "" {
		t.Errorf("verdict (-want +got):\n%s", diff)
	}
}
