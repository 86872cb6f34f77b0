package trace

import (
	"bufio"
	"html"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/sim"
)

// This file renders a run's trace as a space-time diagram: one
// self-contained HTML page with inline CSS and one inline SVG, and no
// script at all. Tooltips are SVG <title> elements and the heartbeat switch
// is a CSS sibling selector, so the page works offline, from a file, in any
// browser, and cannot fetch anything. The page is also well-formed XML
// (every element closed, every attribute quoted, no '<' or '&' in the CSS),
// which keeps it easy to check mechanically.

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
	bw := bufio.NewWriterSize(w, 64<<10)
	d := newHTMLDiagram(bw, title, peers, trace)
	d.page()
	// bufio keeps the first write error and Flush returns it, so the
	// drawing code need not check every write.
	return bw.Flush()
}

// htmlDiagram is one WriteHTML in progress.
type htmlDiagram struct {
	w     *bufio.Writer
	num   []byte // scratch for numbers
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

func newHTMLDiagram(w *bufio.Writer, title string, peers int, trace []sim.TraceEvent) *htmlDiagram {
	d := &htmlDiagram{w: w, title: title, trace: trace, sends: indexSends(trace),
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

// htmlTickFor picks the time-axis step: the smallest round step at least
// htmlMinTick pixels wide.
func htmlTickFor(pxPerSec float64) time.Duration {
	steps := []time.Duration{
		time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond,
		10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond,
		100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
		time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second,
		15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute,
		5 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour,
	}
	for _, s := range steps {
		if s.Seconds()*pxPerSec >= htmlMinTick {
			return s
		}
	}
	return 24 * time.Hour
}

func (d *htmlDiagram) x(t time.Duration) float64 { return htmlLeft + d.scale.at(t) }

// htmlScale maps virtual time to pixels. Messages take a millisecond or
// two while heartbeats come a second apart, so at any one scale a whole
// exchange (JOIN, REQ, OK, NEWVIEW) would be one vertical smear. The scale
// is therefore linear, except that two successive instants at which
// something other than a heartbeat happens are at least htmlMinStep apart:
// bursts are widened until their order shows, and idle stretches, the
// heartbeats' and the timeouts', keep their true proportions. Time still
// only moves right; the axis ticks and the shading of widened stretches
// say where it is not to scale, and every tooltip gives exact times.
type htmlScale struct {
	pxPerSec float64
	knots    []htmlKnot // ascending in both t and x; knots[0] is at time 0
	widened  []htmlSpan // stretches drawn wider than pxPerSec
}

type htmlKnot struct {
	t time.Duration
	x float64
}

type htmlSpan struct{ from, to time.Duration }

func newHTMLScale(trace []sim.TraceEvent, end time.Duration) htmlScale {
	times := []time.Duration{0}
	for _, ev := range trace {
		if ev.Msg.Type == protocol.MsgHeartbeat {
			continue
		}
		if ev.Time > times[len(times)-1] {
			times = append(times, ev.Time)
		}
	}
	// The trace is in time order; an out-of-order event just adds no knot.
	if end > times[len(times)-1] {
		times = append(times, end)
	}
	// Lay out at the preferred scale, then scale everything: the width is
	// proportional to a common factor of pxPerSec and minStep.
	sc := htmlScale{knots: make([]htmlKnot, len(times))}
	var x float64
	for i, t := range times {
		if i > 0 {
			dt := (t - times[i-1]).Seconds() * htmlPxPerSec
			if dt < htmlMinStep {
				dt = htmlMinStep
				if n := len(sc.widened); n > 0 && sc.widened[n-1].to == times[i-1] {
					sc.widened[n-1].to = t
				} else {
					sc.widened = append(sc.widened, htmlSpan{times[i-1], t})
				}
			}
			x += dt
		}
		sc.knots[i] = htmlKnot{t, x}
	}
	f := 1.0
	if x > htmlMaxPlot {
		f = htmlMaxPlot / x
	} else if x < htmlMinPlot {
		f = htmlMinPlot / x
	}
	for i := range sc.knots {
		sc.knots[i].x *= f
	}
	sc.pxPerSec = htmlPxPerSec * f
	return sc
}

// at returns the x of time t, from 0 at time 0.
func (sc *htmlScale) at(t time.Duration) float64 {
	k := sc.knots
	// The last knot at or before t.
	i := sort.Search(len(k), func(i int) bool { return k[i].t > t }) - 1
	switch {
	case i < 0:
		return 0
	case i == len(k)-1:
		return k[i].x + (t-k[i].t).Seconds()*sc.pxPerSec
	}
	a, b := k[i], k[i+1]
	return a.x + (b.x-a.x)*float64(t-a.t)/float64(b.t-a.t)
}

// y is the height of p's lane. Peers outside 1..lanes (a protocol bug
// addressing nobody) are put on lane 1 rather than off the picture.
func (d *htmlDiagram) y(p protocol.PeerID) float64 {
	if p < 1 || int(p) > d.lanes {
		p = 1
	}
	return htmlTop + (float64(p)-0.5)*htmlLane
}

// s writes raw markup.
func (d *htmlDiagram) s(s string) { d.w.WriteString(s) } //nolint:errcheck // see WriteHTML

// e writes text, escaped for both element content and quoted attributes.
func (d *htmlDiagram) e(s string) { d.w.WriteString(html.EscapeString(s)) } //nolint:errcheck

// n writes a coordinate with one decimal, enough at screen resolution and
// a third shorter than full precision, which matters for thousands of
// heartbeats.
func (d *htmlDiagram) n(v float64) {
	d.num = strconv.AppendFloat(d.num[:0], v, 'f', 1, 64)
	if len(d.num) > 2 && d.num[len(d.num)-2] == '.' && d.num[len(d.num)-1] == '0' {
		d.num = d.num[:len(d.num)-2]
	}
	d.w.Write(d.num) //nolint:errcheck
}

// i writes an integer.
func (d *htmlDiagram) i(v int) {
	d.num = strconv.AppendInt(d.num[:0], int64(v), 10)
	d.w.Write(d.num) //nolint:errcheck
}

// line writes x1, y1, x2, y2 attributes (with a leading space).
func (d *htmlDiagram) line(x1, y1, x2, y2 float64) {
	d.s(` x1="`)
	d.n(x1)
	d.s(`" y1="`)
	d.n(y1)
	d.s(`" x2="`)
	d.n(x2)
	d.s(`" y2="`)
	d.n(y2)
	d.s(`"`)
}

// xy writes x and y attributes (with a leading space).
func (d *htmlDiagram) xy(x, y float64) {
	d.s(` x="`)
	d.n(x)
	d.s(`" y="`)
	d.n(y)
	d.s(`"`)
}

// tooltip writes a <title> child: what a browser shows on hover.
func (d *htmlDiagram) tooltip(text string) {
	d.s("<title>")
	d.e(text)
	d.s("</title>")
}

func (d *htmlDiagram) page() {
	d.s("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>")
	d.e(d.title)
	d.s(" - memberly trace</title>\n<style>\n")
	d.css()
	d.s("</style>\n</head>\n<body>\n<h1>")
	d.e(d.title)
	d.s("</h1>\n<p class=\"counts\">")
	d.counts()
	d.s("</p>\n")
	// The checkbox must precede #chart as a sibling: the CSS rule
	// "#hb:not(:checked) ~ #chart .hb" hides heartbeats without a script.
	d.s(`<p class="ctl"><input type="checkbox" id="hb" checked="checked"/> <label for="hb">show heartbeats (`)
	d.i(d.perType[protocol.MsgHeartbeat])
	d.s(" sent; thin grey lines)</label></p>\n")
	d.legend()
	d.s("<div id=\"chart\">\n")
	d.svg()
	d.s("</div>\n<p class=\"help\">Hover over an arrow, a \u00d7 or a marker for its full text. " +
		"Time is virtual, in seconds from the start of the run. It is to scale except in the grey stretches, " +
		"widened so that the order of messages a few milliseconds apart shows (hover for how much).</p>\n" +
		"</body>\n</html>\n")
}

func (d *htmlDiagram) css() {
	d.s(`body{font:14px system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:20px;margin:0 0 4px}
.counts,.ctl,.help{margin:4px 0}
.legend{margin:6px 0;display:flex;flex-wrap:wrap;gap:4px 14px;font-size:13px}
.legend span.k{display:inline-block;width:22px;height:0;border-top:2px solid;vertical-align:middle;margin-right:4px}
.legend span.dash{border-top-style:dashed}
.legend b{color:#d62728}
#chart{overflow:auto;border:1px solid #ddd}
#hb:not(:checked)~#chart .hb{display:none}
svg{display:block;background:#fff}
svg text{font:11px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;fill:#222}
text.lbl{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
text.lane{font-size:13px;font-weight:bold}
text.tick{fill:#666}
line.grid{stroke:#eee}
rect.wide{fill:#f3f3f3}
line.axis{stroke:#999}
line.lane{stroke:#444}
rect.band{fill:#ff7f0e;fill-opacity:.08}
.world line{stroke:#ff7f0e;stroke-dasharray:2 4}
.world path{fill:#ff7f0e}
.hb line{stroke:#b0b0b0;stroke-width:.6}
.hb .d{stroke-dasharray:3 3}
.hb .x{stroke-width:1.2;opacity:.6}
.v,.d{stroke-width:1.4}
.d{stroke-dasharray:5 3}
.h{stroke:transparent;stroke-width:9}
g:hover>.v,g:hover>.d{stroke-width:3}
.open{stroke-dasharray:1 3}
.x{stroke:#d62728;stroke-width:2;fill:none}
.view circle{fill:#1a7f37}
.view text{fill:#1a7f37;font-weight:bold}
.note path{fill:#b45309}
.note text{fill:#b45309}
.minor circle{fill:#888}
.minor text{fill:#666;font-size:10px}
.fault rect{fill:#ff7f0e}
.fault.down rect{fill:#d62728}
.fault.up rect{fill:#2ca02c}
.fault.stop rect{fill:#9467bd}
`)
	for t, c := range htmlMsgColors {
		d.s(".legend span.k")
		d.i(t)
		d.s("{border-top-color:")
		d.s(c)
		d.s("}")
		if t == int(protocol.MsgHeartbeat) {
			d.s("\n")
			continue // drawn by the .hb rules
		}
		d.s(".t")
		d.i(t)
		d.s(" .v{stroke:")
		d.s(c)
		d.s(";marker-end:url(#a")
		d.i(t)
		d.s(")}.t")
		d.i(t)
		d.s(" .d{stroke:")
		d.s(c)
		d.s("}\n")
	}
}

func (d *htmlDiagram) counts() {
	d.i(d.lanes)
	d.s(" peers, ")
	d.e(secs(d.last))
	d.s(" of virtual time: ")
	d.i(d.delivered)
	d.s(" messages delivered (")
	d.i(d.heartbeats)
	d.s(" heartbeats), ")
	d.i(d.dropped)
	d.s(" dropped, ")
	d.i(d.installs)
	d.s(" views installed (")
	d.i(len(d.views))
	d.s(" distinct), ")
	d.i(d.faults)
	d.s(" faults.")
}

func (d *htmlDiagram) legend() {
	d.s("<div class=\"legend\">")
	for t := range htmlMsgColors {
		if !d.present[t] {
			continue
		}
		d.s(`<span><span class="k k`)
		d.i(t)
		d.s(`"></span>`)
		if t == 0 {
			d.s("unknown type")
		} else {
			d.e(protocol.MsgType(t).String())
		}
		d.s(" (")
		d.i(d.perType[t])
		d.s(")</span>")
	}
	d.s(`<span><span class="k dash"></span><b>` + "\u00d7" + `</b> dropped</span>`)
	d.s(`<span style="color:#1a7f37">&#9679; view installed</span>`)
	d.s(`<span style="color:#b45309">&#9650; seed log note</span>`)
	d.s(`<span style="color:#888">&#9679; other note</span>`)
	d.s(`<span style="color:#d62728">&#9646; crash/kill</span>`)
	d.s(`<span style="color:#2ca02c">&#9646; start/restart/resume</span>`)
	d.s(`<span style="color:#9467bd">&#9646; pause</span>`)
	d.s(`<span style="color:#ff7f0e">&#9646; other fault (dashed, full height: network-wide)</span>`)
	d.s("</div>\n")
}

func (d *htmlDiagram) svg() {
	d.s(`<svg xmlns="http://www.w3.org/2000/svg" width="`)
	d.n(d.width)
	d.s(`" height="`)
	d.n(d.height)
	d.s(`" viewBox="0 0 `)
	d.n(d.width)
	d.s(" ")
	d.n(d.height)
	d.s("\">\n<defs>")
	for t, c := range htmlMsgColors {
		if t == int(protocol.MsgHeartbeat) {
			continue // heartbeats have no arrowhead
		}
		d.s(`<marker id="a`)
		d.i(t)
		d.s(`" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="`)
		d.s(c)
		d.s(`"/></marker>`)
	}
	d.s("</defs>\n")
	// Back to front: what is drawn later covers what is drawn earlier, and
	// the markers and labels must stay readable over the arrows.
	d.axis()
	d.world()
	d.laneLines()
	d.messages(true)
	d.messages(false)
	d.markers()
	d.s("</svg>\n")
}

// axis draws the time axis along the top and a faint grid line per tick.
func (d *htmlDiagram) axis() {
	decimals := 0
	switch {
	case d.tick < 10*time.Millisecond:
		decimals = 3
	case d.tick < 100*time.Millisecond:
		decimals = 2
	case d.tick < time.Second:
		decimals = 1
	}
	bottom := d.height - htmlFoot/2
	d.s("<g>")
	for _, w := range d.scale.widened {
		x1, x2 := d.x(w.from), d.x(w.to)
		d.s(`<rect class="wide"`)
		d.xy(x1, 20)
		d.s(` width="`)
		d.n(x2 - x1)
		d.s(`" height="`)
		d.n(bottom - 20)
		d.s(`">`)
		d.tooltip("widened, not to scale: " + secs(w.from) + " to " + secs(w.to) +
			" (" + (w.to - w.from).String() + ") drawn " + strconv.Itoa(int(x2-x1+0.5)) + " px wide")
		d.s("</rect>")
	}
	d.s(`<line class="axis"`)
	d.line(d.x(0), 20, d.x(d.span), 20)
	d.s("/>")
	for t := time.Duration(0); t <= d.span; t += d.tick {
		x := d.x(t)
		d.s(`<line class="grid"`)
		d.line(x, 20, x, bottom)
		d.s(`/><text class="tick" text-anchor="middle"`)
		d.xy(x, 14)
		d.s(">")
		d.s(strconv.FormatFloat(t.Seconds(), 'f', decimals, 64))
		d.s("s</text>")
	}
	d.s("</g>\n")
}

// laneLines draws one horizontal line per peer, labelled at both ends so
// that a wide diagram scrolled to the right still names its lanes.
func (d *htmlDiagram) laneLines() {
	d.s("<g>")
	for p := 1; p <= d.lanes; p++ {
		y := d.y(protocol.PeerID(p))
		name := "p" + strconv.Itoa(p)
		d.s(`<line class="lane"`)
		d.line(d.x(0), y, d.x(d.span), y)
		d.s(`/><text class="lane" text-anchor="end"`)
		d.xy(htmlLeft-10, y+4)
		d.s(">" + name + `</text><text class="lane"`)
		d.xy(d.x(d.span)+10, y+4)
		d.s(">" + name + "</text>")
	}
	d.s("</g>\n")
}

// world draws the faults that concern no one peer (partitions, heals,
// network changes): a dashed line across all lanes, a labelled marker in
// the strip above lane 1, and a shaded band while a partition lasts.
func (d *htmlDiagram) world() {
	top, bottom := 24.0, d.height-htmlFoot/2
	// Partition bands pair a partition with its heal by their text (see
	// world.act and world.unblock): "heal: X" ends X, the liveness phase
	// ends them all. They are a convenience; the lines and tooltips are
	// the record.
	type open struct {
		what string
		at   time.Duration
	}
	var opens []open
	band := func(o open, end time.Duration) {
		d.s(`<rect class="band"`)
		d.xy(d.x(o.at), top)
		d.s(` width="`)
		d.n(max(d.x(end)-d.x(o.at), 1))
		d.s(`" height="`)
		d.n(bottom - top)
		d.s(`">`)
		d.tooltip(o.what + " (" + secs(o.at) + " to " + secs(end) + ")")
		d.s("</rect>")
	}
	d.s("<g>")
	for _, ev := range d.trace {
		if ev.Kind != sim.TraceFault || ev.Peer != 0 {
			continue
		}
		switch r := ev.Reason; {
		case strings.HasPrefix(r, "isolate ") || strings.HasPrefix(r, "split ") || strings.HasPrefix(r, "cut "):
			opens = append(opens, open{r, ev.Time})
		case strings.HasPrefix(r, "heal: "):
			for i, o := range opens {
				if o.what == strings.TrimPrefix(r, "heal: ") {
					band(o, ev.Time)
					opens = append(opens[:i], opens[i+1:]...)
					break
				}
			}
		case strings.Contains(r, "heal all"):
			for _, o := range opens {
				band(o, ev.Time)
			}
			opens = opens[:0]
		}
	}
	for _, o := range opens {
		band(o, d.span)
	}
	d.s("</g>\n<g>")
	var rows htmlLabelRows
	for _, ev := range d.trace {
		if ev.Kind != sim.TraceFault || ev.Peer != 0 {
			continue
		}
		x := d.x(ev.Time)
		d.s(`<g class="world">`)
		d.tooltip(secs(ev.Time) + " network-wide fault: " + ev.Reason)
		d.s("<line")
		d.line(x, top, x, bottom)
		d.s(`/><path d="M`)
		d.n(x - 4)
		d.s(" 24h8l-4 7z")
		d.s(`"/>`)
		d.label(&rows, htmlRowsWorld, x+5, 34, 12, htmlShorten(ev.Reason), false)
		d.s("</g>")
	}
	d.s("</g>\n")
}

// messages draws the heartbeats (hb) or every other message: an arrow per
// delivery, a dashed line and a red × per drop, and a dotted stub for a
// message still in flight when the trace ends.
func (d *htmlDiagram) messages(hb bool) {
	if hb {
		d.s(`<g class="hb">`)
	} else {
		d.s("<g>")
	}
	for _, ev := range d.trace {
		if (ev.Msg.Type == protocol.MsgHeartbeat) != hb {
			continue
		}
		switch ev.Kind {
		case sim.TraceDeliver:
			d.delivery(ev, hb)
		case sim.TraceDrop:
			d.drop(ev, hb)
		case sim.TraceSend:
			if !d.ended[ev.MsgID] {
				d.inFlight(ev, hb)
			}
		}
	}
	d.s("</g>\n")
}

// from returns where the arrow for ev starts: at its send, or, when the
// trace has none (it began mid-run), at the sender's lane at ev's time.
func (d *htmlDiagram) from(ev sim.TraceEvent) (x, y float64, sent string) {
	if i, ok := findSend(d.trace, d.sends, ev); ok {
		s := d.trace[i]
		return d.x(s.Time), d.y(s.Peer), secs(s.Time)
	}
	return d.x(ev.Time), d.y(ev.Msg.From), "(send not in trace)"
}

func (d *htmlDiagram) delivery(ev sim.TraceEvent, hb bool) {
	x1, y1, sent := d.from(ev)
	x2, y2 := d.x(ev.Time), d.y(ev.Peer)
	tip := ev.Msg.String() + "\nsent " + sent + " by p" + peerNumber(ev.Msg.From) +
		", delivered " + secs(ev.Time) + " to p" + peerNumber(ev.Peer)
	if hb {
		// Heartbeats dominate the file: one bare line each, no arrowhead.
		d.s("<line")
		d.line(x1, y1, x2, y2)
		d.s(">")
		d.tooltip(tip)
		d.s("</line>")
		return
	}
	// The visible line is thin; a wide transparent twin makes it easy to
	// hover.
	d.openMessage(ev.Msg.Type, false)
	d.tooltip(tip)
	d.s(`<line class="v"`)
	d.line(x1, y1, x2, y2)
	d.s(`/><line class="h"`)
	d.line(x1, y1, x2, y2)
	d.s("/></g>")
}

func (d *htmlDiagram) drop(ev sim.TraceEvent, hb bool) {
	x1, y1, sent := d.from(ev)
	x2 := d.x(ev.Time)
	y2 := y1 + (d.y(ev.Msg.To)-y1)*htmlDropReach
	if ev.Msg.To == ev.Msg.From || d.y(ev.Msg.To) == y1 {
		y2 = y1 + 12 // nowhere to go: still show a stub
	}
	tip := ev.Msg.String() + "\nDROPPED (" + ev.Reason + "): sent " + sent + " by p" + peerNumber(ev.Msg.From) +
		", lost " + secs(ev.Time) + " on its way to p" + peerNumber(ev.Msg.To)
	d.openMessage(ev.Msg.Type, hb)
	d.tooltip(tip)
	d.s(`<line class="d"`)
	d.line(x1, y1, x2, y2)
	d.s(`/><path class="x" d="M`)
	d.n(x2 - 4)
	d.s(" ")
	d.n(y2 - 4)
	d.s("l8 8m0-8l-8 8\"/>")
	if !hb {
		d.s(`<line class="h"`)
		d.line(x1, y1, x2, y2)
		d.s("/>")
	}
	d.s("</g>")
}

// openMessage opens the group of one message's marks, classed by type,
// which gives them their colour; heartbeats are coloured by the .hb rules.
func (d *htmlDiagram) openMessage(t protocol.MsgType, hb bool) {
	if hb {
		d.s(`<g>`)
		return
	}
	d.s(`<g class="t`)
	d.i(htmlTypeIndex(t))
	d.s(`">`)
}

func (d *htmlDiagram) inFlight(ev sim.TraceEvent, hb bool) {
	x1, y1 := d.x(ev.Time), d.y(ev.Peer)
	y2 := y1 + (d.y(ev.Msg.To)-y1)*0.3
	tip := ev.Msg.String() + "\nsent " + secs(ev.Time) + " by p" + peerNumber(ev.Peer) +
		"; neither delivered nor dropped when the trace ends"
	d.openMessage(ev.Msg.Type, hb)
	d.tooltip(tip)
	d.s(`<line class="d open"`)
	d.line(x1, y1, x1+12, y2)
	d.s("/></g>")
}

// markers draws faults at one peer, view installs and the other notes, in
// time order, stacking labels in rows (views above the lane, the rest
// below) so that events close in time stay legible.
func (d *htmlDiagram) markers() {
	above := make([]htmlLabelRows, d.lanes+1)
	below := make([]htmlLabelRows, d.lanes+1)
	d.s("<g>")
	for _, ev := range d.trace {
		if ev.Peer < 1 || int(ev.Peer) > d.lanes {
			continue
		}
		x, y := d.x(ev.Time), d.y(ev.Peer)
		switch ev.Kind {
		case sim.TraceNote:
			d.note(ev, x, y, &above[ev.Peer], &below[ev.Peer])
		case sim.TraceFault:
			class := "fault"
			switch r := ev.Reason; {
			// Colour only; the label says what happened.
			case strings.Contains(r, "crash p") || strings.Contains(r, "kill p"):
				class += " down"
			case strings.HasPrefix(r, "start ") || strings.Contains(r, "restart ") || strings.HasPrefix(r, "resume "):
				class += " up"
			case strings.HasPrefix(r, "pause "):
				class += " stop"
			}
			d.s(`<g class="` + class + `">`)
			d.tooltip(secs(ev.Time) + " fault at p" + peerNumber(ev.Peer) + ": " + ev.Reason)
			d.s("<rect")
			d.xy(x-2, y-10)
			d.s(` width="4" height="20"/>`)
			d.label(&below[ev.Peer], htmlRowsBelow, x+4, y+22, 12, htmlShorten(ev.Reason), false)
			d.s("</g>")
		}
	}
	d.s("</g>\n")
}

func (d *htmlDiagram) note(ev sim.TraceEvent, x, y float64, above, below *htmlLabelRows) {
	n := ev.Note
	tip := secs(ev.Time) + " p" + peerNumber(ev.Peer) + ": "
	if line, ok := protocol.FormatNote(n); ok {
		tip += line + "\n"
	}
	tip += n.String()
	switch n.Kind {
	case protocol.NoteViewInstalled:
		label := htmlShorten("v" + strconv.FormatUint(uint64(n.ViewID), 10) + " " + protocol.FormatMembers(n.Members))
		d.s(`<g class="view">`)
		d.tooltip(tip)
		d.s(`<circle cx="`)
		d.n(x)
		d.s(`" cy="`)
		d.n(y)
		d.s(`" r="4"/>`)
		d.label(above, htmlRowsAbove, x-3, y-8, -12, label, false)
		d.s("</g>")
		return
	}
	var label, class string
	if l, ok := protocol.NoteLine(n); ok {
		// A seed log line: its message is what the seed's harness greps.
		label, class = l.Message, "note"
	} else {
		label, class = htmlMinorLabel(n), "minor"
	}
	label = htmlShorten(label)
	d.s(`<g class="` + class + `">`)
	d.tooltip(tip)
	if class == "note" {
		d.s(`<path d="M`)
		d.n(x)
		d.s(" ")
		d.n(y - 6)
		d.s(`l5 9h-10z"/>`)
	} else {
		d.s(`<circle cx="`)
		d.n(x)
		d.s(`" cy="`)
		d.n(y)
		d.s(`" r="2.5"/>`)
	}
	// A note the seed does not log is worth no overlap; a cleared
	// suspicion, the most frequent, is worth no label at all.
	if n.Kind != protocol.NoteSuspicionCleared {
		d.label(below, htmlRowsBelow, x+4, y+22, 12, label, class == "minor")
	}
	d.s("</g>")
}

// label writes text at x in the first free of n rows, the first row at y0
// and each next one dy further. With no row free, an optional label is left
// out (its marker's tooltip still has it) and any other overlaps the row
// that frees up first.
func (d *htmlDiagram) label(rows *htmlLabelRows, n int, x, y0, dy float64, text string, optional bool) {
	row, free := rows.place(x, text, n)
	if !free {
		if optional {
			return
		}
		rows.take(row, x, text)
	}
	d.s(`<text class="lbl"`)
	d.xy(x, y0+dy*float64(row))
	d.s(">")
	d.e(text)
	d.s("</text>")
}

// htmlMinorLabel is the short label of a note the seed does not log.
func htmlMinorLabel(n protocol.Note) string {
	s := n.Kind.String()
	switch n.Kind {
	case protocol.NoteCandidate, protocol.NoteLeader, protocol.NoteSteppedDown:
		s += " " + n.Ballot.String()
	case protocol.NoteProposed:
		s += " " + n.Change().String()
	case protocol.NoteSuspicionCleared:
		s += " p" + peerNumber(n.Subject)
	case protocol.NoteLeft:
		if n.TimedOut {
			s += " (timed out)"
		}
	}
	return s
}

// htmlShorten cuts a label to htmlMaxLabel runes; the tooltip keeps it
// whole.
func htmlShorten(s string) string {
	if utf8.RuneCountInString(s) <= htmlMaxLabel {
		return s
	}
	r := []rune(s)
	return string(r[:htmlMaxLabel-1]) + "\u2026"
}

// htmlLabelRows stacks labels in rows: each row remembers where its last label
// ends, and a new label goes in the first row free at its x.
type htmlLabelRows struct{ end []float64 }

// place returns the row (0..n-1) for a label starting at x, and whether it
// is free. When every row is taken it returns the row that frees up first,
// for a label worth an overlap; the caller may also leave the label out.
func (r *htmlLabelRows) place(x float64, label string, n int) (int, bool) {
	w := float64(utf8.RuneCountInString(label))*htmlCharW + htmlLabelGap
	for len(r.end) < n {
		r.end = append(r.end, -1)
	}
	best := 0
	for i, e := range r.end {
		if e <= x {
			r.end[i] = x + w
			return i, true
		}
		if e < r.end[best] {
			best = i
		}
	}
	return best, false
}

// take marks row as used by a label at x, after place found no free one.
func (r *htmlLabelRows) take(row int, x float64, label string) {
	r.end[row] = max(r.end[row], x+float64(utf8.RuneCountInString(label))*htmlCharW+htmlLabelGap)
}
