package sim

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/memberly/memberly/protocol"
	"github.com/memberly/memberly/scenarios"
)

// printer writes a run for people: the options first, so that any run can
// be replayed, then every peer's log lines and every fault with virtual time,
// then the verdict. Nothing printed depends on the wall clock.
type printer struct {
	w       io.Writer
	verbose bool
	buf     []byte
}

func stamp(buf []byte, t time.Duration) []byte {
	s := strconv.FormatFloat(t.Seconds(), 'f', 3, 64)
	for i := len(s); i < 9; i++ {
		buf = append(buf, ' ')
	}
	buf = append(buf, s...)
	return append(buf, 's', ' ')
}

func (p *printer) line(t time.Duration, who string, text string) {
	if p.w == nil {
		return
	}
	p.buf = stamp(p.buf[:0], t)
	p.buf = append(p.buf, who...)
	p.buf = append(p.buf, ' ')
	p.buf = append(p.buf, text...)
	p.buf = append(p.buf, '\n')
	p.w.Write(p.buf) //nolint:errcheck // best effort, like a log
}

// header prints the seed and every option of the run.
func (p *printer) header(w *world) {
	if p.w == nil {
		return
	}
	sc := w.sc
	var b strings.Builder
	fmt.Fprintf(&b, "scenario %s (%s) seed %d\n", sc.Name, sc.File, w.opts.Seed)
	if w.opts.Replay != "" {
		fmt.Fprintf(&b, "  replay:   %s\n", w.opts.Replay)
	}
	if sc.Description != "" {
		fmt.Fprintf(&b, "  about:    %s\n", strings.Join(strings.Fields(sc.Description), " "))
	}
	c := w.cfg
	fmt.Fprintf(&b, "  peers:    %d\n", sc.Peers)
	if len(sc.Tags) > 0 {
		// Shown only when set, so a run without tags prints what it
		// always printed.
		fmt.Fprintf(&b, "  tags:     %s\n", describeTags(sc.Tags))
	}
	if c.Durable {
		b.WriteString("  durable:  every peer stores its state, synced, before it acts on it, and resumes from it\n")
	}
	fmt.Fprintf(&b, "  timing:   heartbeat=%v suspect_after=%v retry=%v join_retry=%v leave_timeout=%v rejoin=%v",
		c.HeartbeatInterval, c.SuspectAfter, c.RetryInterval, c.JoinRetryInterval, c.LeaveTimeout, c.Rejoin)
	if c.MaxChangesPerView != 1 {
		// Shown only when not the default, so a run of the seed's
		// rules prints what it always printed.
		fmt.Fprintf(&b, " max_changes_per_view=%d", c.MaxChangesPerView)
	}
	if c.BatchWait != 0 {
		fmt.Fprintf(&b, " batch_wait=%v", c.BatchWait)
	}
	if c.Observers != protocol.DefaultObservers {
		fmt.Fprintf(&b, " observers=%d", c.Observers)
	}
	b.WriteByte('\n')
	if c.Mutation != protocol.MutationNone {
		fmt.Fprintf(&b, "  MUTATION: %s (the protocol is broken on purpose)\n", c.Mutation)
	}
	fmt.Fprintf(&b, "  network:  %s\n", describeNetwork(sc.Network))
	for _, a := range w.timeline {
		fmt.Fprintf(&b, "  at %-7v %s\n", a.At, describeAction(a))
	}
	e := sc.Expect
	fmt.Fprintf(&b, "  expect:   by %v", e.Within)
	if e.View != nil {
		fmt.Fprintf(&b, " view %s", protocol.FormatMembers(e.View))
	}
	if e.Leader != 0 {
		fmt.Fprintf(&b, " leader %d", e.Leader)
	}
	b.WriteByte('\n')
	if l := sc.Liveness; l != nil {
		fmt.Fprintf(&b, "  liveness: heal at %v, every peer in one full view by %v\n", l.HealAt, l.HealAt+l.Within)
	}
	fmt.Fprintf(&b, "  run for:  %v\n", sc.RunFor)
	io.WriteString(p.w, b.String()) //nolint:errcheck
}

// describeTags lists each tagged peer's tags in id order:
// "p1 role=db,zone=a; p3 zone=b".
func describeTags(tags map[protocol.PeerID]protocol.Tags) string {
	var parts []string
	for _, id := range slices.Sorted(maps.Keys(tags)) {
		if !tags[id].IsZero() {
			parts = append(parts, fmt.Sprintf("p%d %s", id, tags[id]))
		}
	}
	return strings.Join(parts, "; ")
}

func describeAction(a scenarios.Action) string {
	if t := a.After; t != nil {
		// The fault lasts from when the trigger goes off.
		untimed := a
		untimed.After, untimed.Until = nil, 0
		lasting := ""
		if a.Until != 0 {
			lasting = fmt.Sprintf(" for %v", a.Until-a.At)
		}
		return describeAction(untimed) + lasting + ", " + describeTrigger(*t)
	}
	switch a.Kind {
	case scenarios.ActStart, scenarios.ActCrash, scenarios.ActKill, scenarios.ActRestart, scenarios.ActLeave,
		scenarios.ActCorrupt, scenarios.ActTear:
		return string(a.Kind) + " " + protocol.FormatMembers(a.Peers)
	case scenarios.ActEvict, scenarios.ActHook, scenarios.ActForceView:
		return fmt.Sprintf("%s %d", a.Kind, a.Peer)
	case scenarios.ActPause:
		return describePause(a)
	case scenarios.ActIsolate, scenarios.ActSplit, scenarios.ActCut:
		return describePartition(a)
	case scenarios.ActDrop:
		return fmt.Sprintf("drop the next %d %s", a.Drop.Count, describeDrop(a.Drop))
	case scenarios.ActNetwork:
		return "network " + describeNetwork(*a.SetNetwork)
	case scenarios.ActChurn:
		return fmt.Sprintf("churn every %v, down for %v, until %v", a.Churn.Interval, a.Churn.DownFor, a.Until)
	}
	return string(a.Kind)
}

// note prints a peer's seed log line (docs/design.md, section 9), if the note has one.
func (p *printer) note(w *world, n protocol.Note) {
	if p.w == nil {
		return
	}
	if line, ok := protocol.FormatNote(n); ok {
		p.line(w.now, "p"+strconv.Itoa(int(n.Peer)), line)
	} else if p.verbose {
		p.line(w.now, "p"+strconv.Itoa(int(n.Peer)), "# "+n.String())
	}
}

func (p *printer) fault(w *world, what string) { p.line(w.now, "**", what) }

func (p *printer) delivered(w *world, m protocol.Message) {
	if p.verbose {
		p.line(w.now, fmt.Sprintf("p%d<p%d", m.To, m.From), "deliver "+m.String())
	}
}

func (p *printer) held(w *world, m protocol.Message) {
	if p.verbose {
		p.line(w.now, fmt.Sprintf("p%d<p%d", m.To, m.From), "HELD (paused) "+m.String())
	}
}

func (p *printer) dropped(w *world, m protocol.Message, reason string) {
	if p.verbose {
		p.line(w.now, fmt.Sprintf("p%d<p%d", m.To, m.From), "DROP ("+reason+") "+m.String())
	}
}

// verdict prints the outcome: pass, or the violated property, and where
// every peer ended.
func (p *printer) verdict(w *world) {
	if p.w == nil {
		return
	}
	r := w.res
	s := "verdict: pass"
	if r.Verdict != Pass {
		s = fmt.Sprintf("verdict: %s %s at %.3fs: %s", strings.ToUpper(r.Verdict.String()), r.Property, r.At.Seconds(), r.Detail)
	}
	fmt.Fprintf(p.w, "%s\nfinal: %s\n", s, w.describeViews())
}
