package check

import (
	"strconv"
	"strings"
)

// OperatorLine is a line a peer prints for its operator in slog's text
// format, beside the seed's lines: a durable peer's resumes and forced
// views, a keyed peer's reloads, start-up errors. For example:
//
//	time=... level=INFO msg=resumed peer_id=2 view_id=5 leader=1 members=[1,2,3,4,5] ballot=(3,1)
type OperatorLine struct {
	Level, Msg string
	// Fields holds every key=value of the line, time, level and msg
	// included.
	Fields map[string]string
}

// ParseOperatorLine parses a slog text line: key=value pairs, a value
// quoted when it holds spaces. ok is false for anything else, a seed line
// included, and for a line without a level or a msg.
func ParseOperatorLine(s string) (OperatorLine, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "time=") {
		return OperatorLine{}, false
	}
	l := OperatorLine{Fields: map[string]string{}}
	for s != "" {
		key, rest, ok := strings.Cut(s, "=")
		if !ok || key == "" || strings.ContainsAny(key, ` "`) {
			return OperatorLine{}, false
		}
		var value string
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return OperatorLine{}, false
			}
			value, _ = strconv.Unquote(q)
			rest = rest[len(q):]
		} else {
			value, rest, _ = strings.Cut(rest, " ")
		}
		l.Fields[key] = value
		s = strings.TrimLeft(rest, " ")
	}
	l.Level, l.Msg = l.Fields["level"], l.Fields["msg"]
	return l, l.Level != "" && l.Msg != ""
}
