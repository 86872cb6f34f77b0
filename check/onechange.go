package check

import (
	"fmt"
	"slices"
	"strings"

	"github.com/memberly/memberly/protocol"
)

// checkOneChange is S3: view id+1 differs from view id by exactly the
// operations its decision names, the peers added and removed, and by one
// peer, or with batches (maxChanges above 1) by 1 to maxChanges peers.
// A decision not known (a view read from a log) is judged by the count
// alone.
func checkOneChange(id protocol.ViewID, a, b viewRecord, maxChanges int) string {
	added, removed := diff(a.members, b.members)
	n := len(added) + len(removed)
	switch {
	case maxChanges <= 1 && n != 1:
		return fmt.Sprintf("view %d %s and view %d %s differ by %d peers",
			id, protocol.FormatMembers(a.members), id+1, protocol.FormatMembers(b.members), n)
	case n < 1 || n > maxChanges:
		return fmt.Sprintf("view %d %s and view %d %s differ by %d peers, want 1 to %d",
			id, protocol.FormatMembers(a.members), id+1, protocol.FormatMembers(b.members), n, maxChanges)
	}
	if c := b.change; c.Len() > 0 && !namesExactly(c, added, removed) {
		return fmt.Sprintf("view %d %s and view %d %s differ by %s, but the decision of view %d is %s",
			id, protocol.FormatMembers(a.members), id+1, protocol.FormatMembers(b.members), describeDiff(added, removed), id+1, c)
	}
	return ""
}

// namesExactly reports whether c adds exactly the peers added and removes
// exactly the peers removed.
func namesExactly(c protocol.Change, added, removed []protocol.PeerID) bool {
	if c.Len() != len(added)+len(removed) {
		return false
	}
	for i := range c.Len() {
		op := c.At(i)
		switch {
		case op.Kind == protocol.OpAdd && slices.Contains(added, op.Peer):
		case op.Kind == protocol.OpDel && slices.Contains(removed, op.Peer):
		default:
			return false
		}
	}
	return true
}

// describeDiff renders what two views differ by: "+4 +5 -2".
func describeDiff(added, removed []protocol.PeerID) string {
	var parts []string
	for _, p := range added {
		parts = append(parts, fmt.Sprintf("+%d", p))
	}
	for _, p := range removed {
		parts = append(parts, fmt.Sprintf("-%d", p))
	}
	return strings.Join(parts, " ")
}

// diff returns the peers of b not in a, and those of a not in b, each in
// the order of its slice. Views hold their members sorted, and then one
// merge walk does it; members read from a log may not be, and are
// compared pairwise.
func diff(a, b []protocol.PeerID) (added, removed []protocol.PeerID) {
	if increasing(a) && increasing(b) {
		return protocol.MembersDiff(a, b)
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
