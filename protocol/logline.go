package protocol

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file renders and parses the seed's log lines (docs/design.md, section 9). They
// are the observable contract of a peer: the seed's test harness greps a
// peer's stderr for them, so String must reproduce them byte for byte, and
// ParseLine lets our own tools (simulator checks, log scrapers) read back what
// a peer printed, including lines from the seed implementation, which may
// space them differently.

// Message texts of the seed's non-view log lines. They are fixed strings
// because the seed's harness matches them literally.
const (
	// MessageCrashing is logged by a peer just before it crashes.
	MessageCrashing = "crashing"
	// MessageRemoved is logged by a peer that learned it is not in the view.
	MessageRemoved = "removed from view"
)

// Line is one of the seed's log lines:
//
//	{peer_id:1, view_id: 1, leader: 1, memb_list: [1]}
//	{peer_id:2, view_id: 3, leader: 1, message:"peer 5 unreachable"}
//
// A valid Line has exactly one of its two bodies set:
//
//   - a view line: Members is non-nil, non-empty, strictly ascending, each
//     member in 1..MaxPeers, and Message is empty;
//   - a message line: Members is nil and Message is non-empty, valid UTF-8,
//     and holds no '"', no '\' and no control characters. The seed's format
//     has no escapes, so such a byte could not be written back unambiguously;
//     excluding them is what lets ParseLine read every String of a valid Line.
//
// The header holds the logging peer's id (1..MaxPeers), its view id and the
// leader it follows (0..MaxPeers; 0 means no leader known).
//
// When both bodies are set, the Line counts as a view line (IsView) and String
// ignores Message. String renders invalid Lines too, so that a bug is visible
// in the log rather than hidden, but ParseLine rejects what it renders.
type Line struct {
	Peer    PeerID
	ViewID  ViewID
	Leader  PeerID
	Members []PeerID
	Message string
}

// IsView reports whether l is a view line (memb_list) rather than a message
// line. Members being non-nil decides, so that a Line built from a view note
// with an (invalid) empty member list still renders as a view line.
func (l Line) IsView() bool {
	return l.Members != nil
}

// String renders l exactly as the seed prints it, spacing included: no space
// after "peer_id:", one after the other colons of the header and after
// "memb_list:", none after "message:", and members as FormatMembers renders
// them ([1,2,3]).
func (l Line) String() string {
	// One buffer, sized for the usual line (the longest fixed one, a
	// leader's unreachable message, is about 80 bytes), stays on the stack
	// and keeps FormatNote to few allocations: it runs for every note a
	// peer logs.
	buf := make([]byte, 0, 128)
	buf = append(buf, "{peer_id:"...)
	buf = strconv.AppendUint(buf, uint64(l.Peer), 10)
	buf = append(buf, ", view_id: "...)
	buf = strconv.AppendUint(buf, uint64(l.ViewID), 10)
	buf = append(buf, ", leader: "...)
	buf = strconv.AppendUint(buf, uint64(l.Leader), 10)
	if l.IsView() {
		buf = append(buf, ", memb_list: "...)
		// FormatMembers is the one rendering of member lists in the
		// package; using it keeps log lines and View.String in step.
		buf = append(buf, FormatMembers(l.Members)...)
	} else {
		buf = append(buf, `, message:"`...)
		buf = append(buf, l.Message...)
		buf = append(buf, '"')
	}
	buf = append(buf, '}')
	return string(buf)
}

const (
	unreachablePrefix       = "peer "
	unreachableSuffix       = " unreachable"
	unreachableLeaderSuffix = " (leader) unreachable"
)

// UnreachableMessage returns the message a peer logs when it suspects p:
// "peer 5 unreachable", or "peer 1 (leader) unreachable" when p was the leader
// it followed.
func UnreachableMessage(p PeerID, leader bool) string {
	// One concatenation per branch: one allocation per suspicion logged.
	if leader {
		return unreachablePrefix + strconv.FormatUint(uint64(p), 10) + unreachableLeaderSuffix
	}
	return unreachablePrefix + strconv.FormatUint(uint64(p), 10) + unreachableSuffix
}

// Unreachable parses l's message back into the arguments of
// UnreachableMessage. ok is false for view lines and for any other message.
// Only the exact form UnreachableMessage produces is accepted (no leading
// zeros, p in 1..MaxPeers), so that ok implies
// UnreachableMessage(p, leader) == l.Message.
func (l Line) Unreachable() (p PeerID, leader bool, ok bool) {
	if l.IsView() {
		return 0, false, false
	}
	rest, found := strings.CutPrefix(l.Message, unreachablePrefix)
	if !found {
		return 0, false, false
	}
	if r, found := strings.CutSuffix(rest, unreachableLeaderSuffix); found {
		rest, leader = r, true
	} else if r, found := strings.CutSuffix(rest, unreachableSuffix); found {
		rest = r
	} else {
		return 0, false, false
	}
	n, err := strconv.ParseUint(rest, 10, 32)
	if err != nil || n == 0 || n > MaxPeers || strconv.FormatUint(n, 10) != rest {
		return 0, false, false
	}
	return PeerID(n), leader, true
}

// NoteLine returns the seed log line for n, and false for notes the seed
// never logs (candidacy, leadership, proposals, cleared suspicions, leaves):
// printing extra lines in the seed's format could confuse its harness.
//
// A view note keeps n.Members without copying; notes' member slices are never
// modified (see Output). A view note with nil Members still yields a view line
// (memb_list: []) so the bug shows in the log.
func NoteLine(n Note) (Line, bool) {
	l := Line{Peer: n.Peer, ViewID: n.ViewID, Leader: n.Leader}
	switch n.Kind {
	case NoteViewInstalled:
		l.Members = n.Members
		if l.Members == nil {
			l.Members = []PeerID{}
		}
	case NoteSuspected:
		l.Message = UnreachableMessage(n.Subject, n.SubjectWasLeader)
	case NoteCrashing:
		l.Message = MessageCrashing
	case NoteRemoved:
		l.Message = MessageRemoved
	default:
		return Line{}, false
	}
	return l, true
}

// FormatNote returns the seed log line for n as text (without a newline), and
// false for notes the seed never logs. It is what a driver writes to stderr.
func FormatNote(n Note) (string, bool) {
	l, ok := NoteLine(n)
	if !ok {
		return "", false
	}
	return l.String(), true
}

// ParseLine parses one log line as String renders it, and also as the seed
// or a person might space it. It accepts:
//
//   - surrounding ASCII whitespace, including a trailing "\n" or "\r\n";
//   - spaces or tabs after '{', after each ':', before and after each ',',
//     inside the member list ("[ 1, 2,3 ]") and before '}'.
//
// The keys must be peer_id, view_id, leader and then memb_list or message, in
// that order: the seed always prints them so, and a different order means the
// line is not one of ours. Numbers are unsigned decimal; peer_id and members
// must be in 1..MaxPeers, leader in 0..MaxPeers. The member list must be
// non-empty and strictly ascending, the message non-empty, without '"', '\'
// or control characters (see Line).
//
// Errors read "logline: at byte N: what is wrong", N being the 0-based byte
// offset in s, so that a person can find the fault in a long log line; an
// unterminated message names its opening quote instead. ParseLine never
// panics, whatever s holds.
func ParseLine(s string) (Line, error) {
	p := parser{s: s}
	l, err := p.line()
	if err != nil {
		return Line{}, err
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

func (p *parser) line() (Line, error) {
	var l Line
	p.skipOuterSpace()
	if err := p.lit("{"); err != nil {
		return Line{}, err
	}
	p.skipSpace()

	if err := p.key("peer_id"); err != nil {
		return Line{}, err
	}
	n, err := p.number("peer_id", 1, MaxPeers)
	if err != nil {
		return Line{}, err
	}
	l.Peer = PeerID(n)
	if err := p.comma(); err != nil {
		return Line{}, err
	}

	if err := p.key("view_id"); err != nil {
		return Line{}, err
	}
	n, err = p.number("view_id", 0, 1<<64-1)
	if err != nil {
		return Line{}, err
	}
	l.ViewID = ViewID(n)
	if err := p.comma(); err != nil {
		return Line{}, err
	}

	if err := p.key("leader"); err != nil {
		return Line{}, err
	}
	n, err = p.number("leader", 0, MaxPeers)
	if err != nil {
		return Line{}, err
	}
	l.Leader = PeerID(n)
	if err := p.comma(); err != nil {
		return Line{}, err
	}

	switch rest := p.s[p.pos:]; {
	case strings.HasPrefix(rest, "memb_list"):
		if err := p.key("memb_list"); err != nil {
			return Line{}, err
		}
		if l.Members, err = p.members(); err != nil {
			return Line{}, err
		}
	case strings.HasPrefix(rest, "message"):
		if err := p.key("message"); err != nil {
			return Line{}, err
		}
		if l.Message, err = p.message(); err != nil {
			return Line{}, err
		}
	default:
		return Line{}, p.expected(`"memb_list" or "message"`)
	}

	p.skipSpace()
	if err := p.lit("}"); err != nil {
		return Line{}, err
	}
	p.skipOuterSpace()
	if p.pos < len(p.s) {
		return Line{}, p.fail(p.pos, `trailing data after "}": `+p.found())
	}
	return l, nil
}

// members parses a member list: '[', one or more ascending ids, ']'.
func (p *parser) members() ([]PeerID, error) {
	if err := p.lit("["); err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos < len(p.s) && p.s[p.pos] == ']' {
		// A view always has members: the bootstrap view is [1] and a
		// peer never installs a view without itself.
		return nil, p.fail(p.pos, "empty member list")
	}
	var ids []PeerID
	for {
		at := p.pos
		n, err := p.number("member id", 1, MaxPeers)
		if err != nil {
			return nil, err
		}
		id := PeerID(n)
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

// ParseLogText parses every log line in text, a peer's stderr or a combined
// log, and counts the other non-empty lines as skipped. A log line may carry
// any prefix before its first '{', such as docker compose's "one_1  | " or the
// simulator's "  12.345s p3 ", because combined logs are where the lines are
// checked. A line holding a '{' that does not parse is skipped too: a caller
// comparing skipped against what it expects sees a garbled line.
func ParseLogText(text string) (lines []Line, skipped int) {
	for len(text) > 0 {
		var line string
		line, text, _ = strings.Cut(text, "\n")
		if strings.TrimSpace(line) == "" {
			continue
		}
		i := strings.IndexByte(line, '{')
		if i < 0 {
			skipped++
			continue
		}
		l, err := ParseLine(line[i:])
		if err != nil {
			skipped++
			continue
		}
		lines = append(lines, l)
	}
	return lines, skipped
}
