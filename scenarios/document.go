package scenarios

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/pkg/errors"
	"go.yaml.in/yaml/v3"
)

// decodeDocument turns data into the root node of its one YAML document,
// which must be a mapping. Decoding into a yaml.Node rather than into
// structs keeps every value's line, so each later error can name it.
func decodeDocument(file string, data []byte) (root *yaml.Node, err error) {
	// The library reports its own errors by panicking and recovering; a
	// panic that escapes it is a library bug, and a scenario file is user
	// input, so turn it into an error rather than crash the simulator.
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, fmt.Errorf("%s:1: the YAML library failed on this file: %v", file, r)
		}
	}()

	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s:1: empty file: a scenario needs at least peers, timeline and expect", file)
		}
		return nil, syntaxError(file, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxError(file, err)
	default:
		return nil, fmt.Errorf("%s:%d: a second YAML document: a scenario file holds exactly one", file, extra.Line)
	}

	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, fmt.Errorf("%s:%d: not a YAML document holding one mapping", file, max(doc.Line, 1))
	}
	root = doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, fmt.Errorf("%s:%d: empty document: a scenario needs at least peers, timeline and expect", file, max(root.Line, 1))
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: the document is %s, not a mapping of keys (peers, timeline, expect, ...)",
			file, root.Line, describe(root))
	}
	if err := noAliases(file, root); err != nil {
		return nil, err
	}
	return root, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// syntaxError keeps the library's line number but moves it to the front,
// in the file:line form every other error has.
func syntaxError(file string, err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s:%s: YAML syntax: %s", file, m[1], msg[len(m[0]):])
	}
	// The library leaves the line out for problems on the first line.
	return fmt.Errorf("%s:1: YAML syntax: %s", file, strings.TrimPrefix(msg, "yaml: "))
}

// noAliases rejects anchors' aliases (*name) and so merge keys: they would
// let one value stand for another elsewhere in the file, which the typed
// walk would have to follow, and a scenario is short enough to spell out.
func noAliases(file string, n *yaml.Node) error {
	if n.Kind == yaml.AliasNode {
		return fmt.Errorf("%s:%d: aliases (*%s) are not supported: write the value out", file, n.Line, n.Value)
	}
	for _, c := range n.Content {
		if err := noAliases(file, c); err != nil {
			return err
		}
	}
	return nil
}
