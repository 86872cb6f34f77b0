package scenarios

import "github.com/memberly/memberly/protocol"

// Link is one direction between two peers: From's messages to To.
type Link struct{ From, To protocol.PeerID }

// CutLinks returns the links a partition action (isolate, split, cut)
// cuts in a universe of peers 1..peers; nil for any other action. The
// simulator and the explorer both block exactly these.
func (a Action) CutLinks(peers int) []Link {
	var links []Link
	switch a.Kind {
	case ActIsolate:
		for q := protocol.PeerID(1); int(q) <= peers; q++ {
			if q != a.Peer {
				links = append(links, Link{a.Peer, q}, Link{q, a.Peer})
			}
		}
	case ActSplit:
		for gi, g := range a.Groups {
			for gj, h := range a.Groups {
				if gi == gj {
					continue
				}
				for _, x := range g {
					for _, y := range h {
						links = append(links, Link{x, y})
					}
				}
			}
		}
	case ActCut:
		links = append(links, Link{a.From, a.To})
	}
	return links
}
