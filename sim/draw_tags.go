package sim

import (
	"github.com/memberly/memberly/protocol"
)

// tagKeys and tagValues are what drawn tags are made of: a few small
// labels, as a zone or a role would be.
var (
	tagKeys   = []string{"zone", "role", "rack", "version"}
	tagValues = []string{"a", "b", "c", "db", "web", "1.2.3"}
)

// drawTags gives each of peers 1..n, but a third of them, one or two
// small tags; nil when it happens to tag none. Tags change nothing the
// protocol decides, only what its views carry: they are there for the
// checkers to see a member's tags lost or changed on the way, above all
// through a new leader's recovery of a tagged ADD.
func drawTags(d drawer, n int) map[protocol.PeerID]protocol.Tags {
	var tags map[protocol.PeerID]protocol.Tags
	for id := 1; id <= n; id++ {
		if d.oneIn(3, "untaggedPeer") {
			continue
		}
		pairs := map[string]string{}
		keys := tagKeys
		for range d.intRange(1, 2, "tagCount") {
			i := d.intRange(0, len(keys)-1, "tagKey")
			pairs[keys[i]] = pick(d, tagValues, "tagValue")
			keys = append(keys[:i:i], keys[i+1:]...) // each key once
		}
		t, err := protocol.NewTags(pairs)
		if err != nil {
			panic(err) // the keys and values above are all valid
		}
		if tags == nil {
			tags = map[protocol.PeerID]protocol.Tags{}
		}
		tags[protocol.PeerID(id)] = t
	}
	return tags
}
