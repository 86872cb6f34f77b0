package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/memberly/memberly/protocol"
)

// parser walks one file's nodes. Its methods return errors that already
// carry file:line.
type parser struct {
	file  string
	peers int // the universe, once read: peer ids are checked against it

	// lines of values that checks across blocks report on.
	lines struct{ expectWithin, healAt int }
}

// field is one key of a mapping: the key node gives the line of "key:",
// the value node the line of the value (they differ for block values).
type field struct {
	key, val *yaml.Node
}

// fields reads mapping n, called what in messages, whose keys must all be
// in known, each at most once. It returns the fields by key and the keys
// in file order.
func (p *parser) fields(n *yaml.Node, what string, known []string) (map[string]field, []string, error) {
	if n.Kind != yaml.MappingNode {
		return nil, nil, p.errf(n.Line, "%s: expected a mapping of keys (%s), got %s", what, strings.Join(known, ", "), describe(n))
	}
	m := make(map[string]field, len(n.Content)/2)
	var order []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, nil, p.errf(k.Line, "%s: expected a key name, got %s", what, describe(k))
		}
		if !slices.Contains(known, k.Value) {
			return nil, nil, p.errf(k.Line, "unknown key %q in %s (known: %s)", k.Value, what, strings.Join(known, ", "))
		}
		if first, dup := m[k.Value]; dup {
			return nil, nil, p.errf(k.Line, "duplicate key %q in %s (first at line %d)", k.Value, what, first.key.Line)
		}
		m[k.Value] = field{key: k, val: v}
		order = append(order, k.Value)
	}
	return m, order, nil
}

// describe names what a node holds, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	default:
		return "an alias"
	}
}

// isScalar reports whether n is a scalar whose resolved tag is one of tags.
func isScalar(n *yaml.Node, tags ...string) bool {
	return n.Kind == yaml.ScalarNode && slices.Contains(tags, n.ShortTag())
}

// text reads a string value.
func (p *parser) text(n *yaml.Node, what string) (string, error) {
	if !isScalar(n, "!!str") {
		return "", p.errf(n.Line, "%s: expected text, got %s", what, describe(n))
	}
	return n.Value, nil
}

// boolean reads true or false.
func (p *parser) boolean(n *yaml.Node, what string) (bool, error) {
	var b bool
	if !isScalar(n, "!!bool") || n.Decode(&b) != nil {
		return false, p.errf(n.Line, "%s: expected true or false, got %s", what, describe(n))
	}
	return b, nil
}

// integer reads a whole number.
func (p *parser) integer(n *yaml.Node, what string) (int64, error) {
	var v int64
	if !isScalar(n, "!!int") || n.Decode(&v) != nil {
		return 0, p.errf(n.Line, "%s: expected a whole number, got %s", what, describe(n))
	}
	return v, nil
}

// percent reads a number in 0..100.
func (p *parser) percent(n *yaml.Node, what string) (float64, error) {
	var v float64
	if !isScalar(n, "!!int", "!!float") || n.Decode(&v) != nil {
		return 0, p.errf(n.Line, "%s: expected a number in 0..100, got %s", what, describe(n))
	}
	if !(v >= 0 && v <= 100) { // written so that NaN fails too
		return 0, p.errf(n.Line, "%s %s outside 0..100", what, strconv.FormatFloat(v, 'g', -1, 64))
	}
	return v, nil
}

// duration reads a Go duration string such as 1.1s or 500ms. Bare numbers
// are refused, "0" aside: a unit-less 2 could mean seconds or
// milliseconds, and guessing wrong would silently change the scenario.
func (p *parser) duration(n *yaml.Node, what string) (time.Duration, error) {
	if !isScalar(n, "!!str", "!!int", "!!float") {
		return 0, p.errf(n.Line, "%s: expected a duration like 2s or 500ms, got %s", what, describe(n))
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil {
		if _, ferr := strconv.ParseFloat(n.Value, 64); ferr == nil || n.ShortTag() != "!!str" {
			return 0, p.errf(n.Line, "bad duration %q: durations need a unit, e.g. 2s", n.Value)
		}
		return 0, p.errf(n.Line, "bad duration %q: %v", n.Value, err)
	}
	if d < 0 {
		return 0, p.errf(n.Line, "bad duration %q: must not be negative", n.Value)
	}
	return d, nil
}

// positive reads a duration that must be above zero.
func (p *parser) positive(n *yaml.Node, what string) (time.Duration, error) {
	d, err := p.duration(n, what)
	if err == nil && d == 0 {
		err = p.errf(n.Line, "%s must be positive, got %v", what, d)
	}
	return d, err
}

// peer reads one peer id, 1..peers.
func (p *parser) peer(n *yaml.Node, what string) (protocol.PeerID, error) {
	v, err := p.integer(n, what)
	if err != nil {
		return 0, err
	}
	if v < 1 || v > int64(p.peers) {
		return 0, p.errf(n.Line, "peer %d out of range 1..%d", v, p.peers)
	}
	return protocol.PeerID(v), nil
}

// peerList reads a non-empty list of distinct peer ids, in file order.
func (p *parser) peerList(n *yaml.Node, what string) ([]protocol.PeerID, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, p.errf(n.Line, "%s: expected a list of peer ids like [1, 2], got %s", what, describe(n))
	}
	if len(n.Content) == 0 {
		return nil, p.errf(n.Line, "%s: the list of peers is empty", what)
	}
	ids := make([]protocol.PeerID, 0, len(n.Content))
	for _, c := range n.Content {
		id, err := p.peer(c, what)
		if err != nil {
			return nil, err
		}
		if slices.Contains(ids, id) {
			return nil, p.errf(c.Line, "%s: peer %d listed twice", what, id)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// numberWords spells small counts for messages ("two actions").
var numberWords = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
	"eleven", "twelve", "thirteen"}

func countWord(n int) string {
	if n >= 0 && n < len(numberWords) {
		return numberWords[n]
	}
	return fmt.Sprint(n)
}
