package trace

import (
	"github.com/memberly/memberly/protocol"
)

// Tags are shown in tooltips only, never in labels: they can be long,
// and a run without them keeps exactly the tooltips it had. A message's
// tooltip shows its tags through Message.String; an install's, through
// viewTags.

// viewTags is the tooltip line that lists the tags a view holds, "" when
// it holds none: "\ntags: {1:zone=a;3:role=db}".
func viewTags(members []protocol.PeerID, tags []protocol.Tags) string {
	if tags == nil {
		return ""
	}
	return "\ntags: " + protocol.FormatViewTags(members, tags)
}
