package sim

import (
	"fmt"

	"github.com/memberly/memberly/protocol"
)

// Every process of a peer starts with the tags the scenario gives that
// peer (Scenario.Tags), and a view holds a member's tags as that
// member's JOIN carried them: so every view any peer installs must hold,
// for each of its members, exactly the tags the scenario gave it. S2
// catches two installs of one view id that disagree on tags; this catches
// a view whose tags no process ever had, even when every peer that
// installs it agrees (a recovered ADD re-proposed without its tags, with
// no peer left that installed the original).
//
// It is a safety check, judged at every install as S1-S5 are: a view
// that holds a member with the wrong tags is wrong from then on, and
// every later view keeps those tags. Judged after S1-S5, so that a
// disagreement is reported as the S2 violation it also is.

// propertyTags names the check in a Result.
const propertyTags = "tags"

// checkTags reports how v holds other tags than its members started
// with, or "".
func (w *world) checkTags(peer protocol.PeerID, v protocol.View) string {
	if w.sc.Tags == nil && v.Tags == nil {
		return "" // the common case, at no cost: nobody has tags
	}
	for _, q := range v.Members {
		want, got := w.sc.Tags[q], v.TagsOf(q)
		if got != want {
			return fmt.Sprintf("p%d installed view %s holding %s for p%d, whose processes start with %s",
				peer, v, describeTagSet(got), q, describeTagSet(want))
		}
	}
	return ""
}

// describeTagSet names one member's tags for a message.
func describeTagSet(t protocol.Tags) string {
	if t.IsZero() {
		return "no tags"
	}
	return "tags " + t.String()
}
