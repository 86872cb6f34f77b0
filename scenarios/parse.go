package scenarios

import (
	"fmt"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/memberly/memberly/protocol"
)

// Parse reads one scenario file. name says where data came from (a path
// such as "scenarios/join.yaml"): every error starts with name:line, and
// the scenario's Name is name's base without ".yaml". Parse is strict:
// unknown keys, values of the wrong kind and inconsistent checks are
// errors, so that a typo never silently changes what a scenario tests.
func Parse(name string, data []byte) (Scenario, error) {
	root, err := decodeDocument(name, data)
	if err != nil {
		return Scenario{}, err
	}
	p := &parser{file: name}
	s, err := p.scenario(root)
	if err != nil {
		return Scenario{}, err
	}
	s.Name = strings.TrimSuffix(filepath.Base(name), ".yaml")
	s.File = name
	return s, nil
}

var topKeys = []string{"description", "peers", "tags", "durable", "timing", "network", "timeline", "expect", "liveness", "run_for", "explore_from", "schedule"}

// scenario reads the top-level mapping. It reads the keys in a fixed order
// rather than file order, because peer ids anywhere are checked against
// peers, timeline network changes start from the file's network, and
// explore_from is checked against the run's end and its timeline.
func (p *parser) scenario(root *yaml.Node) (Scenario, error) {
	f, _, err := p.fields(root, "scenario", topKeys)
	if err != nil {
		return Scenario{}, err
	}
	s := Scenario{Timing: protocol.DefaultConfig(), Network: DefaultNetwork()}

	if d, ok := f["description"]; ok {
		text, err := p.text(d.val, "description")
		if err != nil {
			return Scenario{}, err
		}
		s.Description = strings.TrimSpace(text)
	}

	if err := p.universe(root, f, &s); err != nil {
		return Scenario{}, err
	}
	if t, ok := f["tags"]; ok {
		if s.Tags, err = p.tags(t); err != nil {
			return Scenario{}, err
		}
	}
	if t, ok := f["timing"]; ok {
		if s.Timing, err = p.timing(t); err != nil {
			return Scenario{}, err
		}
	}
	if d, ok := f["durable"]; ok {
		if s.Timing.Durable, err = p.boolean(d.val, "durable"); err != nil {
			return Scenario{}, err
		}
	}
	if n, ok := f["network"]; ok {
		if s.Network, err = p.network(n.val, "network", s.Network); err != nil {
			return Scenario{}, err
		}
	}

	t, ok := f["timeline"]
	if !ok {
		return Scenario{}, p.errf(root.Line, "missing timeline: the list of what happens when, e.g. - {at: 0s, start: [1]}")
	}
	if s.Timeline, err = p.timeline(t.val, s.Network); err != nil {
		return Scenario{}, err
	}
	if !s.Timing.Durable {
		for _, a := range s.Timeline {
			switch {
			case a.Kind == ActCorrupt || a.Kind == ActTear:
				return Scenario{}, p.errf(a.Line, "%s damages a state file, which only durable peers keep: add durable: true", a.Kind)
			case a.After != nil && a.After.BeforeSync:
				return Scenario{}, p.errf(a.Line, "after fsync: before needs durable peers, which sync their state: add durable: true")
			}
		}
	}

	e, ok := f["expect"]
	if !ok {
		return Scenario{}, p.errf(root.Line, "missing expect: what must hold, at least within: (a duration)")
	}
	if s.Expect, err = p.expect(e); err != nil {
		return Scenario{}, err
	}
	if l, ok := f["liveness"]; ok {
		if s.Liveness, err = p.liveness(l); err != nil {
			return Scenario{}, err
		}
	}
	if err := p.schedule(&s, f); err != nil {
		return Scenario{}, err
	}
	if x, ok := f["explore_from"]; ok {
		if s.ExploreFrom, err = p.exploreFrom(x, s); err != nil {
			return Scenario{}, err
		}
	}
	if sf, ok := f["schedule"]; ok {
		if s.Schedule, err = p.steps(sf, s); err != nil {
			return Scenario{}, err
		}
	}
	return s, nil
}

// steps reads schedule: a list of explorer steps, one a line, which only
// a scenario with explore_from can have. Their language is the
// explorer's; it judges them when it replays them.
func (p *parser) steps(f field, s Scenario) ([]string, error) {
	if s.ExploreFrom == 0 {
		return nil, p.errf(f.key.Line, "schedule needs explore_from: the steps follow the state the timeline reaches by then")
	}
	if f.val.Kind != yaml.SequenceNode || len(f.val.Content) == 0 {
		return nil, p.errf(f.val.Line, "schedule: expected a list of steps like - deliver p3->p1, got %s", describe(f.val))
	}
	steps := make([]string, 0, len(f.val.Content))
	for _, n := range f.val.Content {
		t, err := p.text(n, "schedule step")
		if err != nil {
			return nil, err
		}
		steps = append(steps, t)
	}
	return steps, nil
}

// universe reads peers, which every peer id in the file is checked against.
func (p *parser) universe(root *yaml.Node, f map[string]field, s *Scenario) error {
	pf, ok := f["peers"]
	if !ok {
		return p.errf(root.Line, "missing peers: how many peers the universe holds, 1..%d", protocol.MaxPeers)
	}
	n, err := p.integer(pf.val, "peers")
	if err != nil {
		return err
	}
	if n < 1 || n > protocol.MaxPeers {
		return p.errf(pf.val.Line, "peers %d out of range 1..%d", n, protocol.MaxPeers)
	}
	p.peers = int(n)
	s.Peers = p.peers
	return nil
}

// errf formats an error at line of the file being parsed: "file:line: msg".
func (p *parser) errf(line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %w", p.file, line, fmt.Errorf(format, args...))
}
