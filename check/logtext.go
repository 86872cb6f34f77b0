package check

import (
	"strings"

	"github.com/memberly/memberly/protocol"
)

// ParseLogText parses every log line in text, a peer's stderr or a combined
// log, and counts the other non-empty lines as skipped. A log line may carry
// any prefix before its first '{', such as docker compose's "one_1  | " or the
// simulator's "  12.345s p3 ", because combined logs are where the lines are
// checked. A line holding a '{' that does not parse is skipped too: a caller
// comparing skipped against what it expects sees a garbled line.
func ParseLogText(text string) (lines []protocol.Line, skipped int) {
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
