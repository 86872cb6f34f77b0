package check_test

import (
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/memberly/memberly/check"
	"github.com/memberly/memberly/protocol"
)

// parsed is a line as printed and the Line it reads back as.
type parsed struct {
	in   string
	want protocol.Line
}

// designLines are the five example lines of docs/design.md, section 9, as
// a peer prints them.
var designLines = []parsed{
	{`{peer_id:1, view_id: 1, leader: 1, memb_list: [1]}`, protocol.Line{Peer: 1, ViewID: 1, Leader: 1, Members: []protocol.PeerID{1}}},
	{`{peer_id:2, view_id: 3, leader: 1, message:"peer 5 unreachable"}`, protocol.Line{Peer: 2, ViewID: 3, Leader: 1, Message: "peer 5 unreachable"}},
	{`{peer_id:2, view_id: 3, leader: 1, message:"peer 1 (leader) unreachable"}`, protocol.Line{Peer: 2, ViewID: 3, Leader: 1, Message: "peer 1 (leader) unreachable"}},
	{`{peer_id:1, view_id: 5, leader: 1, message:"crashing"}`, protocol.Line{Peer: 1, ViewID: 5, Leader: 1, Message: protocol.MessageCrashing}},
	{`{peer_id:5, view_id: 6, leader: 2, message:"removed from view"}`, protocol.Line{Peer: 5, ViewID: 6, Leader: 2, Message: protocol.MessageRemoved}},
}

// The design's lines read back, and so do the same lines spaced as the
// seed or a person might.
func TestParseLine_DesignLinesAndSpacingVariants(t *testing.T) {
	wantView := protocol.Line{Peer: 3, ViewID: 7, Leader: 1, Members: []protocol.PeerID{1, 2, 3}}
	wantMsg := protocol.Line{Peer: 2, ViewID: 3, Leader: 1, Message: "peer 1 (leader) unreachable"}
	for _, tc := range append(slices.Clone(designLines), []parsed{
		{`{peer_id:3, view_id: 7, leader: 1, memb_list: [1,2,3]}`, wantView},
		{`{peer_id:3,view_id:7,leader:1,memb_list:[1,2,3]}`, wantView},
		{`{ peer_id: 3 , view_id:  7 ,  leader:   1 , memb_list:  [ 1 , 2 , 3 ] }`, wantView},
		{`{peer_id:3, view_id: 7, leader: 1, memb_list: [1, 2, 3]}`, wantView},
		{`{peer_id:3, view_id: 7, leader: 1, memb_list: [1, 2,3 ]}`, wantView},
		{"{\tpeer_id:\t3,\tview_id: 7, leader: 1, memb_list: [1,2,3]\t}", wantView},
		{"{peer_id:3, view_id: 7, leader: 1, memb_list: [1,2,3]}\n", wantView},
		{"{peer_id:3, view_id: 7, leader: 1, memb_list: [1,2,3]}\r\n", wantView},
		{"  {peer_id:3, view_id: 7, leader: 1, memb_list: [1,2,3]}  \r\n", wantView},
		{`{peer_id:003, view_id: 0007, leader: 01, memb_list: [001,2,3]}`, wantView},
		{`{peer_id:2, view_id: 3, leader: 1, message:"peer 1 (leader) unreachable"}`, wantMsg},
		{`{peer_id:2,view_id:3,leader:1,message:"peer 1 (leader) unreachable"}`, wantMsg},
		{`{ peer_id: 2 , view_id: 3 , leader: 1 , message: "peer 1 (leader) unreachable" }`, wantMsg},
		{"{peer_id:2, view_id: 3, leader: 1, message:\"peer 1 (leader) unreachable\"}\r\n", wantMsg},
	}...) {
		got, err := check.ParseLine(tc.in)
		if err != nil {
			t.Errorf("ParseLine(%q): %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseLine(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestParseLine_Rejects(t *testing.T) {
	for _, tc := range []struct {
		name, in, wantErr string
	}{
		{"empty", "", `logline: at byte 0: expected "{", found end of line`},
		{"blank", " \r\n", `logline: at byte 3: expected "{", found end of line`},
		{"missing open brace", `peer_id:1, view_id: 1, leader: 1, memb_list: [1]}`, `logline: at byte 0: expected "{", found 'p'`},
		{"missing close brace", `{peer_id:1, view_id: 1, leader: 1, memb_list: [1]`, `logline: at byte 49: expected "}", found end of line`},
		{"missing close brace after message", `{peer_id:1, view_id: 5, leader: 1, message:"crashing"`, `expected "}", found end of line`},
		{"keys out of order at start", `{view_id: 1, peer_id:1, leader: 1, memb_list: [1]}`, `logline: at byte 1: expected "peer_id"`},
		{"keys out of order", `{peer_id:1, leader: 1, view_id: 1, memb_list: [1]}`, `logline: at byte 12: expected "view_id"`},
		{"leader missing", `{peer_id:1, view_id: 1, memb_list: [1]}`, `logline: at byte 24: expected "leader", found 'm'`},
		{"unknown body key", `{peer_id:1, view_id: 1, leader: 1, members: [1]}`, `logline: at byte 35: expected "memb_list" or "message"`},
		{"body missing", `{peer_id:1, view_id: 1, leader: 1}`, `logline: at byte 33: expected ","`},
		{"both bodies", `{peer_id:1, view_id: 1, leader: 1, memb_list: [1], message:"x"}`, `logline: at byte 49: expected "}", found ','`},
		{"space before colon", `{peer_id :1, view_id: 1, leader: 1, memb_list: [1]}`, `logline: at byte 8: expected ":"`},
		{"missing comma", `{peer_id:1 view_id: 1, leader: 1, memb_list: [1]}`, `logline: at byte 11: expected ","`},
		{"key case", `{PEER_ID:1, view_id: 1, leader: 1, memb_list: [1]}`, `expected "peer_id"`},
		{"bad number", `{peer_id:x, view_id: 1, leader: 1, memb_list: [1]}`, `logline: at byte 9: expected unsigned decimal peer_id, found 'x'`},
		{"negative number", `{peer_id:1, view_id: -1, leader: 1, memb_list: [1]}`, `logline: at byte 21: expected unsigned decimal view_id, found '-'`},
		{"plus sign", `{peer_id:1, view_id: 1, leader: +1, memb_list: [1]}`, `expected unsigned decimal leader`},
		{"hex number", `{peer_id:1x1, view_id: 1, leader: 1, memb_list: [1]}`, `logline: at byte 10: expected ","`},
		{"peer zero", `{peer_id:0, view_id: 1, leader: 1, memb_list: [1]}`, `logline: at byte 9: peer_id 0 out of range (min 1)`},
		{"peer above MaxPeers", `{peer_id:1025, view_id: 1, leader: 1, memb_list: [1]}`, `peer_id 1025 out of range (max 1024)`},
		{"leader above MaxPeers", `{peer_id:1, view_id: 1, leader: 4294967296, memb_list: [1]}`, `leader 4294967296 out of range`},
		{"view id overflow", `{peer_id:1, view_id: 18446744073709551616, leader: 1, memb_list: [1]}`, `logline: at byte 21: view_id 18446744073709551616 out of range`},
		{"overlong number", `{peer_id:1, view_id: ` + strings.Repeat("9", 200) + `, leader: 1, memb_list: [1]}`, `view_id 999999999999999999999999... out of range`},
		{"member zero", `{peer_id:1, view_id: 1, leader: 1, memb_list: [0,1]}`, `logline: at byte 47: member id 0 out of range (min 1)`},
		{"member above MaxPeers", `{peer_id:1, view_id: 1, leader: 1, memb_list: [1,2000]}`, `member id 2000 out of range (max 1024)`},
		{"unsorted members", `{peer_id:1, view_id: 1, leader: 1, memb_list: [1,3,2]}`, `logline: at byte 51: member list not ascending: 2 after 3`},
		{"duplicate members", `{peer_id:1, view_id: 1, leader: 1, memb_list: [1,2,2]}`, `member list not ascending: 2 after 2`},
		{"empty list", `{peer_id:1, view_id: 1, leader: 1, memb_list: []}`, `logline: at byte 47: empty member list`},
		{"empty list with space", `{peer_id:1, view_id: 1, leader: 1, memb_list: [ ]}`, `empty member list`},
		{"trailing comma in list", `{peer_id:1, view_id: 1, leader: 1, memb_list: [1,]}`, `expected unsigned decimal member id, found ']'`},
		{"missing comma in list", `{peer_id:1, view_id: 1, leader: 1, memb_list: [1 2]}`, `logline: at byte 49: expected "," or "]", found '2'`},
		{"unterminated list", `{peer_id:1, view_id: 1, leader: 1, memb_list: [1,2`, `expected "," or "]", found end of line`},
		{"list without brackets", `{peer_id:1, view_id: 1, leader: 1, memb_list: 1}`, `expected "["`},
		{"unterminated string", `{peer_id:1, view_id: 5, leader: 1, message:"crashing}`, `logline: unterminated message string opened at byte 43`},
		{"unquoted message", `{peer_id:1, view_id: 5, leader: 1, message:crashing}`, `expected "\"", found 'c'`},
		{"empty message", `{peer_id:1, view_id: 5, leader: 1, message:""}`, `logline: at byte 43: empty message`},
		{"quote in message", `{peer_id:1, view_id: 5, leader: 1, message:"say "hi""}`, `expected "}", found 'h'`},
		{"backslash in message", `{peer_id:1, view_id: 5, leader: 1, message:"a\"b"}`, `logline: at byte 45: backslash in message`},
		{"tab in message", "{peer_id:1, view_id: 5, leader: 1, message:\"a\tb\"}", `control character '\t' in message`},
		{"newline in message", "{peer_id:1, view_id: 5, leader: 1, message:\"a\nb\"}", `control character '\n' in message`},
		{"C1 control in message", "{peer_id:1, view_id: 5, leader: 1, message:\"a\u0085b\"}", `control character '\u0085' in message`},
		{"invalid UTF-8 in message", "{peer_id:1, view_id: 5, leader: 1, message:\"a\xffb\"}", `invalid UTF-8 in message`},
		{"trailing garbage", `{peer_id:1, view_id: 1, leader: 1, memb_list: [1]} x`, `logline: at byte 51: trailing data after "}": 'x'`},
		{"two lines", "{peer_id:1, view_id: 1, leader: 1, memb_list: [1]}\n{peer_id:1, view_id: 1, leader: 1, memb_list: [1]}", `trailing data after "}": '{'`},
		{"double close brace", `{peer_id:1, view_id: 1, leader: 1, memb_list: [1]}}`, `trailing data after "}"`},
		{"prefix not stripped", `one_1  | {peer_id:1, view_id: 1, leader: 1, memb_list: [1]}`, `expected "{", found 'o'`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := check.ParseLine(tc.in)
			if err == nil {
				t.Fatalf("ParseLine(%q) = %v, want error containing %q", tc.in, got, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseLine(%q) error:\n got %s\nwant it to contain %s", tc.in, err, tc.wantErr)
			}
			if diff := cmp.Diff(protocol.Line{}, got); diff != "" {
				t.Errorf("ParseLine(%q) returned a Line with its error (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// genLine generates valid Lines: view lines with 1..20 sorted members, or
// message lines of each seed form and of arbitrary allowed text.
func genLine() *rapid.Generator[protocol.Line] {
	peer := rapid.Custom(func(t *rapid.T) protocol.PeerID {
		return protocol.PeerID(rapid.Uint32Range(1, protocol.MaxPeers).Draw(t, "peer"))
	})
	message := rapid.OneOf(
		rapid.Just(protocol.MessageCrashing),
		rapid.Just(protocol.MessageRemoved),
		rapid.Custom(func(t *rapid.T) string {
			return protocol.UnreachableMessage(peer.Draw(t, "subject"), rapid.Bool().Draw(t, "wasLeader"))
		}),
		rapid.StringOfN(rapid.Rune().Filter(func(r rune) bool {
			return r != '"' && r != '\\' && !unicode.IsControl(r)
		}), 1, 40, -1),
	)
	return rapid.Custom(func(t *rapid.T) protocol.Line {
		l := protocol.Line{
			Peer:   peer.Draw(t, "peer"),
			ViewID: protocol.ViewID(rapid.Uint64().Draw(t, "viewID")),
			Leader: protocol.PeerID(rapid.Uint32Range(0, protocol.MaxPeers).Draw(t, "leader")),
		}
		if rapid.Bool().Draw(t, "isView") {
			l.Members = rapid.SliceOfNDistinct(peer, 1, 20, rapid.ID[protocol.PeerID]).Draw(t, "members")
			slices.Sort(l.Members)
		} else {
			l.Message = message.Draw(t, "message")
		}
		return l
	})
}

// respace inserts random spaces and tabs at every place ParseLine allows
// them in s, a rendered line: around the line, after '{', ':' and '[',
// around ',', before ']' and '}', never inside the quoted message. It may
// also append a line ending.
func respace(t *rapid.T, s string) string {
	space := rapid.SampledFrom([]string{"", "", " ", "  ", "\t", " \t "})
	var sb strings.Builder
	sb.WriteString(space.Draw(t, "lead"))
	inQuote := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' {
			inQuote = !inQuote
		}
		if !inQuote && (c == ',' || c == ']' || c == '}') {
			sb.WriteString(space.Draw(t, "before"))
		}
		sb.WriteByte(c)
		if !inQuote && (c == '{' || c == ':' || c == ',' || c == '[') {
			sb.WriteString(space.Draw(t, "after"))
		}
	}
	sb.WriteString(space.Draw(t, "trail"))
	sb.WriteString(rapid.SampledFrom([]string{"", "\n", "\r\n"}).Draw(t, "eol"))
	return sb.String()
}

func TestParseLine_RoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		want := genLine().Draw(t, "line")
		s := want.String()
		got, err := check.ParseLine(s)
		if err != nil {
			t.Fatalf("ParseLine(%q): %v", s, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("ParseLine(%q) (-want +got):\n%s", s, diff)
		}

		spaced := respace(t, s)
		got, err = check.ParseLine(spaced)
		if err != nil {
			t.Fatalf("ParseLine(%q): %v", spaced, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("ParseLine(%q) (-want +got):\n%s", spaced, diff)
		}
	})
}

func FuzzParseLine(f *testing.F) {
	for _, tc := range designLines {
		f.Add(tc.in)
	}
	for _, s := range []string{
		"",
		"{}",
		`{ peer_id: 3 , view_id:  7 ,  leader:   1 , memb_list:  [ 1 , 2 , 3 ] }` + "\r\n",
		`{peer_id:1, view_id: 18446744073709551615, leader: 0, memb_list: [1,1024]}`,
		`{peer_id:1, view_id: 18446744073709551616, leader: 1, memb_list: [1]}`,
		`{peer_id:1, view_id: 1, leader: 1, memb_list: [1,3,2]}`,
		`{peer_id:1, view_id: 5, leader: 1, message:"crashing}`,
		`{peer_id:1, view_id: 5, leader: 1, message:"a\"b"}`,
		"{peer_id:1, view_id: 5, leader: 1, message:\"caf\u00e9 \xff\"}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := check.ParseLine(s)
		if err != nil {
			return
		}
		if l.IsView() == (l.Message != "") {
			t.Fatalf("ParseLine(%q) = %#v: want exactly one of Members and Message", s, l)
		}
		out := l.String()
		again, err := check.ParseLine(out)
		if err != nil {
			t.Fatalf("ParseLine(%q) = %#v, but its String %q does not parse: %v", s, l, out, err)
		}
		if diff := cmp.Diff(l, again); diff != "" {
			t.Fatalf("re-parsing %q (-want +got):\n%s", out, diff)
		}
		if out2 := again.String(); out2 != out {
			t.Fatalf("String not stable: %q then %q", out, out2)
		}
	})
}
