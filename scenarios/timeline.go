package scenarios

import (
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/memberly/memberly/protocol"
)

// actionKinds lists every action, in the order messages name them.
var actionKinds = []ActionKind{ActStart, ActCrash, ActKill, ActRestart, ActLeave, ActEvict,
	ActIsolate, ActSplit, ActCut, ActPause, ActDrop, ActNetwork, ActHook, ActChurn, ActCorrupt, ActTear, ActForceView}

// entryModifiers are the keys of a timeline entry other than its action.
var entryModifiers = []string{"at", "until", "after"}

// entryKeys are the keys a timeline entry may hold: the modifiers and one
// action.
var entryKeys = func() []string {
	keys := slices.Clone(entryModifiers)
	for _, k := range actionKinds {
		keys = append(keys, string(k))
	}
	return keys
}()

// triggeredKinds are the actions that may wait for a message (after).
var triggeredKinds = []ActionKind{ActCrash, ActKill, ActIsolate, ActSplit, ActCut, ActPause, ActDrop, ActEvict}

// timeline reads the timeline in file order. net is the file's network:
// each network change applies to the network in force before it in the
// file, so SetNetwork always holds a whole network.
func (p *parser) timeline(n *yaml.Node, net Network) ([]Action, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, p.errf(n.Line, "timeline: expected a list of entries like - {at: 0s, start: [1]}, got %s", describe(n))
	}
	if len(n.Content) == 0 {
		return nil, p.errf(n.Line, "timeline is empty: it needs at least one entry, e.g. - {at: 0s, start: [1]}")
	}
	actions := make([]Action, 0, len(n.Content))
	for _, e := range n.Content {
		a, err := p.action(e, &net)
		if err != nil {
			return nil, err
		}
		actions = append(actions, a)
	}
	return actions, nil
}

// action reads one timeline entry; a network change updates *net.
func (p *parser) action(n *yaml.Node, net *Network) (Action, error) {
	f, order, err := p.fields(n, "timeline entry", entryKeys)
	if err != nil {
		return Action{}, err
	}
	var kinds []string
	for _, k := range order {
		if !slices.Contains(entryModifiers, k) {
			kinds = append(kinds, k)
		}
	}
	switch len(kinds) {
	case 0:
		return Action{}, p.errf(n.Line, "timeline entry has no action (one of %s)", strings.Join(entryKeys[len(entryModifiers):], ", "))
	case 1:
	default:
		return Action{}, p.errf(n.Line, "timeline entry has %s actions (%s)", countWord(len(kinds)), strings.Join(kinds, ", "))
	}
	at, ok := f["at"]
	if !ok {
		return Action{}, p.errf(n.Line, "timeline entry has no at: when it happens, e.g. at: 5s")
	}
	a := Action{Kind: ActionKind(kinds[0]), Line: n.Line}
	if a.At, err = p.duration(at.val, "at"); err != nil {
		return Action{}, err
	}
	if err := p.actionValue(&a, f[kinds[0]].val, net); err != nil {
		return Action{}, err
	}
	if u, ok := f["until"]; ok {
		if err := p.until(&a, u); err != nil {
			return Action{}, err
		}
	}
	if t, ok := f["after"]; ok {
		if a.After, err = p.trigger(a.Kind, t); err != nil {
			return Action{}, err
		}
	}
	return a, nil
}

// trigger reads after: {type, from, to, delay}, all optional; delay
// defaults to 0.
func (p *parser) trigger(kind ActionKind, t field) (*Trigger, error) {
	if !slices.Contains(triggeredKinds, kind) {
		names := make([]string, len(triggeredKinds))
		for i, k := range triggeredKinds {
			names[i] = string(k)
		}
		return nil, p.errf(t.key.Line, "after is only allowed with %s", strings.Join(names, ", "))
	}
	f, _, err := p.fields(t.val, "after", []string{"type", "from", "to", "delay", "fsync"})
	if err != nil {
		return nil, err
	}
	var tr Trigger
	if tr.Type, tr.From, tr.To, err = p.messageFilter(t.val, f, "after"); err != nil {
		return nil, err
	}
	if d, ok := f["delay"]; ok {
		if tr.Delay, err = p.duration(d.val, "after delay"); err != nil {
			return nil, err
		}
	}
	if fs, ok := f["fsync"]; ok {
		switch {
		case kind != ActCrash && kind != ActKill:
			return nil, p.errf(fs.key.Line, "after fsync is only allowed with crash and kill")
		case tr.Delay != 0:
			return nil, p.errf(fs.key.Line, "after fsync needs no delay: the crash comes at the fsync")
		case fs.val.Kind != yaml.ScalarNode || (fs.val.Value != "before" && fs.val.Value != "after"):
			return nil, p.errf(fs.val.Line, "after fsync: expected before or after, got %s", describe(fs.val))
		}
		tr.BeforeSync = fs.val.Value == "before"
	}
	return &tr, nil
}

// messageFilter reads the type, from and to keys of mapping n, called
// what in messages; each may be absent (zero: any).
func (p *parser) messageFilter(n *yaml.Node, f map[string]field, what string) (ty protocol.MsgType, from, to protocol.PeerID, err error) {
	if t, ok := f["type"]; ok {
		if ty, err = p.msgType(t.val); err != nil {
			return 0, 0, 0, err
		}
	}
	if v, ok := f["from"]; ok {
		if from, err = p.peer(v.val, "from"); err != nil {
			return 0, 0, 0, err
		}
	}
	if v, ok := f["to"]; ok {
		if to, err = p.peer(v.val, "to"); err != nil {
			return 0, 0, 0, err
		}
	}
	if from != 0 && from == to {
		return 0, 0, 0, p.errf(n.Line, "%s from %d to %d matches nothing: from and to must differ", what, from, to)
	}
	return ty, from, to, nil
}

// actionValue reads the value of a's action key into a.
func (p *parser) actionValue(a *Action, v *yaml.Node, net *Network) error {
	what := string(a.Kind)
	var err error
	switch a.Kind {
	case ActStart, ActCrash, ActKill, ActRestart, ActLeave, ActCorrupt, ActTear:
		a.Peers, err = p.peerList(v, what)
	case ActEvict, ActIsolate, ActPause, ActHook, ActForceView:
		a.Peer, err = p.peer(v, what)
	case ActSplit:
		a.Groups, err = p.split(v)
	case ActCut:
		a.From, a.To, err = p.cut(v)
	case ActDrop:
		a.Drop, err = p.drop(v)
	case ActNetwork:
		if *net, err = p.network(v, what, *net); err == nil {
			set := *net
			a.SetNetwork = &set
		}
	case ActChurn:
		a.Churn, err = p.churn(v)
	}
	return err
}

// until reads a's heal time, which only faults that heal may have.
func (p *parser) until(a *Action, u field) error {
	switch a.Kind {
	case ActIsolate, ActSplit, ActCut, ActPause, ActChurn:
	default:
		return p.errf(u.key.Line, "until is only allowed with isolate, split, cut, pause, churn")
	}
	var err error
	if a.Until, err = p.duration(u.val, "until"); err != nil {
		return err
	}
	if a.Until <= a.At {
		return p.errf(u.val.Line, "until (%v) is not after at (%v)", a.Until, a.At)
	}
	return nil
}

// split reads two or more disjoint groups of peers.
func (p *parser) split(n *yaml.Node) ([][]protocol.PeerID, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, p.errf(n.Line, "split: expected a list of groups like [[1, 2], [3, 4, 5]], got %s", describe(n))
	}
	if len(n.Content) < 2 {
		return nil, p.errf(n.Line, "split needs at least 2 groups, got %d", len(n.Content))
	}
	seen := make(map[protocol.PeerID]bool)
	groups := make([][]protocol.PeerID, 0, len(n.Content))
	for _, g := range n.Content {
		ids, err := p.peerList(g, "split group")
		if err != nil {
			return nil, err
		}
		for i, id := range ids {
			if seen[id] {
				return nil, p.errf(g.Content[i].Line, "peer %d is in two split groups", id)
			}
			seen[id] = true
		}
		groups = append(groups, ids)
	}
	return groups, nil
}

// cut reads {from, to}: two different peers.
func (p *parser) cut(n *yaml.Node) (from, to protocol.PeerID, err error) {
	f, _, err := p.fields(n, "cut", []string{"from", "to"})
	if err != nil {
		return 0, 0, err
	}
	fn, okFrom := f["from"]
	tn, okTo := f["to"]
	if !okFrom || !okTo {
		return 0, 0, p.errf(n.Line, "cut needs both from and to")
	}
	if from, err = p.peer(fn.val, "from"); err != nil {
		return 0, 0, err
	}
	if to, err = p.peer(tn.val, "to"); err != nil {
		return 0, 0, err
	}
	if from == to {
		return 0, 0, p.errf(n.Line, "cut from %d to %d: from and to must differ", from, to)
	}
	return from, to, nil
}

// drop reads {type, from, to, count}, all optional; count defaults to 1.
func (p *parser) drop(n *yaml.Node) (Drop, error) {
	f, _, err := p.fields(n, "drop", []string{"type", "from", "to", "count"})
	if err != nil {
		return Drop{}, err
	}
	d := Drop{Count: 1}
	if d.Type, d.From, d.To, err = p.messageFilter(n, f, "drop"); err != nil {
		return Drop{}, err
	}
	if c, ok := f["count"]; ok {
		count, err := p.integer(c.val, "count")
		if err != nil {
			return Drop{}, err
		}
		if count < 1 {
			return Drop{}, p.errf(c.val.Line, "drop count %d must be at least 1", count)
		}
		if count > maxDropCount {
			return Drop{}, p.errf(c.val.Line, "drop count %d is above %d", count, maxDropCount)
		}
		d.Count = int(count)
	}
	return d, nil
}

// maxDropCount keeps Count within an int on every platform; a run never
// sends anywhere near that many messages.
const maxDropCount = 1<<31 - 1

// msgType reads a message type by the name MsgType.String gives it.
func (p *parser) msgType(n *yaml.Node) (protocol.MsgType, error) {
	s, err := p.text(n, "type")
	if err != nil {
		return 0, err
	}
	var names []string
	for t := protocol.MsgType(1); t.Valid(); t++ {
		if t.String() == s {
			return t, nil
		}
		names = append(names, t.String())
	}
	return 0, p.errf(n.Line, "unknown message type %q (one of %s)", s, strings.Join(names, ", "))
}

// churn reads {interval, down_for}, both positive.
func (p *parser) churn(n *yaml.Node) (Churn, error) {
	f, _, err := p.fields(n, "churn", []string{"interval", "down_for"})
	if err != nil {
		return Churn{}, err
	}
	iv, okI := f["interval"]
	dv, okD := f["down_for"]
	if !okI || !okD {
		return Churn{}, p.errf(n.Line, "churn needs both interval and down_for")
	}
	var c Churn
	if c.Interval, err = p.positive(iv.val, "churn interval"); err != nil {
		return Churn{}, err
	}
	if c.DownFor, err = p.positive(dv.val, "churn down_for"); err != nil {
		return Churn{}, err
	}
	// Churn keeps a majority of the universe up: (Peers-1)/2 may be down.
	if p.peers < 3 {
		return Churn{}, p.errf(n.Line, "churn needs at least 3 peers: it keeps a majority up, so with %d none may go down", p.peers)
	}
	return c, nil
}
