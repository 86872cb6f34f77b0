package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Tags are a member's metadata: a few key/value pairs its process starts
// with (Event.Tags), such as a role, a zone or a service port. They are
// part of the process, like its incarnation: its JOIN carries them in its
// ADD, the view that adds it holds them, and every later view holding it
// holds them unchanged, so every member that installs a view id holds the
// same tags for each of its members. To change its tags a process
// restarts: a crash-stop one joins again as a new incarnation.
//
// The zero Tags holds none. Tags are immutable and comparable (==).
//
// Invariant: enc is the canonical encoding: "key=value" pairs sorted by
// key, each key once, joined by '\n', at most MaxTagsSize bytes; keys are
// 1..MaxTagKeySize bytes of ASCII letters, digits and "._-/"; values are
// UTF-8 without control characters. The wire and the state file carry enc
// as it is.
type Tags struct{ enc string }

const (
	// MaxTagsSize bounds a member's tags, encoded: the pairs, an '=' in
	// each and a newline between them. 512 bytes is memberlist's bound on
	// a node's metadata: room for a few labels and addresses, small
	// enough that a NEWVIEW of a large view, which carries every member's
	// tags, stays within reach (see MaxMessageSize).
	MaxTagsSize = 512
	// MaxTagKeySize bounds one key, in bytes.
	MaxTagKeySize = 64
)

// ErrBadTags is matched (errors.Is) by every error about tags that cannot
// be carried: a bad key or value, a repeated key, or too many bytes.
var ErrBadTags = errors.New("protocol: bad tags")

// NewTags returns the tags holding the pairs of m, or an error naming the
// first pair that cannot be carried. An empty or nil map gives the zero
// Tags.
func NewTags(m map[string]string) (Tags, error) {
	if len(m) == 0 {
		return Tags{}, nil
	}
	var sb strings.Builder
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if err := checkTag(k, m[k]); err != nil {
			return Tags{}, err
		}
		if i > 0 {
			sb.WriteByte('\n')
		}
		sb.WriteString(k)
		sb.WriteByte('=')
		sb.WriteString(m[k])
		if sb.Len() > MaxTagsSize {
			return Tags{}, fmt.Errorf("%w: more than %d bytes (at key %q)", ErrBadTags, MaxTagsSize, k)
		}
	}
	return Tags{enc: sb.String()}, nil
}

// ParseTags returns the tags given as "key=value" strings (a command
// line's -tag flags), refusing a pair without '=' and a key given twice.
func ParseTags(pairs []string) (Tags, error) {
	m := make(map[string]string, len(pairs))
	for _, kv := range pairs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return Tags{}, fmt.Errorf("%w: %q is not key=value", ErrBadTags, kv)
		}
		if _, dup := m[k]; dup {
			return Tags{}, fmt.Errorf("%w: key %q given twice", ErrBadTags, k)
		}
		m[k] = v
	}
	return NewTags(m)
}

// checkTag reports why key k with value v cannot be carried, or nil.
func checkTag(k, v string) error {
	if k == "" || len(k) > MaxTagKeySize {
		return fmt.Errorf("%w: key %q must be 1 to %d bytes", ErrBadTags, k, MaxTagKeySize)
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '/') {
			return fmt.Errorf("%w: key %q: byte %q is not a letter, digit or one of ._-/", ErrBadTags, k, c)
		}
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%w: value of %q is not UTF-8", ErrBadTags, k)
	}
	if strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return fmt.Errorf("%w: value of %q holds a control character", ErrBadTags, k)
	}
	return nil
}

// decodeTags returns the tags whose encoding is enc, refusing any
// encoding but the canonical one, so that equal tags are equal bytes.
func decodeTags(enc string) (Tags, error) {
	if len(enc) > MaxTagsSize {
		return Tags{}, fmt.Errorf("%w: %d bytes, more than %d", ErrBadTags, len(enc), MaxTagsSize)
	}
	if enc == "" {
		return Tags{}, nil
	}
	prev := ""
	rest := enc
	for i := 0; rest != ""; i++ {
		var kv string
		var more bool
		kv, rest, more = strings.Cut(rest, "\n")
		switch {
		case kv == "":
			return Tags{}, fmt.Errorf("%w: pair %d is empty", ErrBadTags, i)
		case more && rest == "":
			return Tags{}, fmt.Errorf("%w: a newline after the last pair", ErrBadTags)
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return Tags{}, fmt.Errorf("%w: pair %d (%q) is not key=value", ErrBadTags, i, kv)
		}
		if err := checkTag(k, v); err != nil {
			return Tags{}, err
		}
		if i > 0 && k <= prev {
			return Tags{}, fmt.Errorf("%w: key %q not after key %q", ErrBadTags, k, prev)
		}
		prev = k
	}
	return Tags{enc: enc}, nil
}

// Equal reports whether t and o hold the same pairs (as == does; go-cmp
// uses it).
func (t Tags) Equal(o Tags) bool { return t == o }

// IsZero reports whether t holds no pair.
func (t Tags) IsZero() bool { return t.enc == "" }

// Size returns the length of t's encoding in bytes, which MaxTagsSize
// bounds.
func (t Tags) Size() int { return len(t.enc) }

// All calls yield for each pair, sorted by key, until it returns false.
func (t Tags) All(yield func(key, value string) bool) {
	if t.enc == "" {
		return
	}
	for kv := range strings.SplitSeq(t.enc, "\n") {
		k, v, _ := strings.Cut(kv, "=")
		if !yield(k, v) {
			return
		}
	}
}

// Get returns the value of key, and whether t holds it.
func (t Tags) Get(key string) (string, bool) {
	for k, v := range t.All {
		if k == key {
			return v, true
		}
	}
	return "", false
}

// Map returns the pairs as a new map; nil for the zero Tags.
func (t Tags) Map() map[string]string {
	if t.enc == "" {
		return nil
	}
	m := make(map[string]string)
	for k, v := range t.All {
		m[k] = v
	}
	return m
}

// String renders the pairs sorted by key as "key=value,key=value"; "" for
// none.
func (t Tags) String() string { return strings.ReplaceAll(t.enc, "\n", ",") }

// MarshalJSON renders t as a JSON object of its pairs ({} for none).
func (t Tags) MarshalJSON() ([]byte, error) {
	m := t.Map()
	if m == nil {
		m = map[string]string{}
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads a JSON object of string pairs, refusing what NewTags
// refuses.
func (t *Tags) UnmarshalJSON(b []byte) error {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	parsed, err := NewTags(m)
	if err != nil {
		return err
	}
	*t = parsed
	return nil
}
