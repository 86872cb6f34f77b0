package protocol_test

import (
	"testing"

	"github.com/memberly/memberly/protocol"
)

// designNotes are the notes behind the five example lines of docs/design.md,
// section 9, with those lines byte for byte.
var designNotes = []struct {
	note protocol.Note
	want string
}{
	{
		protocol.Note{Kind: protocol.NoteViewInstalled, Peer: 1, ViewID: 1, Leader: 1, Members: []protocol.PeerID{1}},
		`{peer_id:1, view_id: 1, leader: 1, memb_list: [1]}`,
	},
	{
		protocol.Note{Kind: protocol.NoteSuspected, Peer: 2, ViewID: 3, Leader: 1, Subject: 5},
		`{peer_id:2, view_id: 3, leader: 1, message:"peer 5 unreachable"}`,
	},
	{
		protocol.Note{Kind: protocol.NoteSuspected, Peer: 2, ViewID: 3, Leader: 1, Subject: 1, SubjectWasLeader: true},
		`{peer_id:2, view_id: 3, leader: 1, message:"peer 1 (leader) unreachable"}`,
	},
	{
		protocol.Note{Kind: protocol.NoteCrashing, Peer: 1, ViewID: 5, Leader: 1},
		`{peer_id:1, view_id: 5, leader: 1, message:"crashing"}`,
	},
	{
		protocol.Note{Kind: protocol.NoteRemoved, Peer: 5, ViewID: 6, Leader: 2},
		`{peer_id:5, view_id: 6, leader: 2, message:"removed from view"}`,
	},
}

func TestLine_RenderExact(t *testing.T) {
	for _, tc := range designNotes {
		got, ok := protocol.FormatNote(tc.note)
		if !ok {
			t.Errorf("FormatNote(%v) = false, want a line", tc.note)
			continue
		}
		if got != tc.want {
			t.Errorf("FormatNote(%v):\n got %s\nwant %s", tc.note, got, tc.want)
		}
	}
}

func TestLine_IsView(t *testing.T) {
	view := protocol.Line{Peer: 1, ViewID: 1, Leader: 1, Members: []protocol.PeerID{1}}
	if !view.IsView() {
		t.Errorf("%v.IsView() = false, want true", view)
	}
	msg := protocol.Line{Peer: 1, ViewID: 5, Leader: 1, Message: protocol.MessageCrashing}
	if msg.IsView() {
		t.Errorf("%v.IsView() = true, want false", msg)
	}
}

func TestNoteLine_NoSeedLine(t *testing.T) {
	for _, n := range []protocol.Note{
		{Kind: protocol.NoteSuspicionCleared, Peer: 2, ViewID: 3, Leader: 1, Subject: 5},
		{Kind: protocol.NoteCandidate, Peer: 2, ViewID: 3, Leader: 1, Ballot: protocol.Ballot{Round: 1, Leader: 2}},
		{Kind: protocol.NoteLeader, Peer: 2, ViewID: 3, Leader: 2, Ballot: protocol.Ballot{Round: 1, Leader: 2}},
		{Kind: protocol.NoteSteppedDown, Peer: 2, ViewID: 3, Leader: 1, Ballot: protocol.Ballot{Round: 2, Leader: 3}},
		{Kind: protocol.NoteLeft, Peer: 4, ViewID: 7, Leader: 1},
		{Kind: protocol.NoteLeft, Peer: 4, ViewID: 7, Leader: 1, TimedOut: true},
		{Kind: protocol.NoteProposed, Peer: 1, ViewID: 3, Leader: 1, Op: protocol.Op{Kind: protocol.OpAdd, Peer: 4}},
		{Kind: 0, Peer: 1, ViewID: 1, Leader: 1},
		{Kind: 200, Peer: 1, ViewID: 1, Leader: 1},
	} {
		if l, ok := protocol.NoteLine(n); ok {
			t.Errorf("NoteLine(%v) = %v, true; want false", n, l)
		}
		if s, ok := protocol.FormatNote(n); ok || s != "" {
			t.Errorf("FormatNote(%v) = %q, %v; want \"\", false", n, s, ok)
		}
	}
}

func TestNoteLine_ViewWithoutMembers(t *testing.T) {
	// A view note without members is a bug upstream; it must still be logged
	// as a view line so that the bug is visible (check.ParseLine rejects it).
	n := protocol.Note{Kind: protocol.NoteViewInstalled, Peer: 1, ViewID: 2, Leader: 1}
	l, ok := protocol.NoteLine(n)
	if !ok || !l.IsView() {
		t.Fatalf("NoteLine(%v) = %v, %v; want a view line", n, l, ok)
	}
	const want = `{peer_id:1, view_id: 2, leader: 1, memb_list: []}`
	if got := l.String(); got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
}

func BenchmarkFormatNote(b *testing.B) {
	for _, bc := range []struct {
		name string
		note protocol.Note
	}{
		{"view", protocol.Note{Kind: protocol.NoteViewInstalled, Peer: 3, ViewID: 12, Leader: 1, Members: []protocol.PeerID{1, 2, 3, 4, 5}}},
		{"suspected", protocol.Note{Kind: protocol.NoteSuspected, Peer: 2, ViewID: 3, Leader: 1, Subject: 1, SubjectWasLeader: true}},
		{"skipped", protocol.Note{Kind: protocol.NoteLeader, Peer: 1, ViewID: 3, Leader: 1}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				protocol.FormatNote(bc.note)
			}
		})
	}
}
