package protocol_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
)

func mustTags(t *testing.T, pairs ...string) protocol.Tags {
	t.Helper()
	tags, err := protocol.ParseTags(pairs)
	if err != nil {
		t.Fatal(err)
	}
	return tags
}

func TestTags_ParseSortsAndRenders(t *testing.T) {
	tags := mustTags(t, "zone=eu-1", "role=db", "note=a, b = c")
	if diff := cmp.Diff("note=a, b = c,role=db,zone=eu-1", tags.String()); diff != "" {
		t.Errorf("String (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"zone": "eu-1", "role": "db", "note": "a, b = c"}, tags.Map()); diff != "" {
		t.Errorf("Map (-want +got):\n%s", diff)
	}
	if v, ok := tags.Get("role"); v != "db" || !ok {
		t.Errorf("Get(role) = %q, %v; want db, true", v, ok)
	}
	if _, ok := tags.Get("rack"); ok {
		t.Error("Get(rack) found a key never set")
	}
	same, err := protocol.NewTags(map[string]string{"role": "db", "zone": "eu-1", "note": "a, b = c"})
	if err != nil {
		t.Fatal(err)
	}
	if same != tags {
		t.Errorf("NewTags of the same pairs = %v, want == %v", same, tags)
	}
	if zero := mustTags(t); !zero.IsZero() || zero.Map() != nil || zero.String() != "" {
		t.Errorf("no pairs = %#v, want the zero Tags", zero)
	}
}

func TestTags_RefusesWhatCannotBeCarried(t *testing.T) {
	tests := []struct {
		name  string
		pairs []string
		want  string
	}{
		{"no =", []string{"role"}, `protocol: bad tags: "role" is not key=value`},
		{"key twice", []string{"role=db", "role=web"}, `protocol: bad tags: key "role" given twice`},
		{"empty key", []string{"=db"}, `protocol: bad tags: key "" must be 1 to 64 bytes`},
		{"long key", []string{strings.Repeat("k", 65) + "=v"}, `must be 1 to 64 bytes`},
		{"space in key", []string{"my role=db"}, `protocol: bad tags: key "my role": byte ' ' is not a letter, digit or one of ._-/`},
		{"newline in value", []string{"role=d\nb"}, `protocol: bad tags: value of "role" holds a control character`},
		{"not UTF-8", []string{"role=\xff"}, `protocol: bad tags: value of "role" is not UTF-8`},
		{"too large", []string{"a=" + strings.Repeat("v", protocol.MaxTagsSize)}, `protocol: bad tags: more than 512 bytes (at key "a")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := protocol.ParseTags(tt.pairs)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, protocol.ErrBadTags) {
				t.Errorf("ParseTags(%q) error = %v, want one containing %q matching ErrBadTags", tt.pairs, err, tt.want)
			}
		})
	}
	// The largest tags that fit: exactly MaxTagsSize bytes encoded.
	if _, err := protocol.ParseTags([]string{"a=" + strings.Repeat("v", protocol.MaxTagsSize-2)}); err != nil {
		t.Errorf("tags of exactly MaxTagsSize bytes refused: %v", err)
	}
}

func TestTags_JSON(t *testing.T) {
	tags := mustTags(t, "role=db", "zone=a")
	b, err := json.Marshal(struct{ Tags protocol.Tags }{tags})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(`{"Tags":{"role":"db","zone":"a"}}`, string(b)); diff != "" {
		t.Errorf("Marshal (-want +got):\n%s", diff)
	}
	var back struct{ Tags protocol.Tags }
	if err := json.Unmarshal(b, &back); err != nil || back.Tags != tags {
		t.Errorf("Unmarshal = %v, %v; want %v", back.Tags, err, tags)
	}
	if b, _ := json.Marshal(protocol.Tags{}); string(b) != "{}" {
		t.Errorf("the zero Tags marshals to %s, want {}", b)
	}
	if err := json.Unmarshal([]byte(`{"my role":"db"}`), &back.Tags); !errors.Is(err, protocol.ErrBadTags) {
		t.Errorf("Unmarshal of a bad key: %v, want ErrBadTags", err)
	}
}

// The next view keeps each member's tags, takes an added member's from
// its ADD, and drops a removed member's; a view without any has none.
func TestChange_NextCarriesTags(t *testing.T) {
	db, web := mustTags(t, "role=db"), mustTags(t, "role=web")
	v := protocol.View{ID: 4, Members: ids(1, 2, 3), Tags: []protocol.Tags{db, {}, web}}
	c := protocol.Change{Op: protocol.Op{Kind: protocol.OpDel, Peer: 3},
		More: []protocol.Op{{Kind: protocol.OpAdd, Peer: 5, Incarnation: 9, Tags: web}, {Kind: protocol.OpAdd, Peer: 4, Incarnation: 9}}}
	want := protocol.View{ID: 5, Members: ids(1, 2, 4, 5), Tags: []protocol.Tags{db, {}, {}, web}}
	if diff := cmp.Diff(want, c.Next(v)); diff != "" {
		t.Errorf("Next (-want +got):\n%s", diff)
	}
	// Removing the last member with tags leaves a view without any.
	untagged := protocol.Change{Op: protocol.Op{Kind: protocol.OpDel, Peer: 1}}.Next(protocol.View{ID: 5, Members: ids(1, 2), Tags: []protocol.Tags{db, {}}})
	if untagged.Tags != nil {
		t.Errorf("Next kept tags %v for a view none of whose members has any", untagged.Tags)
	}
	if v.TagsOf(3) != web || v.TagsOf(2) != (protocol.Tags{}) || v.TagsOf(9) != (protocol.Tags{}) {
		t.Errorf("TagsOf: 3=%v 2=%v 9=%v, want role=web, none, none", v.TagsOf(3), v.TagsOf(2), v.TagsOf(9))
	}
}

// A joiner's tags travel in its JOIN, the REQ and the NEWVIEW, and the
// view holds them at every member.
func TestLeader_JoinCarriesTags(t *testing.T) {
	h := leader(t, 3, 5)
	db := mustTags(t, "role=db")
	h.expect([]string{"REDIRECT 1->4 leader=1", "REQ 1->2 b=(0,1) v=3 ADD 4#1{role=db}", "REQ 1->3 b=(0,1) v=3 ADD 4#1{role=db}"},
		h.recv(protocol.Message{Type: protocol.MsgJoin, From: 4, Op: protocol.Op{Kind: protocol.OpAdd, Peer: 4, Incarnation: 1, Tags: db}}))
	h.expect([]string{
		"NEWVIEW 1->2 b=(0,1) v=4 [1,2,3,4] tags{4:role=db} by ADD 4#1{role=db} for #1",
		"NEWVIEW 1->3 b=(0,1) v=4 [1,2,3,4] tags{4:role=db} by ADD 4#1{role=db} for #1",
		"NEWVIEW 1->4 b=(0,1) v=4 [1,2,3,4] tags{4:role=db} by ADD 4#1{role=db} for #1",
	}, h.recv(protocol.Message{Type: protocol.MsgOK, From: 3, Ballot: b01, ViewID: 3}))
	if got := h.p.Status().MemberTags; !cmp.Equal([]protocol.Tags{{}, {}, {}, db}, got) {
		t.Errorf("leader's member tags = %v, want only 4's", got)
	}
	// A later change keeps them: 2 leaves, 4 keeps role=db.
	for _, q := range ids(2, 3, 4) {
		h.recv(protocol.Message{Type: protocol.MsgHeartbeat, From: q, Ballot: b01, ViewID: 4})
	}
	var sent []string
	for _, m := range []protocol.Message{
		{Type: protocol.MsgLeave, From: 2},
		{Type: protocol.MsgOK, From: 3, Ballot: b01, ViewID: 4},
		{Type: protocol.MsgOK, From: 4, Ballot: b01, ViewID: 4},
	} {
		for _, s := range h.recv(m) {
			if strings.HasPrefix(s, "NEWVIEW") {
				sent = append(sent, s)
			}
		}
	}
	h.expect([]string{
		"NEWVIEW 1->3 b=(0,1) v=5 [1,3,4] tags{4:role=db} by DEL 2 for #1",
		"NEWVIEW 1->4 b=(0,1) v=5 [1,3,4] tags{4:role=db} by DEL 2 for #1",
		"NEWVIEW 1->2 b=(0,1) v=5 [1,3,4] tags{4:role=db} by DEL 2",
	}, sent)
}

// A joining process carries its own tags, and installs the view's.
func TestJoiner_CarriesItsTagsAndInstallsTheViews(t *testing.T) {
	web, db := mustTags(t, "role=web"), mustTags(t, "role=db")
	h := newHarness(t, 4, 5, protocol.DefaultConfig())
	got := h.step(protocol.Event{Type: protocol.EventStart, Incarnation: 7, Tags: web})
	if diff := cmp.Diff([]string{"JOIN 4->1 ADD 4#7{role=web}"}, got); diff != "" {
		t.Errorf("first start (-want +got):\n%s", diff)
	}
	tags := []protocol.Tags{db, {}, {}, web}
	h.recv(protocol.Message{Type: protocol.MsgNewView, From: 1, Ballot: protocol.InitialBallot, ViewID: 6,
		Members: ids(1, 2, 3, 4), Tags: tags, Op: protocol.Op{Kind: protocol.OpAdd, Peer: 4, Incarnation: 7, Tags: web}})
	st := h.p.Status()
	if diff := cmp.Diff(tags, st.MemberTags); diff != "" {
		t.Errorf("installed tags (-want +got):\n%s", diff)
	}
	if st.Tags != web {
		t.Errorf("own tags = %v, want %v", st.Tags, web)
	}
	var shown []protocol.Tags
	for _, m := range h.p.Members() {
		shown = append(shown, m.Tags)
	}
	if diff := cmp.Diff(tags, shown); diff != "" {
		t.Errorf("Members() tags (-want +got):\n%s", diff)
	}
}

// A process whose ADD carried other tags is another process: a view
// naming its id and incarnation with other tags is not the one that
// added it.
func TestJoiner_RefusesAViewAddingItWithOtherTags(t *testing.T) {
	web := mustTags(t, "role=web")
	h := newHarness(t, 4, 5, protocol.DefaultConfig())
	h.step(protocol.Event{Type: protocol.EventStart, Incarnation: 7, Tags: web})
	h.recv(protocol.Message{Type: protocol.MsgNewView, From: 1, Ballot: protocol.InitialBallot, ViewID: 6,
		Members: ids(1, 4), Op: protocol.Op{Kind: protocol.OpAdd, Peer: 4, Incarnation: 7}})
	if v := h.p.View(); v.ID != 0 {
		t.Errorf("installed %s, added without its tags; want no view", v)
	}
}

// A new leader re-proposes the ADD its promisers accepted with the tags it
// was accepted with: the view its predecessor may have decided with them
// is decided again the same. Broken on purpose, the tags are lost.
func TestRecovery_KeepsTheAcceptedTags(t *testing.T) {
	for _, tt := range []struct {
		mutation protocol.Mutation
		want     []string
	}{
		{protocol.MutationNone, []string{"REQ 2->1 b=(1,2) v=5 ADD 6#3{role=db}", "REQ 2->3 b=(1,2) v=5 ADD 6#3{role=db}",
			"REQ 2->4 b=(1,2) v=5 ADD 6#3{role=db}", "REQ 2->5 b=(1,2) v=5 ADD 6#3{role=db}"}},
		{protocol.MutationUntaggedRecovery, []string{"REQ 2->1 b=(1,2) v=5 ADD 6#3", "REQ 2->3 b=(1,2) v=5 ADD 6#3",
			"REQ 2->4 b=(1,2) v=5 ADD 6#3", "REQ 2->5 b=(1,2) v=5 ADD 6#3"}},
	} {
		t.Run(tt.mutation.String(), func(t *testing.T) {
			cfg := protocol.DefaultConfig()
			cfg.Mutation = tt.mutation
			h := candidateIn(t, 6, 5, cfg)
			all := ids(1, 2, 3, 4, 5)
			added := protocol.Op{Kind: protocol.OpAdd, Peer: 6, Incarnation: 3, Tags: mustTags(t, "role=db")}
			h.expect(nil, h.recv(pending(3, b12, 5, all, added, b01)))
			h.expect(tt.want, h.recv(pending(4, b12, 5, all, protocol.Op{}, protocol.Ballot{})))
		})
	}
}
