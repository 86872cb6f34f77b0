package main

import (
	"encoding/json"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pkg/errors"

	"github.com/memberly/memberly/check"
	"github.com/memberly/memberly/protocol"
)

// writeRecorder keeps every Write separately, to check one write per line.
type writeRecorder struct {
	mu     sync.Mutex
	writes []string
}

func (w *writeRecorder) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

// seedNotes produce the example lines of docs/design.md, section 9, with notes the
// seed never logs in between.
var seedNotes = []protocol.Note{
	{Kind: protocol.NoteViewInstalled, Peer: 1, ViewID: 1, Leader: 1, Members: []protocol.PeerID{1}},
	{Kind: protocol.NoteLeader, Peer: 1, ViewID: 1, Leader: 1, Ballot: protocol.Ballot{Round: 0, Leader: 1}},
	{Kind: protocol.NoteSuspected, Peer: 2, ViewID: 3, Leader: 1, Subject: 5},
	{Kind: protocol.NoteSuspected, Peer: 2, ViewID: 3, Leader: 1, Subject: 1, SubjectWasLeader: true},
	{Kind: protocol.NoteSuspicionCleared, Peer: 2, ViewID: 3, Leader: 1, Subject: 1},
	{Kind: protocol.NoteCrashing, Peer: 1, ViewID: 5, Leader: 1},
	{Kind: protocol.NoteProposed, Peer: 2, ViewID: 5, Leader: 2, Op: protocol.Op{Kind: protocol.OpDel, Peer: 5}},
	{Kind: protocol.NoteRemoved, Peer: 5, ViewID: 6, Leader: 2},
	{Kind: protocol.NoteViewInstalled, Peer: 2, ViewID: 7, Leader: 2, Members: []protocol.PeerID{2, 3, 4}},
}

func TestTextNotes_SeedLines(t *testing.T) {
	var w writeRecorder
	write := noteWriter(logText, &w)
	for _, n := range seedNotes {
		write(n)
	}
	want := []string{
		"{peer_id:1, view_id: 1, leader: 1, memb_list: [1]}\n",
		"{peer_id:2, view_id: 3, leader: 1, message:\"peer 5 unreachable\"}\n",
		"{peer_id:2, view_id: 3, leader: 1, message:\"peer 1 (leader) unreachable\"}\n",
		"{peer_id:1, view_id: 5, leader: 1, message:\"crashing\"}\n",
		"{peer_id:5, view_id: 6, leader: 2, message:\"removed from view\"}\n",
		"{peer_id:2, view_id: 7, leader: 2, memb_list: [2,3,4]}\n",
	}
	if diff := cmp.Diff(want, w.writes); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
	lines, skipped := check.ParseLogText(strings.Join(w.writes, ""))
	if skipped != 0 || len(lines) != len(want) {
		t.Errorf("ParseLogText: %d lines, %d skipped; want %d, 0", len(lines), skipped, len(want))
	}
}

// jsonLine is what a JSON log line holds, besides slog's time and level.
type jsonLine struct {
	Msg      string            `json:"msg"`
	PeerID   protocol.PeerID   `json:"peer_id"`
	ViewID   protocol.ViewID   `json:"view_id"`
	Leader   protocol.PeerID   `json:"leader"`
	MembList []protocol.PeerID `json:"memb_list"`
	Message  string            `json:"message"`
}

func TestJSONNotes_Parse(t *testing.T) {
	var w writeRecorder
	write := noteWriter(logJSON, &w)
	for _, n := range seedNotes {
		write(n)
	}
	want := []jsonLine{
		{Msg: "view-installed", PeerID: 1, ViewID: 1, Leader: 1, MembList: []protocol.PeerID{1}},
		{Msg: "suspected", PeerID: 2, ViewID: 3, Leader: 1, Message: "peer 5 unreachable"},
		{Msg: "suspected", PeerID: 2, ViewID: 3, Leader: 1, Message: "peer 1 (leader) unreachable"},
		{Msg: "crashing", PeerID: 1, ViewID: 5, Leader: 1, Message: "crashing"},
		{Msg: "removed", PeerID: 5, ViewID: 6, Leader: 2, Message: "removed from view"},
		{Msg: "view-installed", PeerID: 2, ViewID: 7, Leader: 2, MembList: []protocol.PeerID{2, 3, 4}},
	}
	var got []jsonLine
	for i, s := range w.writes {
		if !strings.HasSuffix(s, "\n") || strings.Count(s, "\n") != 1 {
			t.Errorf("write %d is not one line: %q", i, s)
		}
		var l jsonLine
		if err := json.Unmarshal([]byte(s), &l); err != nil {
			t.Fatalf("write %d %q: %v", i, s, err)
		}
		var raw map[string]any
		_ = json.Unmarshal([]byte(s), &raw)
		for _, k := range []string{"time", "level", "msg", "peer_id", "view_id", "leader"} {
			if _, ok := raw[k]; !ok {
				t.Errorf("write %d %q: no %q", i, s, k)
			}
		}
		got = append(got, l)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON lines (-want +got):\n%s", diff)
	}
}

func TestDiagnostics_OnlyVerbose(t *testing.T) {
	var w writeRecorder
	if l := diagnostics(false, logText, &w); l != nil {
		t.Errorf("diagnostics without -v = %v, want nil (discard)", l)
	}
	l := diagnostics(true, logText, &w)
	l.Debug("dropped", "from", "127.0.0.9")
	if len(w.writes) != 1 || !strings.Contains(w.writes[0], "dropped") {
		t.Errorf("diagnostics with -v wrote %q, want one line with the message", w.writes)
	}
}

// overlapWriter records each Write, and counts the Writes that began while
// another was still under way: it is not safe for concurrent use, as a
// bare stderr is not either for whole lines, and notices when it is used
// so.
type overlapWriter struct {
	busy     atomic.Bool
	overlaps atomic.Int64
	writes   []string // safe to read once every writer is done
}

func (w *overlapWriter) Write(p []byte) (int, error) {
	if !w.busy.CompareAndSwap(false, true) {
		w.overlaps.Add(1)
		return len(p), nil
	}
	defer w.busy.Store(false)
	// Give the other writers every chance to come in meanwhile.
	runtime.Gosched()
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

func TestLockedWriter_ConcurrentLinesStayWhole(t *testing.T) {
	var w overlapWriter
	lw := &lockedWriter{w: &w}
	notes, diag := noteWriter(logText, lw), diagnostics(true, logText, lw)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				notes(seedNotes[0])
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				diag.Debug("dropped", "from", "127.0.0.9")
			}
		}()
	}
	wg.Wait()
	if n := w.overlaps.Load(); n != 0 {
		t.Errorf("%d writes overlapped another", n)
	}
	if len(w.writes) != 800 {
		t.Errorf("%d writes, want 800", len(w.writes))
	}
	for _, s := range w.writes {
		if s != "{peer_id:1, view_id: 1, leader: 1, memb_list: [1]}\n" && !strings.Contains(s, "msg=dropped") {
			t.Fatalf("write %q, want one whole line", s)
		}
	}
}

// durableNotes are a resumed and a forced-view note between seed lines.
var durableNotes = []protocol.Note{
	{Kind: protocol.NoteResumed, Peer: 2, ViewID: 5, Leader: 1, Members: []protocol.PeerID{1, 2, 3, 4, 5}, Ballot: protocol.Ballot{Round: 3, Leader: 1}},
	{Kind: protocol.NoteViewInstalled, Peer: 2, ViewID: 6, Leader: 1, Members: []protocol.PeerID{1, 2, 3, 4}},
	{Kind: protocol.NoteForcedView, Peer: 2, ViewID: 6, Leader: 2, Members: []protocol.PeerID{1, 2}, Ballot: protocol.Ballot{Round: 4, Leader: 2}},
	{Kind: protocol.NoteResumed, Peer: 3, ViewID: 0, Leader: 0, Ballot: protocol.InitialBallot},
}

// The notes of a durable peer are slog lines, as the diagnostics are, and
// the seed lines around them stay exactly the seed's.
func TestTextNotes_DurableNotes(t *testing.T) {
	var w writeRecorder
	write := noteWriter(logText, &w)
	for _, n := range durableNotes {
		write(n)
	}
	if len(w.writes) != 4 {
		t.Fatalf("writes %q, want 4", w.writes)
	}
	want := []string{
		` level=INFO msg=resumed peer_id=2 view_id=5 leader=1 members=[1,2,3,4,5] ballot=(3,1)` + "\n",
		"{peer_id:2, view_id: 6, leader: 1, memb_list: [1,2,3,4]}\n",
		` level=WARN msg=forced-view peer_id=2 view_id=6 leader=2 members=[1,2] ballot=(4,2)` + "\n",
		` level=INFO msg=resumed peer_id=3 view_id=0 leader=0 members=[] ballot=(0,1)` + "\n",
	}
	for i, s := range w.writes {
		got := s
		if i != 1 {
			// The time varies; the rest does not.
			time, rest, ok := strings.Cut(s, " ")
			if !ok || !strings.HasPrefix(time, "time=") {
				t.Errorf("write %d %q does not start with time=", i, s)
			}
			got = " " + rest
		}
		if got != want[i] {
			t.Errorf("write %d = %q, want %q", i, got, want[i])
		}
	}
	lines, skipped := check.ParseLogText(strings.Join(w.writes, ""))
	if len(lines) != 1 || skipped != 3 {
		t.Errorf("ParseLogText: %d seed lines, %d skipped; want 1 and 3: the notes must not read as seed lines", len(lines), skipped)
	}
}

func TestJSONNotes_DurableNotes(t *testing.T) {
	var w writeRecorder
	write := noteWriter(logJSON, &w)
	for _, n := range durableNotes {
		write(n)
	}
	type line struct {
		Level    string            `json:"level"`
		Msg      string            `json:"msg"`
		PeerID   protocol.PeerID   `json:"peer_id"`
		ViewID   protocol.ViewID   `json:"view_id"`
		Leader   protocol.PeerID   `json:"leader"`
		Members  []protocol.PeerID `json:"members"`
		MembList []protocol.PeerID `json:"memb_list"`
		Ballot   string            `json:"ballot"`
	}
	want := []line{
		{Level: "INFO", Msg: "resumed", PeerID: 2, ViewID: 5, Leader: 1, Members: []protocol.PeerID{1, 2, 3, 4, 5}, Ballot: "(3,1)"},
		{Level: "INFO", Msg: "view-installed", PeerID: 2, ViewID: 6, Leader: 1, MembList: []protocol.PeerID{1, 2, 3, 4}},
		{Level: "WARN", Msg: "forced-view", PeerID: 2, ViewID: 6, Leader: 2, Members: []protocol.PeerID{1, 2}, Ballot: "(4,2)"},
		{Level: "INFO", Msg: "resumed", PeerID: 3, Members: []protocol.PeerID{}, Ballot: "(0,1)"},
	}
	var got []line
	for i, s := range w.writes {
		var l line
		if err := json.Unmarshal([]byte(s), &l); err != nil || strings.Count(s, "\n") != 1 {
			t.Fatalf("write %d %q: %v, want one JSON line", i, s, err)
		}
		got = append(got, l)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JSON lines (-want +got):\n%s", diff)
	}
}

// An error from github.com/pkg/errors, which slog's text handler would
// write with its stack trace, is logged as its message on one line, by
// the diagnostics and the operator's log, as text and as JSON.
func TestLogs_ErrorsWithoutStackTrace(t *testing.T) {
	err := errors.Wrap(errors.New("connection reset\nby peer"), "dial peer 3")
	for _, format := range []string{logText, logJSON} {
		var w writeRecorder
		diagnostics(true, format, &w).Debug("dial failed", "err", err)
		operatorLog(format, &w).Error("cannot force a view", slog.Any("err", err))
		if len(w.writes) != 2 {
			t.Fatalf("%s: %d writes, want 2: %q", format, len(w.writes), w.writes)
		}
		for _, line := range w.writes {
			if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
				t.Errorf("%s: not one line: %q", format, line)
			}
			for _, bad := range []string{".go:", "goroutine", "github.com/", `\n`} {
				if strings.Contains(line, bad) {
					t.Errorf("%s: line holds %q: %s", format, bad, line)
				}
			}
			if !strings.Contains(line, "dial peer 3: connection reset; by peer") {
				t.Errorf("%s: line lost the error's message: %s", format, line)
			}
		}
	}
}
