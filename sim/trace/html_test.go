package trace_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
	"github.com/memberly/memberly/sim"
	"github.com/memberly/memberly/sim/trace"
)

// sampleTrace is a small hand-made run of three peers: p1 founds the
// cluster, p2 joins (JOIN, then NEWVIEW), p1's REQ to p3 is lost, p3
// crashes (with markup in the fault's text, to check escaping), p1 suspects
// it, p3 is isolated and healed, and a duplicated heartbeat's copy arrives
// before its original.
func sampleTrace() []sim.TraceEvent {
	ms := time.Millisecond
	add2 := protocol.Op{Kind: protocol.OpAdd, Peer: 2, Incarnation: 1}
	join := protocol.Message{Type: protocol.MsgJoin, From: 2, To: 1, Op: add2}
	req := protocol.Message{Type: protocol.MsgReq, From: 1, To: 3, Ballot: protocol.InitialBallot, ViewID: 1, Op: add2}
	newView := protocol.Message{Type: protocol.MsgNewView, From: 1, To: 2, Ballot: protocol.InitialBallot, ViewID: 2,
		Members: []protocol.PeerID{1, 2}, Op: add2}
	hb := protocol.Message{Type: protocol.MsgHeartbeat, From: 2, To: 1, Ballot: protocol.InitialBallot, ViewID: 2}
	view := func(p protocol.PeerID, id protocol.ViewID, members ...protocol.PeerID) protocol.Note {
		return protocol.Note{Kind: protocol.NoteViewInstalled, Peer: p, ViewID: id, Leader: 1, Members: members}
	}
	return []sim.TraceEvent{
		{Time: 0, Kind: sim.TraceFault, Peer: 1, Fault: sim.FaultStart, Reason: "start p1 (incarnation 1)"},
		{Time: 0, Kind: sim.TraceNote, Peer: 1, Note: view(1, 1, 1)},
		{Time: 2000 * ms, Kind: sim.TraceFault, Peer: 2, Fault: sim.FaultStart, Reason: "start p2 (incarnation 1)"},
		{Time: 2000 * ms, Kind: sim.TraceSend, Peer: 2, Msg: join, MsgID: 1},
		{Time: 2005 * ms, Kind: sim.TraceDeliver, Peer: 1, Msg: join, MsgID: 1},
		{Time: 2005 * ms, Kind: sim.TraceSend, Peer: 1, Msg: req, MsgID: 2},
		{Time: 2005 * ms, Kind: sim.TraceDrop, Peer: 3, Msg: req, MsgID: 2, Reason: "loss"},
		{Time: 2005 * ms, Kind: sim.TraceNote, Peer: 1, Note: view(1, 2, 1, 2)},
		{Time: 2005 * ms, Kind: sim.TraceSend, Peer: 1, Msg: newView, MsgID: 3},
		{Time: 2010 * ms, Kind: sim.TraceDeliver, Peer: 2, Msg: newView, MsgID: 3},
		{Time: 2010 * ms, Kind: sim.TraceNote, Peer: 2, Note: view(2, 2, 1, 2)},
		{Time: 3000 * ms, Kind: sim.TraceFault, Peer: 3, Fault: sim.FaultCrash, Reason: `crash p3 <boom> & "more"`},
		{Time: 3000 * ms, Kind: sim.TraceNote, Peer: 3, Note: protocol.Note{Kind: protocol.NoteCrashing, Peer: 3}},
		{Time: 3500 * ms, Kind: sim.TraceFault, Fault: sim.FaultPartition, Partition: 1, Reason: "isolate p3 until 5s"},
		{Time: 4000 * ms, Kind: sim.TraceNote, Peer: 1,
			Note: protocol.Note{Kind: protocol.NoteSuspected, Peer: 1, ViewID: 2, Leader: 1, Subject: 3}},
		{Time: 4500 * ms, Kind: sim.TraceSend, Peer: 2, Msg: hb, MsgID: 4},
		{Time: 4501 * ms, Kind: sim.TraceDeliver, Peer: 1, Msg: hb, MsgID: 5}, // the duplicate: no send of its own
		{Time: 4503 * ms, Kind: sim.TraceDeliver, Peer: 1, Msg: hb, MsgID: 4},
		{Time: 5000 * ms, Kind: sim.TraceFault, Fault: sim.FaultHeal, Partition: 1, Reason: "heal: isolate p3 until 5s"},
	}
}

// parsedPage is what a strict XML parse finds in WriteHTML's output.
type parsedPage struct {
	svgs     int
	texts    []string // content of every SVG <text>
	tooltips []string // content of every SVG <title>
	counts   string   // the header's counts paragraph
	heading  string
}

// parsePage parses page as XML, strictly: WriteHTML writes well-formed
// markup, so a stray '<' or '&' from unescaped text fails the parse.
func parsePage(t *testing.T, page []byte) parsedPage {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(page))
	dec.Strict = true
	var p parsedPage
	var stack []string
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("page is not well-formed: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			stack = append(stack, tok.Name.Local)
			text.Reset()
			if tok.Name.Local == "svg" {
				p.svgs++
			}
			if tok.Name.Local == "p" {
				for _, a := range tok.Attr {
					if a.Name.Local == "class" && a.Value == "counts" {
						stack[len(stack)-1] = "counts"
					}
				}
			}
		case xml.CharData:
			text.Write(tok)
		case xml.EndElement:
			inSVG := false
			for _, name := range stack {
				inSVG = inSVG || name == "svg"
			}
			switch name := stack[len(stack)-1]; {
			case name == "text" && inSVG:
				p.texts = append(p.texts, text.String())
			case name == "title" && inSVG:
				p.tooltips = append(p.tooltips, text.String())
			case name == "counts":
				p.counts = text.String()
			case name == "h1":
				p.heading = text.String()
			}
			stack = stack[:len(stack)-1]
			text.Reset()
		}
	}
	return p
}

func containsWith(list []string, parts ...string) bool {
	for _, s := range list {
		all := true
		for _, part := range parts {
			all = all && strings.Contains(s, part)
		}
		if all {
			return true
		}
	}
	return false
}

func TestWriteHTML_Sample(t *testing.T) {
	var buf bytes.Buffer
	title := `sample <&> seed 1`
	if err := trace.WriteHTML(&buf, title, 3, sampleTrace()); err != nil {
		t.Fatal(err)
	}
	page := buf.Bytes()
	p := parsePage(t, page)

	if got := bytes.Count(page, []byte("<svg")); got != 1 || p.svgs != 1 {
		t.Errorf("page has %d \"<svg\" (%d svg elements), want 1", got, p.svgs)
	}
	if p.heading != title {
		t.Errorf("heading = %q, want %q", p.heading, title)
	}
	for _, want := range []string{"3 peers", "4 messages delivered (2 heartbeats)", "1 dropped", "3 views installed (2 distinct)", "5 faults"} {
		if !strings.Contains(p.counts, want) {
			t.Errorf("counts %q lack %q", p.counts, want)
		}
	}
	for _, lane := range []string{"p1", "p2", "p3"} {
		if !slices.Contains(p.texts, lane) {
			t.Errorf("no lane label %q in %q", lane, p.texts)
		}
	}
	if slices.Contains(p.texts, "p4") {
		t.Errorf("lane p4 drawn for a 3-peer trace")
	}
	for _, want := range []string{"v1 [1]", "v2 [1,2]", "peer 3 unreachable", "crashing", `crash p3 <boom> & "more"`} {
		if !slices.Contains(p.texts, want) {
			t.Errorf("no label %q in %q", want, p.texts)
		}
	}
	drop := "REQ 1->3 b=(0,1) v=1 ADD 2#1"
	if !containsWith(p.tooltips, drop, "loss") {
		t.Errorf("no tooltip with the dropped %q and its reason in %q", drop, p.tooltips)
	}
	for _, want := range [][]string{
		{"JOIN 2->1 ADD 2#1", "sent 2.000s", "delivered 2.005s"},
		{"NEWVIEW 1->2 b=(0,1) v=2 [1,2] by ADD 2#1", "delivered 2.010s"},
		{"HEARTBEAT 2->1", "sent 4.500s", "delivered 4.501s"}, // the duplicate, paired with its original's send
		{"{peer_id:1, view_id: 2, leader: 1, memb_list: [1,2]}"},
		{`crash p3 <boom> & "more"`},
		{"isolate p3 until 5s", "3.500s to 5.000s"}, // the partition's band
	} {
		if !containsWith(p.tooltips, want...) {
			t.Errorf("no tooltip with %q in %q", want, p.tooltips)
		}
	}

	// Escaped: the raw markup never holds the fault's text as is.
	for _, raw := range []string{"<boom>", `& "more"`, "<&>"} {
		if bytes.Contains(page, []byte(raw)) {
			t.Errorf("page holds unescaped %q", raw)
		}
	}

	// Self-contained: the SVG namespace is the only URL, and nothing is
	// loaded.
	rest := bytes.Replace(page, []byte(`xmlns="http://www.w3.org/2000/svg"`), nil, 1)
	for _, ref := range []string{"http://", "https://", "//cdn", "src=", "href=", "@import", "<script", "<link"} {
		if bytes.Contains(rest, []byte(ref)) {
			t.Errorf("page holds %q: it must not refer to anything outside itself", ref)
		}
	}
}

// TestWriteHTML_Empty: an empty trace still makes a valid page.
func TestWriteHTML_Empty(t *testing.T) {
	var buf bytes.Buffer
	if err := trace.WriteHTML(&buf, "empty", 2, nil); err != nil {
		t.Fatal(err)
	}
	p := parsePage(t, buf.Bytes())
	if diff := cmp.Diff([]string{"p1", "p1", "p2", "p2"}, laneLabels(p.texts)); diff != "" {
		t.Errorf("lane labels (-want +got):\n%s", diff)
	}
}

func laneLabels(texts []string) []string {
	var lanes []string
	for _, s := range texts {
		if len(s) >= 2 && s[0] == 'p' && strings.Trim(s[1:], "0123456789") == "" {
			lanes = append(lanes, s)
		}
	}
	return lanes
}

// TestWriteHTML_RealRun draws a real run with a minute of lossy heartbeats
// among five peers: the page must stay well-formed and small, and scale its
// width into the bounds.
func TestWriteHTML_RealRun(t *testing.T) {
	sc, err := scenarios.Load("lossy-heartbeats")
	if err != nil {
		t.Fatal(err)
	}
	res := sim.Run(sc, sim.Options{Seed: 1, Trace: true})
	if len(res.Trace) == 0 {
		t.Fatal("no trace recorded")
	}
	var buf bytes.Buffer
	if err := trace.WriteHTML(&buf, "lossy-heartbeats seed 1", sc.Peers, res.Trace); err != nil {
		t.Fatal(err)
	}
	p := parsePage(t, buf.Bytes())
	if p.svgs != 1 {
		t.Errorf("%d svg elements, want 1", p.svgs)
	}
	const maxSize = 4 << 20
	if buf.Len() > maxSize {
		t.Errorf("page is %d bytes for %d trace events, want at most %d", buf.Len(), len(res.Trace), maxSize)
	}
	t.Logf("%d trace events, %d messages delivered, %d dropped: %d bytes of HTML",
		len(res.Trace), res.Delivered, res.Dropped, buf.Len())
}

// TestWriteHTML_ManyHeartbeats: five peers heartbeating each other every
// 100 ms for 60 s (12,000 heartbeats, ten times the seed's rate), with a
// protocol exchange every second, must stay a few MB and at most ~6000 px
// of plot wide.
func TestWriteHTML_ManyHeartbeats(t *testing.T) {
	const peers = 5
	var events []sim.TraceEvent
	var id uint64
	send := func(at, latency time.Duration, m protocol.Message) {
		id++
		events = append(events,
			sim.TraceEvent{Time: at, Kind: sim.TraceSend, Peer: m.From, Msg: m, MsgID: id},
			sim.TraceEvent{Time: at + latency, Kind: sim.TraceDeliver, Peer: m.To, Msg: m, MsgID: id})
	}
	for at := time.Duration(0); at < 60*time.Second; at += 100 * time.Millisecond {
		for from := protocol.PeerID(1); from <= peers; from++ {
			for to := protocol.PeerID(1); to <= peers; to++ {
				if to != from {
					send(at+time.Duration(from)*time.Millisecond, 2*time.Millisecond,
						protocol.Message{Type: protocol.MsgHeartbeat, From: from, To: to, Ballot: protocol.InitialBallot, ViewID: 5})
				}
			}
		}
		if at%time.Second == 0 {
			send(at+50*time.Millisecond, time.Millisecond, protocol.Message{Type: protocol.MsgReq, From: 1, To: 2, ViewID: 5})
			send(at+51*time.Millisecond, time.Millisecond, protocol.Message{Type: protocol.MsgOK, From: 2, To: 1, ViewID: 5})
		}
	}
	var buf bytes.Buffer
	if err := trace.WriteHTML(&buf, "many heartbeats", peers, events); err != nil {
		t.Fatal(err)
	}
	if limit := 4 << 20; buf.Len() > limit {
		t.Errorf("page is %d bytes for %d events, want at most %d", buf.Len(), len(events), limit)
	}
	p := parsePage(t, buf.Bytes())
	if p.svgs != 1 {
		t.Fatalf("%d svg elements, want 1", p.svgs)
	}
	// The svg element's width: the plot plus the margins for labels.
	_, rest, _ := bytes.Cut(buf.Bytes(), []byte(`<svg `))
	_, rest, _ = bytes.Cut(rest, []byte(`width="`))
	width, _, _ := bytes.Cut(rest, []byte(`"`))
	if w, err := strconv.ParseFloat(string(width), 64); err != nil || w < 1200 || w > 6500 {
		t.Errorf("svg width %q, want a plot of 1200 to 6000 px plus margins", width)
	}
	t.Logf("%d events: %d bytes, svg width %s", len(events), buf.Len(), width)
}

// failingWriter fails every write.
type failingWriter struct{}

var errWrite = io.ErrShortWrite

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestWriteHTML_WriteError(t *testing.T) {
	if err := trace.WriteHTML(failingWriter{}, "x", 3, sampleTrace()); err != errWrite {
		t.Errorf("WriteHTML to a failing writer = %v, want %v", err, errWrite)
	}
}
