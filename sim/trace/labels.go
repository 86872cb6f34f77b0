package trace

import (
	"unicode/utf8"

	"github.com/memberly/memberly/protocol"
)

// htmlMinorLabel is the short label of a note the seed does not log.
func htmlMinorLabel(n protocol.Note) string {
	s := n.Kind.String()
	switch n.Kind {
	case protocol.NoteCandidate, protocol.NoteLeader, protocol.NoteSteppedDown:
		s += " " + n.Ballot.String()
	case protocol.NoteProposed:
		s += " " + n.Change().String()
	case protocol.NoteSuspicionCleared:
		s += " p" + peerNumber(n.Subject)
	case protocol.NoteLeft:
		if n.TimedOut {
			s += " (timed out)"
		}
	}
	return s
}

// htmlShorten cuts a label to htmlMaxLabel runes; the tooltip keeps it
// whole.
func htmlShorten(s string) string {
	if utf8.RuneCountInString(s) <= htmlMaxLabel {
		return s
	}
	r := []rune(s)
	return string(r[:htmlMaxLabel-1]) + "\u2026"
}

// htmlLabelRows stacks labels in rows: each row remembers where its last label
// ends, and a new label goes in the first row free at its x.
type htmlLabelRows struct{ end []float64 }

// place returns the row (0..n-1) for a label starting at x, and whether it
// is free. When every row is taken it returns the row that frees up first,
// for a label worth an overlap; the caller may also leave the label out.
func (r *htmlLabelRows) place(x float64, label string, n int) (int, bool) {
	w := float64(utf8.RuneCountInString(label))*htmlCharW + htmlLabelGap
	for len(r.end) < n {
		r.end = append(r.end, -1)
	}
	best := 0
	for i, e := range r.end {
		if e <= x {
			r.end[i] = x + w
			return i, true
		}
		if e < r.end[best] {
			best = i
		}
	}
	return best, false
}

// take marks row as used by a label at x, after place found no free one.
func (r *htmlLabelRows) take(row int, x float64, label string) {
	r.end[row] = max(r.end[row], x+float64(utf8.RuneCountInString(label))*htmlCharW+htmlLabelGap)
}
