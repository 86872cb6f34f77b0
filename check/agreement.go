package check

import (
	"fmt"
	"slices"

	"github.com/memberly/memberly/protocol"
)

// checkAgreement is S2: all installs of one view id, at any peer, have the
// same members.
func checkAgreement(h *History, peer protocol.PeerID, _ uint64, v protocol.View) string {
	if first, ok := h.views[v.ID]; ok && !sameMembers(first.members, v.Members) {
		return fmt.Sprintf("p%d installed view %d as %s, but p%d installed it as %s at %v",
			peer, v.ID, protocol.FormatMembers(v.Members), first.by, protocol.FormatMembers(first.members), first.at)
	}
	return ""
}

// sameMembers is slices.Equal, done at once when both are the same
// slice: views are immutable, and installs of one view often share it.
func sameMembers(a, b []protocol.PeerID) bool {
	if len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0]) {
		return true
	}
	return slices.Equal(a, b)
}
