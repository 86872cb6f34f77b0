package trace

import (
	"sort"
	"time"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/sim"
)

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

// timeToX is the x of virtual time t: the scale's, right of the lane labels.
func (d *htmlDiagram) timeToX(t time.Duration) float64 { return htmlLeft + d.scale.at(t) }

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

// peerToY is the height of p's lane. Peers outside 1..lanes (a protocol bug
// addressing nobody) are put on lane 1 rather than off the picture.
func (d *htmlDiagram) peerToY(p protocol.PeerID) float64 {
	if p < 1 || int(p) > d.lanes {
		p = 1
	}
	return htmlTop + (float64(p)-0.5)*htmlLane
}
