package explore

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

// The checks judge each install as it is noted, against the path so far.
func TestEffects_JudgeInstalls(t *testing.T) {
	ids := func(p ...protocol.PeerID) []protocol.PeerID { return p }
	install := func(s *state, by protocol.PeerID, id protocol.ViewID, members []protocol.PeerID) {
		s.effectsOf(by).Note(protocol.Note{Kind: protocol.NoteViewInstalled, ViewID: id, Members: members})
	}
	fresh := func() *state {
		s := &state{target: &target{}, views: map[protocol.ViewID]protocol.View{1: {ID: 1, Members: ids(1)}, 2: {ID: 2, Members: ids(1, 2)}},
			joined: make([]bool, 4), reasons: make([]bool, 4), procs: make([]*proc, 4)}
		for id := range s.procs {
			s.procs[id] = &proc{lastView: 2}
		}
		return s
	}
	cases := []struct {
		name  string
		setup func(*state)
		by    protocol.PeerID
		id    protocol.ViewID
		view  []protocol.PeerID
		want  string
	}{
		{"S4 without itself", nil, 3, 3, ids(1, 2), "S4"},
		{"S1 not after the last", nil, 1, 2, ids(1, 2), "S1"},
		{"S3 two changes", func(s *state) { s.joined[3] = true; s.procs[3].lastView = 0 }, 3, 3, ids(3), "S3"},
		{"S5 added without JOIN", nil, 3, 3, ids(1, 2, 3), "S5"},
		{"S5 removed without reason", nil, 1, 3, ids(1), "S5"},
		{"valid add", func(s *state) { s.joined[3] = true }, 3, 3, ids(1, 2, 3), ""},
		{"valid removal", func(s *state) { s.reasons[2] = true }, 1, 3, ids(1), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := fresh()
			if c.setup != nil {
				c.setup(s)
			}
			install(s, c.by, c.id, c.view)
			got := ""
			if s.violation != nil {
				got = s.violation.property
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("property (-want +got):\n%s", diff)
			}
		})
	}
}

// S2 is judged across peers: a second install of one id with other
// members breaks it.
func TestEffects_JudgeAgreement(t *testing.T) {
	s := &state{target: &target{}, views: map[protocol.ViewID]protocol.View{}, joined: []bool{false, true, true, true},
		reasons: make([]bool, 4), procs: []*proc{nil, {}, {}, {}}}
	s.effectsOf(1).Note(protocol.Note{Kind: protocol.NoteViewInstalled, ViewID: 5, Members: []protocol.PeerID{1, 2}})
	s.effectsOf(3).Note(protocol.Note{Kind: protocol.NoteViewInstalled, ViewID: 5, Members: []protocol.PeerID{1, 3}})
	if s.violation == nil || s.violation.property != "S2" {
		t.Errorf("violation = %+v, want S2", s.violation)
	}
}

// S2 compares tags too: the same members under one id, one install
// holding a member's tags and the other not, break it, and the report
// shows both.
func TestEffects_JudgeAgreementOnTags(t *testing.T) {
	tags, err := protocol.NewTags(map[string]string{"zone": "a"})
	if err != nil {
		t.Fatal(err)
	}
	s := &state{target: &target{}, views: map[protocol.ViewID]protocol.View{}, joined: []bool{false, true, true, true},
		reasons: make([]bool, 4), procs: []*proc{nil, {}, {}, {}}}
	members := []protocol.PeerID{1, 2}
	s.effectsOf(1).Note(protocol.Note{Kind: protocol.NoteViewInstalled, ViewID: 5, Members: members, Tags: []protocol.Tags{{}, tags}})
	s.effectsOf(2).Note(protocol.Note{Kind: protocol.NoteViewInstalled, ViewID: 5, Members: members})
	want := &violation{"S2", "p2 installed view 5 as [1,2] with no tags, but it was installed as [1,2] with tags {2:zone=a}"}
	if diff := cmp.Diff(want, s.violation, cmp.AllowUnexported(violation{})); diff != "" {
		t.Errorf("violation (-want +got):\n%s", diff)
	}
}
