package scenarios

import (
	"math"
	"slices"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/memberly/memberly/protocol"
)

// expect reads the expect block.
func (p *parser) expect(block field) (Expect, error) {
	f, _, err := p.fields(block.val, "expect", []string{"view", "leader", "within", "false_removals_max"})
	if err != nil {
		return Expect{}, err
	}
	var e Expect
	if v, ok := f["view"]; ok {
		if e.View, err = p.view(v.val); err != nil {
			return Expect{}, err
		}
	}
	if l, ok := f["leader"]; ok {
		if e.Leader, err = p.peer(l.val, "leader"); err != nil {
			return Expect{}, err
		}
		if e.View != nil && !slices.Contains(e.View, e.Leader) {
			return Expect{}, p.errf(l.val.Line, "expect.leader %d is not in expect.view %s", e.Leader, protocol.FormatMembers(e.View))
		}
	}
	w, ok := f["within"]
	if !ok {
		return Expect{}, p.errf(block.key.Line, "expect needs within: the time by which it must hold, e.g. within: 30s")
	}
	if e.Within, err = p.positive(w.val, "expect.within"); err != nil {
		return Expect{}, err
	}
	p.lines.expectWithin = w.val.Line
	if r, ok := f["false_removals_max"]; ok {
		n, err := p.integer(r.val, "expect.false_removals_max")
		if err != nil {
			return Expect{}, err
		}
		if n < 0 || n > math.MaxInt32 {
			return Expect{}, p.errf(r.val.Line, "expect.false_removals_max %d: want 0 or more", n)
		}
		max := int(n)
		e.FalseRemovalsMax = &max
	}
	return e, nil
}

// view reads expect.view: sorted and without duplicates, the way a view's
// members are always written, so it compares as is with a peer's view.
func (p *parser) view(n *yaml.Node) ([]protocol.PeerID, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, p.errf(n.Line, "expect.view: expected a list of peer ids like [1, 2, 3], got %s", describe(n))
	}
	if len(n.Content) == 0 {
		return nil, p.errf(n.Line, "expect.view is empty: leave view out to not check it")
	}
	ids := make([]protocol.PeerID, 0, len(n.Content))
	for _, c := range n.Content {
		id, err := p.peer(c, "expect.view")
		if err != nil {
			return nil, err
		}
		if len(ids) > 0 {
			switch prev := ids[len(ids)-1]; {
			case id == prev:
				return nil, p.errf(c.Line, "expect.view lists peer %d twice", id)
			case id < prev:
				return nil, p.errf(c.Line, "expect.view is not sorted: %d after %d", id, prev)
			}
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// liveness reads the liveness block.
func (p *parser) liveness(block field) (*Liveness, error) {
	f, _, err := p.fields(block.val, "liveness", []string{"heal_at", "within", "keep_down"})
	if err != nil {
		return nil, err
	}
	h, okH := f["heal_at"]
	w, okW := f["within"]
	if !okH || !okW {
		return nil, p.errf(block.key.Line, "liveness needs both heal_at and within")
	}
	var l Liveness
	if l.HealAt, err = p.duration(h.val, "liveness.heal_at"); err != nil {
		return nil, err
	}
	if l.Within, err = p.positive(w.val, "liveness.within"); err != nil {
		return nil, err
	}
	p.lines.healAt = h.val.Line
	if k, ok := f["keep_down"]; ok {
		n, err := p.integer(k.val, "liveness.keep_down")
		if err != nil {
			return nil, err
		}
		if n < 0 || 2*n >= int64(p.peers) {
			return nil, p.errf(k.val.Line, "liveness.keep_down %d: want 0 up to fewer than half of the %d peers, so that the rest hold a quorum", n, p.peers)
		}
		l.KeepDown = int(n)
	}
	if l.HealAt > math.MaxInt64-l.Within {
		return nil, p.errf(block.key.Line, "liveness ends too late: heal_at %v + within %v overflows", l.HealAt, l.Within)
	}
	return &l, nil
}

// schedule checks that the phases follow each other, and sets RunFor.
// The expectation is checked at Expect.Within, during the faults; the
// liveness phase heals them at HealAt, so the expectation must come first,
// or it would be checked against peers that the heal has just restarted.
func (p *parser) schedule(s *Scenario, f map[string]field) error {
	need := s.Expect.Within
	if l := s.Liveness; l != nil {
		if last, line := lastAction(s.Timeline); l.HealAt < last {
			return p.errf(p.lines.healAt, "liveness heal_at %v is before the last timeline action (%v, line %d)", l.HealAt, last, line)
		}
		if s.Expect.Within > l.HealAt {
			return p.errf(p.lines.expectWithin, "expect.within %v is after liveness heal_at %v: the expectation is checked before the heal", s.Expect.Within, l.HealAt)
		}
		need = max(need, l.HealAt+l.Within)
	}

	s.RunFor = need
	if r, ok := f["run_for"]; ok {
		d, err := p.duration(r.val, "run_for")
		if err != nil {
			return err
		}
		if d < need {
			return p.errf(r.val.Line, "run_for %v is shorter than the checks need (%v)", d, need)
		}
		s.RunFor = d
	}
	for _, a := range s.Timeline {
		if a.At > s.RunFor {
			return p.errf(a.Line, "timeline entry at %v never happens: the run ends at %v", a.At, s.RunFor)
		}
	}
	return nil
}

// exploreFrom reads explore_from, which s's schedule and timeline must
// allow. Zero is refused rather than read as "not set": leaving the key
// out says that, and an exploration from 0s would replay nothing.
func (p *parser) exploreFrom(x field, s Scenario) (time.Duration, error) {
	d, err := p.positive(x.val, "explore_from")
	if err != nil {
		return 0, err
	}
	// At the end of the run or later, every event would be replayed and
	// none explored: a plain simulation, which needs no explore_from.
	if d >= s.RunFor {
		return 0, p.errf(x.val.Line, "explore_from %v is not before the end of the run (%v): there would be nothing left to explore", d, s.RunFor)
	}
	for _, a := range s.Timeline {
		if a.Kind == ActChurn {
			return 0, p.errf(x.key.Line, "explore_from cannot go with churn (line %d): churn kills and restarts peers drawn at random, "+
				"and an exploration must start from one deterministic state", a.Line)
		}
	}
	return d, nil
}

// lastAction returns when the timeline's last fault ends or last action
// happens, and that entry's line.
func lastAction(tl []Action) (last time.Duration, line int) {
	for _, a := range tl {
		if end := max(a.At, a.Until); end >= last {
			last, line = end, a.Line
		}
	}
	return last, line
}
