package trace

import (
	"bufio"
	"bytes"
	"embed"
	"html"
	"io"
	"text/template"
	"time"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/sim"
)

// This file renders a run's trace as a space-time diagram: one
// self-contained HTML page with inline CSS and one inline SVG, and no
// script at all. Tooltips are SVG <title> elements and the heartbeat switch
// is a CSS sibling selector, so the page works offline, from a file, in any
// browser, and cannot fetch anything. The page is also well-formed XML
// (every element closed, every attribute quoted, no '<' or '&' in the CSS),
// which keeps it easy to check mechanically. The page around the diagram is
// page.html.tmpl with style.css; the SVG is drawn in Go (svg.go), as it is
// most of the page and mostly numbers.

// Layout of the diagram, in SVG user units (pixels at zoom 100%).
const (
	htmlLeft  = 64.0  // left of time 0: room for the lane labels
	htmlRight = 260.0 // right of the last instant: room for its labels
	htmlTop   = 64.0  // above lane 1: the time axis and network-wide faults
	htmlLane  = 100.0 // from one lane to the next: 3 label rows above a lane, 4 below
	htmlFoot  = 24.0  // below the last lane

	// The time scale aims for htmlPxPerSec, with at least htmlMinStep
	// between two instants at which something other than a heartbeat
	// happens (see htmlScale), then is scaled as a whole so that the plot is
	// never narrower than htmlMinPlot (a short run would otherwise be a
	// smudge) nor wider than htmlMaxPlot (a long run would be unscrollable
	// and heavy).
	htmlPxPerSec = 200.0
	htmlMinStep  = 12.0
	htmlMinPlot  = 1200.0
	htmlMaxPlot  = 6000.0
	htmlMinTick  = 80.0 // minimum pixels between time-axis ticks

	// Labels are 11px monospace, so their width can be estimated without a
	// browser: that is what lets labels be stacked in rows without overlap.
	htmlCharW    = 6.7
	htmlLabelGap = 6.0
	htmlMaxLabel = 48 // runes; the tooltip always has the full text
	// Rows of labels: view labels above a lane, the other labels below it,
	// network-wide faults above lane 1. They fit in htmlLane and htmlTop.
	htmlRowsAbove = 3
	htmlRowsBelow = 4
	htmlRowsWorld = 3

	// A dropped message's dashed arrow ends this far from the sender's lane
	// towards the receiver's: short of the receiver, so that a drop is never
	// mistaken for a delivery, and long enough to show which way it went.
	htmlDropReach = 0.7
)

// htmlMsgColors gives each message type its colour; the zero entry is for
// unknown types. Heartbeats are light grey: there are many and they are
// rarely the point.
var htmlMsgColors = [...]string{
	0:                     "#000000",
	protocol.MsgHeartbeat: "#b0b0b0",
	protocol.MsgJoin:      "#1f77b4",
	protocol.MsgRedirect:  "#17becf",
	protocol.MsgReq:       "#ff7f0e",
	protocol.MsgOK:        "#2ca02c",
	protocol.MsgNack:      "#8c564b",
	protocol.MsgNewView:   "#9467bd",
	protocol.MsgNewLeader: "#e377c2",
	protocol.MsgPending:   "#bcbd22",
	protocol.MsgNotMember: "#7f7f7f",
	protocol.MsgLeave:     "#393b79",
}

// htmlTypeIndex maps a message type to its index in htmlMsgColors.
func htmlTypeIndex(t protocol.MsgType) int {
	if t.Valid() && int(t) < len(htmlMsgColors) {
		return int(t)
	}
	return 0
}

// WriteHTML writes trace as one self-contained HTML page showing a
// space-time diagram of the run: one horizontal lane per peer (p1..pN, N
// being the larger of peers and the highest peer in the trace), virtual time
// from left to right, an arrow from sender to receiver for every delivered
// message coloured by type, a dashed arrow ending in a red × for every
// dropped one, markers for faults, view installs and the other notes, and a
// tooltip with the full text on each. Heartbeats are thin grey lines that a
// checkbox hides. title heads the page (e.g. "leader-crash-loss seed 1").
//
// The page loads nothing: no script, font, image or stylesheet from
// anywhere. The only error returned is w's.
func WriteHTML(w io.Writer, title string, peers int, trace []sim.TraceEvent) error {
	d := newHTMLDiagram(title, peers, trace)
	d.svg()
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := pageTemplate.Execute(bw, d.pageData()); err != nil {
		return err
	}
	return bw.Flush()
}

// htmlDiagram is one WriteHTML in progress.
type htmlDiagram struct {
	out   bytes.Buffer // the SVG, drawn before the page is written
	num   []byte       // scratch for numbers
	title string
	trace []sim.TraceEvent
	sends map[uint64]int
	ended map[uint64]bool // ids of messages delivered or dropped

	lanes  int
	span   time.Duration // the time axis runs from 0 to span
	scale  htmlScale
	tick   time.Duration
	width  float64
	height float64

	// What the header and legend count.
	delivered, dropped, heartbeats, installs, faults int
	views                                            map[protocol.ViewID]bool
	perType                                          [len(htmlMsgColors)]int  // sends
	present                                          [len(htmlMsgColors)]bool // in any message event
	last                                             time.Duration            // the last event's time
}

func newHTMLDiagram(title string, peers int, trace []sim.TraceEvent) *htmlDiagram {
	d := &htmlDiagram{title: title, trace: trace, sends: indexSends(trace),
		ended: make(map[uint64]bool), views: make(map[protocol.ViewID]bool)}
	d.lanes = max(peers, 0)
	for _, ev := range trace {
		d.last = max(d.last, ev.Time)
		if int(ev.Peer) > d.lanes && ev.Peer <= protocol.MaxPeers {
			d.lanes = int(ev.Peer)
		}
		switch ev.Kind {
		case sim.TraceSend, sim.TraceDeliver, sim.TraceDrop:
			d.present[htmlTypeIndex(ev.Msg.Type)] = true
		}
		switch ev.Kind {
		case sim.TraceSend:
			d.perType[htmlTypeIndex(ev.Msg.Type)]++
		case sim.TraceDeliver:
			d.ended[ev.MsgID] = true
			d.delivered++
			if ev.Msg.Type == protocol.MsgHeartbeat {
				d.heartbeats++
			}
		case sim.TraceDrop:
			d.ended[ev.MsgID] = true
			d.dropped++
		case sim.TraceNote:
			if ev.Note.Kind == protocol.NoteViewInstalled {
				d.installs++
				d.views[ev.Note.ViewID] = true
			}
		case sim.TraceFault:
			d.faults++
		}
	}
	d.lanes = max(d.lanes, 1)

	d.span = max(d.last, time.Second)
	d.scale = newHTMLScale(trace, d.span)
	d.tick = htmlTickFor(d.scale.pxPerSec)
	d.width = htmlLeft + d.scale.at(d.span) + htmlRight
	d.height = htmlTop + float64(d.lanes)*htmlLane + htmlFoot
	return d
}

//go:embed page.html.tmpl style.css
var pageFiles embed.FS

// pageTemplate is the page around the diagram. Its escape is
// html.EscapeString, which the SVG's text goes through too.
var pageTemplate = template.Must(template.New("page.html.tmpl").
	Funcs(template.FuncMap{"escape": html.EscapeString}).
	ParseFS(pageFiles, "page.html.tmpl", "style.css"))

// pageData is what page.html.tmpl shows.
type pageData struct {
	Title string
	// Types has an entry per message type, for its CSS rules; Legend has
	// those that occur in the trace.
	Types, Legend []pageMsgType

	Lanes                                                            int
	Last                                                             string // the last event's time
	Delivered, HeartbeatsDelivered, Dropped, Installs, Views, Faults int
	HeartbeatsSent                                                   int

	SVG string
}

// pageMsgType is one message type as the page's CSS and legend show it.
type pageMsgType struct {
	Index     int // in htmlMsgColors
	Name      string
	Colour    string
	Sent      int
	Heartbeat bool // drawn by the .hb rules, without an arrowhead
}

func (d *htmlDiagram) pageData() pageData {
	p := pageData{Title: d.title, Lanes: d.lanes, Last: secs(d.last),
		Delivered: d.delivered, HeartbeatsDelivered: d.heartbeats, Dropped: d.dropped,
		Installs: d.installs, Views: len(d.views), Faults: d.faults,
		HeartbeatsSent: d.perType[protocol.MsgHeartbeat], SVG: d.out.String()}
	for t, c := range htmlMsgColors {
		mt := pageMsgType{Index: t, Name: "unknown type", Colour: c, Sent: d.perType[t],
			Heartbeat: t == int(protocol.MsgHeartbeat)}
		if t != 0 {
			mt.Name = protocol.MsgType(t).String()
		}
		p.Types = append(p.Types, mt)
		if d.present[t] {
			p.Legend = append(p.Legend, mt)
		}
	}
	return p
}
