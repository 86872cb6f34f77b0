package check

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pkg/errors"

	"github.com/memberly/memberly/protocol"
)

// This file reads back the seed's log lines that protocol.Line renders
// (docs/design.md, section 9): what a peer printed, including lines from
// the seed implementation, which may space them differently.

// ParseLine parses one log line as protocol.Line's String renders it, and
// also as the seed or a person might space it. It accepts:
//
//   - surrounding ASCII whitespace, including a trailing "\n" or "\r\n";
//   - spaces or tabs after '{', after each ':', before and after each ',',
//     inside the member list ("[ 1, 2,3 ]") and before '}'.
//
// The keys must be peer_id, view_id, leader and then memb_list or message, in
// that order: the seed always prints them so, and a different order means the
// line is not one of ours. Numbers are unsigned decimal; peer_id and
// members must be in 1..protocol.MaxPeers, leader in 0..protocol.MaxPeers.
// The member list must be non-empty and strictly ascending, the message
// non-empty, without '"', '\' or control characters (see protocol.Line).
//
// Errors read "logline: at byte N: what is wrong", N being the 0-based byte
// offset in s, so that a person can find the fault in a long log line; an
// unterminated message names its opening quote instead. ParseLine never
// panics, whatever s holds.
func ParseLine(s string) (protocol.Line, error) {
	p := parser{s: s}
	l, err := p.line()
	if err != nil {
		return protocol.Line{}, err
	}
	return l, nil
}

// parser walks s once, left to right; pos is the next unread byte.
type parser struct {
	s   string
	pos int
}

// fail returns the error for a problem found at byte at.
func (p *parser) fail(at int, msg string) error {
	return errors.New("logline: at byte " + strconv.Itoa(at) + ": " + msg)
}

// found describes what is at pos, for "expected X, found Y" errors.
func (p *parser) found() string {
	if p.pos >= len(p.s) {
		return "end of line"
	}
	r, _ := utf8.DecodeRuneInString(p.s[p.pos:])
	return strconv.QuoteRune(r)
}

func (p *parser) expected(what string) error {
	return p.fail(p.pos, "expected "+what+", found "+p.found())
}

// skipSpace skips the optional spaces allowed inside a line.
func (p *parser) skipSpace() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

// skipOuterSpace skips the whitespace allowed around a line.
func (p *parser) skipOuterSpace() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\r', '\n', '\v', '\f':
			p.pos++
		default:
			return
		}
	}
}

// lit consumes the literal lit, or fails naming it.
func (p *parser) lit(lit string) error {
	if !strings.HasPrefix(p.s[p.pos:], lit) {
		return p.expected(strconv.Quote(lit))
	}
	p.pos += len(lit)
	return nil
}

// key consumes `key:` and the optional spaces after the colon.
func (p *parser) key(key string) error {
	if err := p.lit(key); err != nil {
		return err
	}
	if err := p.lit(":"); err != nil {
		return err
	}
	p.skipSpace()
	return nil
}

// comma consumes a ',' with optional spaces around it.
func (p *parser) comma() error {
	p.skipSpace()
	if err := p.lit(","); err != nil {
		return err
	}
	p.skipSpace()
	return nil
}

// number consumes an unsigned decimal number no larger than max; name says
// what the number is, for errors. Leading zeros are accepted: they are
// unambiguous, and a hand-written line may have them.
func (p *parser) number(name string, min, max uint64) (uint64, error) {
	start := p.pos
	for p.pos < len(p.s) && '0' <= p.s[p.pos] && p.s[p.pos] <= '9' {
		p.pos++
	}
	if p.pos == start {
		return 0, p.expected("unsigned decimal " + name)
	}
	digits := p.s[start:p.pos]
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || n > max {
		// Show a bounded prefix: the digits may be arbitrarily long.
		if len(digits) > 24 {
			digits = digits[:24] + "..."
		}
		return 0, p.fail(start, name+" "+digits+" out of range (max "+strconv.FormatUint(max, 10)+")")
	}
	if n < min {
		return 0, p.fail(start, name+" "+digits+" out of range (min "+strconv.FormatUint(min, 10)+")")
	}
	return n, nil
}

func (p *parser) line() (protocol.Line, error) {
	var l protocol.Line
	p.skipOuterSpace()
	if err := p.lit("{"); err != nil {
		return protocol.Line{}, err
	}
	p.skipSpace()

	if err := p.key("peer_id"); err != nil {
		return protocol.Line{}, err
	}
	n, err := p.number("peer_id", 1, protocol.MaxPeers)
	if err != nil {
		return protocol.Line{}, err
	}
	l.Peer = protocol.PeerID(n)
	if err := p.comma(); err != nil {
		return protocol.Line{}, err
	}

	if err := p.key("view_id"); err != nil {
		return protocol.Line{}, err
	}
	n, err = p.number("view_id", 0, 1<<64-1)
	if err != nil {
		return protocol.Line{}, err
	}
	l.ViewID = protocol.ViewID(n)
	if err := p.comma(); err != nil {
		return protocol.Line{}, err
	}

	if err := p.key("leader"); err != nil {
		return protocol.Line{}, err
	}
	n, err = p.number("leader", 0, protocol.MaxPeers)
	if err != nil {
		return protocol.Line{}, err
	}
	l.Leader = protocol.PeerID(n)
	if err := p.comma(); err != nil {
		return protocol.Line{}, err
	}

	switch rest := p.s[p.pos:]; {
	case strings.HasPrefix(rest, "memb_list"):
		if err := p.key("memb_list"); err != nil {
			return protocol.Line{}, err
		}
		if l.Members, err = p.members(); err != nil {
			return protocol.Line{}, err
		}
	case strings.HasPrefix(rest, "message"):
		if err := p.key("message"); err != nil {
			return protocol.Line{}, err
		}
		if l.Message, err = p.message(); err != nil {
			return protocol.Line{}, err
		}
	default:
		return protocol.Line{}, p.expected(`"memb_list" or "message"`)
	}

	p.skipSpace()
	if err := p.lit("}"); err != nil {
		return protocol.Line{}, err
	}
	p.skipOuterSpace()
	if p.pos < len(p.s) {
		return protocol.Line{}, p.fail(p.pos, `trailing data after "}": `+p.found())
	}
	return l, nil
}

// members parses a member list: '[', one or more ascending ids, ']'.
func (p *parser) members() ([]protocol.PeerID, error) {
	if err := p.lit("["); err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos < len(p.s) && p.s[p.pos] == ']' {
		// A view always has members: the bootstrap view is [1] and a
		// peer never installs a view without itself.
		return nil, p.fail(p.pos, "empty member list")
	}
	var ids []protocol.PeerID
	for {
		at := p.pos
		n, err := p.number("member id", 1, protocol.MaxPeers)
		if err != nil {
			return nil, err
		}
		id := protocol.PeerID(n)
		if len(ids) > 0 && id <= ids[len(ids)-1] {
			// Views keep members sorted without duplicates (View);
			// a line that breaks this did not come from a view.
			return nil, p.fail(at, "member list not ascending: "+
				strconv.FormatUint(n, 10)+" after "+strconv.FormatUint(uint64(ids[len(ids)-1]), 10))
		}
		ids = append(ids, id)
		p.skipSpace()
		if p.pos < len(p.s) && p.s[p.pos] == ']' {
			p.pos++
			return ids, nil
		}
		if p.pos >= len(p.s) || p.s[p.pos] != ',' {
			return nil, p.expected(`"," or "]"`)
		}
		p.pos++
		p.skipSpace()
	}
}

// message parses a double-quoted message without escapes.
func (p *parser) message() (string, error) {
	open := p.pos
	if err := p.lit(`"`); err != nil {
		return "", err
	}
	start := p.pos
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == '"':
			msg := p.s[start:p.pos]
			if msg == "" {
				return "", p.fail(open, "empty message")
			}
			p.pos++
			return msg, nil
		case c == '\\':
			// The seed's format has no escapes; a backslash would
			// mean the writer thought otherwise.
			return "", p.fail(p.pos, `backslash in message`)
		case c < utf8.RuneSelf:
			if unicode.IsControl(rune(c)) {
				return "", p.fail(p.pos, "control character "+strconv.QuoteRune(rune(c))+" in message")
			}
			p.pos++
		default:
			r, size := utf8.DecodeRuneInString(p.s[p.pos:])
			if r == utf8.RuneError && size == 1 {
				return "", p.fail(p.pos, "invalid UTF-8 in message")
			}
			if unicode.IsControl(r) {
				return "", p.fail(p.pos, "control character "+strconv.QuoteRune(r)+" in message")
			}
			p.pos += size
		}
	}
	// The missing quote has no offset of its own (it would be the end
	// of the line); the opening quote's is the one worth pointing at.
	return "", errors.New("logline: unterminated message string opened at byte " + strconv.Itoa(open))
}
