package trace

import (
	"html"
	"strconv"
	"time"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/sim"
)

// The drawing of the diagram: the SVG element that page.html.tmpl shows.

// raw writes markup as it is.
func (d *htmlDiagram) raw(s string) { d.out.WriteString(s) }

// escaped writes text, escaped for both element content and quoted attributes.
func (d *htmlDiagram) escaped(s string) { d.out.WriteString(html.EscapeString(s)) }

// coord writes a coordinate with one decimal, enough at screen resolution and
// a third shorter than full precision, which matters for thousands of
// heartbeats.
func (d *htmlDiagram) coord(v float64) {
	d.num = strconv.AppendFloat(d.num[:0], v, 'f', 1, 64)
	if len(d.num) > 2 && d.num[len(d.num)-2] == '.' && d.num[len(d.num)-1] == '0' {
		d.num = d.num[:len(d.num)-2]
	}
	d.out.Write(d.num)
}

// integer writes an integer.
func (d *htmlDiagram) integer(v int) {
	d.num = strconv.AppendInt(d.num[:0], int64(v), 10)
	d.out.Write(d.num)
}

// line writes x1, y1, x2, y2 attributes (with a leading space).
func (d *htmlDiagram) line(x1, y1, x2, y2 float64) {
	d.raw(` x1="`)
	d.coord(x1)
	d.raw(`" y1="`)
	d.coord(y1)
	d.raw(`" x2="`)
	d.coord(x2)
	d.raw(`" y2="`)
	d.coord(y2)
	d.raw(`"`)
}

// xy writes x and y attributes (with a leading space).
func (d *htmlDiagram) xy(x, y float64) {
	d.raw(` x="`)
	d.coord(x)
	d.raw(`" y="`)
	d.coord(y)
	d.raw(`"`)
}

// tooltip writes a <title> child: what a browser shows on hover.
func (d *htmlDiagram) tooltip(text string) {
	d.raw("<title>")
	d.escaped(text)
	d.raw("</title>")
}

func (d *htmlDiagram) svg() {
	d.raw(`<svg xmlns="http://www.w3.org/2000/svg" width="`)
	d.coord(d.width)
	d.raw(`" height="`)
	d.coord(d.height)
	d.raw(`" viewBox="0 0 `)
	d.coord(d.width)
	d.raw(" ")
	d.coord(d.height)
	d.raw("\">\n<defs>")
	for t, c := range htmlMsgColors {
		if t == int(protocol.MsgHeartbeat) {
			continue // heartbeats have no arrowhead
		}
		d.raw(`<marker id="a`)
		d.integer(t)
		d.raw(`" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z" fill="`)
		d.raw(c)
		d.raw(`"/></marker>`)
	}
	d.raw("</defs>\n")
	// Back to front: what is drawn later covers what is drawn earlier, and
	// the markers and labels must stay readable over the arrows.
	d.axis()
	d.world()
	d.laneLines()
	d.messages(true)
	d.messages(false)
	d.markers()
	d.raw("</svg>\n")
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
	d.raw("<g>")
	for _, w := range d.scale.widened {
		x1, x2 := d.timeToX(w.from), d.timeToX(w.to)
		d.raw(`<rect class="wide"`)
		d.xy(x1, 20)
		d.raw(` width="`)
		d.coord(x2 - x1)
		d.raw(`" height="`)
		d.coord(bottom - 20)
		d.raw(`">`)
		d.tooltip("widened, not to scale: " + secs(w.from) + " to " + secs(w.to) +
			" (" + (w.to - w.from).String() + ") drawn " + strconv.Itoa(int(x2-x1+0.5)) + " px wide")
		d.raw("</rect>")
	}
	d.raw(`<line class="axis"`)
	d.line(d.timeToX(0), 20, d.timeToX(d.span), 20)
	d.raw("/>")
	for t := time.Duration(0); t <= d.span; t += d.tick {
		x := d.timeToX(t)
		d.raw(`<line class="grid"`)
		d.line(x, 20, x, bottom)
		d.raw(`/><text class="tick" text-anchor="middle"`)
		d.xy(x, 14)
		d.raw(">")
		d.raw(strconv.FormatFloat(t.Seconds(), 'f', decimals, 64))
		d.raw("s</text>")
	}
	d.raw("</g>\n")
}

// laneLines draws one horizontal line per peer, labelled at both ends so
// that a wide diagram scrolled to the right still names its lanes.
func (d *htmlDiagram) laneLines() {
	d.raw("<g>")
	for p := 1; p <= d.lanes; p++ {
		y := d.peerToY(protocol.PeerID(p))
		name := "p" + strconv.Itoa(p)
		d.raw(`<line class="lane"`)
		d.line(d.timeToX(0), y, d.timeToX(d.span), y)
		d.raw(`/><text class="lane" text-anchor="end"`)
		d.xy(htmlLeft-10, y+4)
		d.raw(">" + name + `</text><text class="lane"`)
		d.xy(d.timeToX(d.span)+10, y+4)
		d.raw(">" + name + "</text>")
	}
	d.raw("</g>\n")
}

// world draws the faults that concern no one peer (partitions, heals,
// network changes): a dashed line across all lanes, a labelled marker in
// the strip above lane 1, and a shaded band while a partition lasts.
func (d *htmlDiagram) world() {
	top, bottom := 24.0, d.height-htmlFoot/2
	// Partition bands pair a partition or cut with its heal by their
	// Partition number, and the liveness phase ends them all. They are a
	// convenience; the lines and tooltips are the record.
	type open struct {
		what      string
		partition int
		at        time.Duration
	}
	var opens []open
	band := func(o open, end time.Duration) {
		d.raw(`<rect class="band"`)
		d.xy(d.timeToX(o.at), top)
		d.raw(` width="`)
		d.coord(max(d.timeToX(end)-d.timeToX(o.at), 1))
		d.raw(`" height="`)
		d.coord(bottom - top)
		d.raw(`">`)
		d.tooltip(o.what + " (" + secs(o.at) + " to " + secs(end) + ")")
		d.raw("</rect>")
	}
	d.raw("<g>")
	for _, ev := range d.trace {
		if ev.Kind != sim.TraceFault || ev.Peer != 0 {
			continue
		}
		switch ev.Fault {
		case sim.FaultPartition, sim.FaultCut:
			opens = append(opens, open{ev.Reason, ev.Partition, ev.Time})
		case sim.FaultHeal:
			for i, o := range opens {
				if o.partition == ev.Partition {
					band(o, ev.Time)
					opens = append(opens[:i], opens[i+1:]...)
					break
				}
			}
		case sim.FaultHealAll:
			for _, o := range opens {
				band(o, ev.Time)
			}
			opens = opens[:0]
		}
	}
	for _, o := range opens {
		band(o, d.span)
	}
	d.raw("</g>\n<g>")
	var rows htmlLabelRows
	for _, ev := range d.trace {
		if ev.Kind != sim.TraceFault || ev.Peer != 0 {
			continue
		}
		x := d.timeToX(ev.Time)
		d.raw(`<g class="world">`)
		d.tooltip(secs(ev.Time) + " network-wide fault: " + ev.Reason)
		d.raw("<line")
		d.line(x, top, x, bottom)
		d.raw(`/><path d="M`)
		d.coord(x - 4)
		d.raw(" 24h8l-4 7z")
		d.raw(`"/>`)
		d.label(&rows, htmlRowsWorld, x+5, 34, 12, htmlShorten(ev.Reason), false)
		d.raw("</g>")
	}
	d.raw("</g>\n")
}

// messages draws the heartbeats (hb) or every other message: an arrow per
// delivery, a dashed line and a red × per drop, and a dotted stub for a
// message still in flight when the trace ends.
func (d *htmlDiagram) messages(hb bool) {
	if hb {
		d.raw(`<g class="hb">`)
	} else {
		d.raw("<g>")
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
	d.raw("</g>\n")
}

// from returns where the arrow for ev starts: at its send, or, when the
// trace has none (it began mid-run), at the sender's lane at ev's time.
func (d *htmlDiagram) from(ev sim.TraceEvent) (x, y float64, sent string) {
	if i, ok := findSend(d.trace, d.sends, ev); ok {
		s := d.trace[i]
		return d.timeToX(s.Time), d.peerToY(s.Peer), secs(s.Time)
	}
	return d.timeToX(ev.Time), d.peerToY(ev.Msg.From), "(send not in trace)"
}

func (d *htmlDiagram) delivery(ev sim.TraceEvent, hb bool) {
	x1, y1, sent := d.from(ev)
	x2, y2 := d.timeToX(ev.Time), d.peerToY(ev.Peer)
	tip := ev.Msg.String() + "\nsent " + sent + " by p" + peerNumber(ev.Msg.From) +
		", delivered " + secs(ev.Time) + " to p" + peerNumber(ev.Peer)
	if hb {
		// Heartbeats dominate the file: one bare line each, no arrowhead.
		d.raw("<line")
		d.line(x1, y1, x2, y2)
		d.raw(">")
		d.tooltip(tip)
		d.raw("</line>")
		return
	}
	// The visible line is thin; a wide transparent twin makes it easy to
	// hover.
	d.openMessage(ev.Msg.Type, false)
	d.tooltip(tip)
	d.raw(`<line class="v"`)
	d.line(x1, y1, x2, y2)
	d.raw(`/><line class="h"`)
	d.line(x1, y1, x2, y2)
	d.raw("/></g>")
}

func (d *htmlDiagram) drop(ev sim.TraceEvent, hb bool) {
	x1, y1, sent := d.from(ev)
	x2 := d.timeToX(ev.Time)
	y2 := y1 + (d.peerToY(ev.Msg.To)-y1)*htmlDropReach
	if ev.Msg.To == ev.Msg.From || d.peerToY(ev.Msg.To) == y1 {
		y2 = y1 + 12 // nowhere to go: still show a stub
	}
	tip := ev.Msg.String() + "\nDROPPED (" + ev.Reason + "): sent " + sent + " by p" + peerNumber(ev.Msg.From) +
		", lost " + secs(ev.Time) + " on its way to p" + peerNumber(ev.Msg.To)
	d.openMessage(ev.Msg.Type, hb)
	d.tooltip(tip)
	d.raw(`<line class="d"`)
	d.line(x1, y1, x2, y2)
	d.raw(`/><path class="x" d="M`)
	d.coord(x2 - 4)
	d.raw(" ")
	d.coord(y2 - 4)
	d.raw("l8 8m0-8l-8 8\"/>")
	if !hb {
		d.raw(`<line class="h"`)
		d.line(x1, y1, x2, y2)
		d.raw("/>")
	}
	d.raw("</g>")
}

// openMessage opens the group of one message's marks, classed by type,
// which gives them their colour; heartbeats are coloured by the .hb rules.
func (d *htmlDiagram) openMessage(t protocol.MsgType, hb bool) {
	if hb {
		d.raw(`<g>`)
		return
	}
	d.raw(`<g class="t`)
	d.integer(htmlTypeIndex(t))
	d.raw(`">`)
}

func (d *htmlDiagram) inFlight(ev sim.TraceEvent, hb bool) {
	x1, y1 := d.timeToX(ev.Time), d.peerToY(ev.Peer)
	y2 := y1 + (d.peerToY(ev.Msg.To)-y1)*0.3
	tip := ev.Msg.String() + "\nsent " + secs(ev.Time) + " by p" + peerNumber(ev.Peer) +
		"; neither delivered nor dropped when the trace ends"
	d.openMessage(ev.Msg.Type, hb)
	d.tooltip(tip)
	d.raw(`<line class="d open"`)
	d.line(x1, y1, x1+12, y2)
	d.raw("/></g>")
}

// markers draws faults at one peer, view installs and the other notes, in
// time order, stacking labels in rows (views above the lane, the rest
// below) so that events close in time stay legible.
func (d *htmlDiagram) markers() {
	above := make([]htmlLabelRows, d.lanes+1)
	below := make([]htmlLabelRows, d.lanes+1)
	d.raw("<g>")
	for _, ev := range d.trace {
		if ev.Peer < 1 || int(ev.Peer) > d.lanes {
			continue
		}
		x, y := d.timeToX(ev.Time), d.peerToY(ev.Peer)
		switch ev.Kind {
		case sim.TraceNote:
			d.note(ev, x, y, &above[ev.Peer], &below[ev.Peer])
		case sim.TraceFault:
			class := "fault"
			switch ev.Fault {
			// Colour only; the label says what happened.
			case sim.FaultCrash, sim.FaultKill:
				class += " down"
			case sim.FaultStart, sim.FaultRestart, sim.FaultResume:
				class += " up"
			case sim.FaultPause:
				class += " stop"
			}
			d.raw(`<g class="` + class + `">`)
			d.tooltip(secs(ev.Time) + " fault at p" + peerNumber(ev.Peer) + ": " + ev.Reason)
			d.raw("<rect")
			d.xy(x-2, y-10)
			d.raw(` width="4" height="20"/>`)
			d.label(&below[ev.Peer], htmlRowsBelow, x+4, y+22, 12, htmlShorten(ev.Reason), false)
			d.raw("</g>")
		}
	}
	d.raw("</g>\n")
}

func (d *htmlDiagram) note(ev sim.TraceEvent, x, y float64, above, below *htmlLabelRows) {
	n := ev.Note
	tip := secs(ev.Time) + " p" + peerNumber(ev.Peer) + ": "
	if line, ok := protocol.FormatNote(n); ok {
		tip += line + "\n"
	}
	tip += n.String()
	if n.Kind == protocol.NoteViewInstalled {
		tip += viewTags(n.Members, n.Tags)
	}
	switch n.Kind {
	case protocol.NoteViewInstalled:
		label := htmlShorten("v" + strconv.FormatUint(uint64(n.ViewID), 10) + " " + protocol.FormatMembers(n.Members))
		d.raw(`<g class="view">`)
		d.tooltip(tip)
		d.raw(`<circle cx="`)
		d.coord(x)
		d.raw(`" cy="`)
		d.coord(y)
		d.raw(`" r="4"/>`)
		d.label(above, htmlRowsAbove, x-3, y-8, -12, label, false)
		d.raw("</g>")
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
	d.raw(`<g class="` + class + `">`)
	d.tooltip(tip)
	if class == "note" {
		d.raw(`<path d="M`)
		d.coord(x)
		d.raw(" ")
		d.coord(y - 6)
		d.raw(`l5 9h-10z"/>`)
	} else {
		d.raw(`<circle cx="`)
		d.coord(x)
		d.raw(`" cy="`)
		d.coord(y)
		d.raw(`" r="2.5"/>`)
	}
	// A note the seed does not log is worth no overlap; a cleared
	// suspicion, the most frequent, is worth no label at all.
	if n.Kind != protocol.NoteSuspicionCleared {
		d.label(below, htmlRowsBelow, x+4, y+22, 12, label, class == "minor")
	}
	d.raw("</g>")
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
	d.raw(`<text class="lbl"`)
	d.xy(x, y0+dy*float64(row))
	d.raw(">")
	d.escaped(text)
	d.raw("</text>")
}
