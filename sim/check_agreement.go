package sim

import (
	"fmt"
	"slices"

	"github.com/memberly/memberly/protocol"
)

// checkAgreement is S2: all installs of one view id, at any peer, have the
// same members.
func checkAgreement(h *history, peer protocol.PeerID, _ uint64, v protocol.View) string {
	if first, ok := h.views[v.ID]; ok && !slices.Equal(first.members, v.Members) {
		return fmt.Sprintf("p%d installed view %d as %s, but p%d installed it as %s at %v",
			peer, v.ID, protocol.FormatMembers(v.Members), first.by, protocol.FormatMembers(first.members), first.at)
	}
	return ""
}
