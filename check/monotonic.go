package check

import (
	"fmt"

	"github.com/memberly/memberly/protocol"
)

// checkMonotonic is S1: each peer installs strictly increasing view ids. A
// restarted peer is a new process, which starts over.
func checkMonotonic(h *History, peer protocol.PeerID, inc uint64, v protocol.View) string {
	if last := h.last[peer]; last.incarnation == inc && v.ID <= last.id {
		return fmt.Sprintf("p%d installed view %d after view %d", peer, v.ID, last.id)
	}
	return ""
}
