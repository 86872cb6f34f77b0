package check

import (
	"fmt"
	"time"

	"github.com/memberly/memberly/protocol"
)

// checkValidity is S5: a peer is added only after it sent JOIN, and removed
// only after a suspicion, an eviction or a LEAVE, each before the view that
// made the change was first installed.
func checkValidity(h *History, id protocol.ViewID, a, b viewRecord) string {
	added, removed := diff(a.members, b.members)
	for _, p := range added {
		if !anyBefore(h.joins[p], b.at) {
			return fmt.Sprintf("view %d added p%d, which never sent JOIN before %v", id+1, p, b.at)
		}
	}
	for _, p := range removed {
		if !anyBefore(h.reasons[p], b.at) {
			return fmt.Sprintf("view %d removed p%d with no suspicion, eviction or LEAVE before %v", id+1, p, b.at)
		}
	}
	return ""
}

func anyBefore(times []time.Duration, t time.Duration) bool {
	return len(times) > 0 && times[0] <= t
}
