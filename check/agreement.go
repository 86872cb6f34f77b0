package check

import (
	"fmt"
	"slices"

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
		peer, v.ID, DescribeView(v.Members, v.Tags, withTags), first.by, DescribeView(first.members, first.tags, withTags), first.at)
}

// sameMembers is slices.Equal, done at once when both are the same
// slice: views are immutable, and installs of one view often share it.
func sameMembers(a, b []protocol.PeerID) bool {
	if len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0]) {
		return true
	}
	return slices.Equal(a, b)
}

// DescribeView renders a view's members, and with withTags the tags it
// holds for them: "[1,2,3] with tags {1:zone=a;3:role=db,zone=b}", or
// "[1,2,3] with no tags". tags is nil or aligned with members.
func DescribeView(members []protocol.PeerID, tags []protocol.Tags, withTags bool) string {
	s := protocol.FormatMembers(members)
	switch {
	case !withTags:
		return s
	case tags == nil:
		return s + " with no tags"
	}
	return s + " with tags " + protocol.FormatViewTags(members, tags)
}
