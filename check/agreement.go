package check

import (
	"fmt"
	"slices"
	"strings"

	"github.com/memberly/memberly/protocol"
)

// checkAgreement is S2: all installs of one view id, at any peer, have the
// same members, holding the same tags (protocol.View.Equal): a member's
// tags are part of the view the quorum decided, and two peers that hold
// different tags for it under one view id disagree on that view.
func checkAgreement(h *History, peer protocol.PeerID, _ uint64, v protocol.View) string {
	first, ok := h.views[v.ID]
	if !ok || (sameMembers(first.members, v.Members) && slices.Equal(first.tags, v.Tags)) {
		return ""
	}
	// Tags are shown only when either install has some, so a run without
	// tags reports what it always reported.
	withTags := first.tags != nil || v.Tags != nil
	return fmt.Sprintf("p%d installed view %d as %s, but p%d installed it as %s at %v",
		peer, v.ID, describeInstall(v.Members, v.Tags, withTags), first.by, describeInstall(first.members, first.tags, withTags), first.at)
}

// sameMembers is slices.Equal, done at once when both are the same
// slice: views are immutable, and installs of one view often share it.
func sameMembers(a, b []protocol.PeerID) bool {
	if len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0]) {
		return true
	}
	return slices.Equal(a, b)
}

// describeInstall renders a view's members, and with withTags the tags it
// holds for them: "[1,2,3] with tags {p1: zone=a; p3: role=db,zone=b}",
// or "[1,2,3] with no tags". tags is nil or aligned with members.
func describeInstall(members []protocol.PeerID, tags []protocol.Tags, withTags bool) string {
	s := protocol.FormatMembers(members)
	if !withTags {
		return s
	}
	var parts []string
	for i, t := range tags {
		if !t.IsZero() && i < len(members) {
			parts = append(parts, fmt.Sprintf("p%d: %s", members[i], t))
		}
	}
	if len(parts) == 0 {
		return s + " with no tags"
	}
	return s + " with tags {" + strings.Join(parts, "; ") + "}"
}
