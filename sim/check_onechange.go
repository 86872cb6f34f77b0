package sim

import (
	"fmt"
	"slices"

	"github.com/memberly/memberly/protocol"
)

// checkOneChange is S3: view id+1 differs from view id by exactly one peer.
func checkOneChange(id protocol.ViewID, a, b viewRecord) string {
	if added, removed := diff(a.members, b.members); len(added)+len(removed) != 1 {
		return fmt.Sprintf("view %d %s and view %d %s differ by %d peers",
			id, protocol.FormatMembers(a.members), id+1, protocol.FormatMembers(b.members), len(added)+len(removed))
	}
	return ""
}

// diff returns the peers of b not in a, and those of a not in b.
func diff(a, b []protocol.PeerID) (added, removed []protocol.PeerID) {
	for _, p := range b {
		if !slices.Contains(a, p) {
			added = append(added, p)
		}
	}
	for _, p := range a {
		if !slices.Contains(b, p) {
			removed = append(removed, p)
		}
	}
	return added, removed
}
