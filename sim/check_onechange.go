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

// diff returns the peers of b not in a, and those of a not in b, each in
// the order of its slice. Views hold their members sorted, and then one
// merge walk does it; members read from a log may not be, and are
// compared pairwise.
func diff(a, b []protocol.PeerID) (added, removed []protocol.PeerID) {
	if increasing(a) && increasing(b) {
		i, j := 0, 0
		for i < len(a) || j < len(b) {
			switch {
			case j == len(b) || (i < len(a) && a[i] < b[j]):
				removed = append(removed, a[i])
				i++
			case i == len(a) || b[j] < a[i]:
				added = append(added, b[j])
				j++
			default:
				i++
				j++
			}
		}
		return added, removed
	}
	return diffPairwise(a, b)
}

// diffPairwise is diff for members in any order.
func diffPairwise(a, b []protocol.PeerID) (added, removed []protocol.PeerID) {
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

// increasing reports whether s is sorted with no peer twice.
func increasing(s []protocol.PeerID) bool {
	for i := 1; i < len(s); i++ {
		if s[i] <= s[i-1] {
			return false
		}
	}
	return true
}
