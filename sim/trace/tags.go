package trace

import (
	"strings"

	"github.com/memberly/memberly/protocol"
)

// Tags are shown in tooltips only, never in labels: they can be long,
// and a run without them keeps exactly the tooltips it had. A message's
// tooltip shows its tags through Message.String; an install's, through
// viewTags.

// viewTags is the tooltip line that lists the tags a view holds, "" when
// it holds none: "\ntags: p1 zone=a; p3 role=db".
func viewTags(members []protocol.PeerID, tags []protocol.Tags) string {
	var parts []string
	for i, t := range tags {
		if !t.IsZero() && i < len(members) {
			parts = append(parts, "p"+peerNumber(members[i])+" "+t.String())
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "\ntags: " + strings.Join(parts, "; ")
}
