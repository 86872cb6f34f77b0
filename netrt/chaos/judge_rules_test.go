//go:build chaos

package chaos

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/memberly/memberly/check"
)

// These tests pin down how logs are read and judged; they need no root.

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// viewLine is peer's JSON view line at t0+ms.
func viewLine(peer int, ms int, view, leader int, members ...int) entry {
	ids := strings.Trim(strings.Join(strings.Fields(fmt.Sprint(members)), ","), "[]")
	text := fmt.Sprintf(`{"time":%q,"level":"INFO","msg":"view-installed","peer_id":%d,"view_id":%d,"leader":%d,"memb_list":[%s]}`,
		t0.Add(time.Duration(ms)*time.Millisecond).Format(time.RFC3339Nano), peer, view, leader, ids)
	return parseEntry(peer, text, time.Time{})
}

// messageLine is peer's JSON message line at t0+ms.
func messageLine(peer int, ms int, view, leader int, msg string) entry {
	text := fmt.Sprintf(`{"time":%q,"level":"INFO","msg":"note","peer_id":%d,"view_id":%d,"leader":%d,"message":%q}`,
		t0.Add(time.Duration(ms)*time.Millisecond).Format(time.RFC3339Nano), peer, view, leader, msg)
	return parseEntry(peer, text, time.Time{})
}

func TestParseEntry_JSONAndText(t *testing.T) {
	e := viewLine(2, 1500, 3, 1, 1, 2, 3)
	if !e.parsed || !e.line.IsView() || e.line.ViewID != 3 || len(e.line.Members) != 3 || !e.at.Equal(t0.Add(1500*time.Millisecond)) {
		t.Errorf("JSON view line: %+v", e)
	}
	readAt := t0.Add(time.Hour)
	e = parseEntry(2, `{peer_id:2, view_id: 3, leader: 1, message:"peer 5 unreachable"}`, readAt)
	if p, _, ok := check.Unreachable(e.line); !e.parsed || !ok || p != 5 || !e.at.Equal(readAt) {
		t.Errorf("text message line: %+v", e)
	}
	for _, bad := range []string{
		`{"time":"2025-01-01T00:00:00Z","peer_id":2,"view_id":3,"leader":1,"memb_list":[3,2]}`, // not ascending
		`{"time":"2025-01-01T00:00:00Z","peer_id":2,"view_id":3,"leader":1,"memb_list":[]}`,    // empty
		`{"time":"2025-01-01T00:00:00Z","peer_id":2,"view_id":3,"leader":1,"message":"a\"b"}`,  // a quote
		`{"time":"2025-01-01T00:00:00Z","peer_id":2,"view_id":3,"leader":1}`,                   // no body
		`{"time":"2025-01-01T00:00:00Z","peer_id":0,"view_id":3,"leader":1,"memb_list":[1]}`,   // peer 0
	} {
		e := parseEntry(2, bad, readAt)
		if e.parsed || !e.looksLikeNote() {
			t.Errorf("%s: parsed %v, looks like a note %v; want a garbled note", bad, e.parsed, e.looksLikeNote())
		}
	}
	if e := parseEntry(2, "peer: -h: a hosts file is required", readAt); e.parsed || e.looksLikeNote() {
		t.Errorf("an error line taken for a note: %+v", e)
	}
}

func TestAgreedAt_FromTheHeal(t *testing.T) {
	live := []int{1, 2, 3}
	formed := [][]entry{
		{viewLine(1, 0, 1, 1, 1), viewLine(1, 10, 2, 1, 1, 2), viewLine(1, 20, 3, 1, 1, 2, 3)},
		{viewLine(2, 11, 2, 1, 1, 2), viewLine(2, 21, 3, 1, 1, 2, 3)},
		{viewLine(3, 22, 3, 1, 1, 2, 3)},
	}
	if at, ok := agreedAt(merge(formed), live, t0); !ok || !at.Equal(t0.Add(22*time.Millisecond)) {
		t.Errorf("formed: agreed %v at %v, want at 22ms", ok, at.Sub(t0))
	}
	heal := t0.Add(time.Second)
	if at, ok := agreedAt(merge(formed), live, heal); !ok || !at.Equal(heal) {
		t.Errorf("agreeing at the heal: agreed %v at %v, want at the heal", ok, at.Sub(t0))
	}

	// Peer 3 is removed during the fault and added back 1.5 s after the
	// heal; its "removed from view" line ends its hold on view 3.
	removed := [][]entry{
		append(formed[0], viewLine(1, 500, 4, 1, 1, 2), viewLine(1, 2500, 5, 1, 1, 2, 3)),
		append(formed[1], viewLine(2, 501, 4, 1, 1, 2), viewLine(2, 2501, 5, 1, 1, 2, 3)),
		append(formed[2], messageLine(3, 900, 4, 1, "removed from view"), viewLine(3, 2502, 5, 1, 1, 2, 3)),
	}
	if at, ok := agreedAt(merge(removed), live, heal); !ok || !at.Equal(t0.Add(2502*time.Millisecond)) {
		t.Errorf("after a removal: agreed %v at %v, want at 2.502s", ok, at.Sub(t0))
	}
	if _, ok := agreedAt(merge(removed[:2]), live, heal); ok {
		t.Error("agreed without peer 3's lines")
	}
}

func TestFalseRemovals_CountsEachViewOnce(t *testing.T) {
	all := [][]entry{
		{viewLine(1, 0, 5, 1, 1, 2, 3), viewLine(1, 10, 6, 1, 1, 2), viewLine(1, 20, 7, 1, 1, 2, 3), viewLine(1, 30, 8, 1, 1, 3)},
		{viewLine(2, 0, 5, 1, 1, 2, 3), viewLine(2, 10, 6, 1, 1, 2), viewLine(2, 20, 7, 1, 1, 2, 3)},
	}
	got := falseRemovals(merge(all), nil)
	if fmt.Sprint(got) != "[view 6 removed peer 3 view 8 removed peer 2]" {
		t.Errorf("false removals: %v", got)
	}
	if got := falseRemovals(merge(all), map[int]bool{2: true}); len(got) != 1 || got[0].peer != 3 {
		t.Errorf("with peer 2 crashed: %v, want peer 3's removal only", got)
	}
}
