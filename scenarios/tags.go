package scenarios

import (
	"go.yaml.in/yaml/v3"

	"github.com/memberly/memberly/protocol"
)

// tags reads the tags block: a mapping of peer ids to mappings of key to
// value, such as
//
//	tags:
//	  1: {role: db, zone: a}
//	  3: {zone: b}
//
// Each pair is judged by protocol.NewTags on its own line, so an error
// names the key at fault; what only the whole set can break (its size)
// is reported at the peer's line. A peer given no pairs ({}) has no tags.
func (p *parser) tags(f field) (map[protocol.PeerID]protocol.Tags, error) {
	n := f.val
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n.Line, "tags: expected a mapping of peer ids to their tags, like 1: {zone: a}, got %s", describe(n))
	}
	var byPeer map[protocol.PeerID]protocol.Tags
	lines := map[protocol.PeerID]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		id, err := p.peer(k, "tags")
		if err != nil {
			return nil, err
		}
		if first, dup := lines[id]; dup {
			return nil, p.errf(k.Line, "tags: peer %d given twice (first at line %d)", id, first)
		}
		lines[id] = k.Line
		t, err := p.peerTags(id, v)
		if err != nil {
			return nil, err
		}
		if t.IsZero() {
			continue
		}
		if byPeer == nil {
			byPeer = map[protocol.PeerID]protocol.Tags{}
		}
		byPeer[id] = t
	}
	return byPeer, nil
}

// peerTags reads the tags of peer id: a mapping of keys to values. A
// value is taken as written, so port: 8080 is the text "8080".
func (p *parser) peerTags(id protocol.PeerID, n *yaml.Node) (protocol.Tags, error) {
	if n.Kind != yaml.MappingNode {
		return protocol.Tags{}, p.errf(n.Line, "tags of peer %d: expected a mapping of keys to values, like {zone: a}, got %s", id, describe(n))
	}
	pairs := make(map[string]string, len(n.Content)/2)
	lines := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !isScalar(k, "!!str", "!!int", "!!float", "!!bool") {
			return protocol.Tags{}, p.errf(k.Line, "tags of peer %d: expected a key, got %s", id, describe(k))
		}
		if first, dup := lines[k.Value]; dup {
			return protocol.Tags{}, p.errf(k.Line, "tags of peer %d: key %q given twice (first at line %d)", id, k.Value, first)
		}
		if !isScalar(v, "!!str", "!!int", "!!float", "!!bool") {
			return protocol.Tags{}, p.errf(v.Line, "tags of peer %d: value of %q: expected text, got %s", id, k.Value, describe(v))
		}
		// One pair at a time first, so that the error names its line.
		if _, err := protocol.NewTags(map[string]string{k.Value: v.Value}); err != nil {
			return protocol.Tags{}, p.errf(k.Line, "tags of peer %d: %w", id, err)
		}
		lines[k.Value] = k.Line
		pairs[k.Value] = v.Value
	}
	t, err := protocol.NewTags(pairs)
	if err != nil {
		return protocol.Tags{}, p.errf(n.Line, "tags of peer %d: %w", id, err)
	}
	return t, nil
}
