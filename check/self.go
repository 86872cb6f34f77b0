package check

import (
	"fmt"

	"github.com/memberly/memberly/protocol"
)

// checkSelf is S4: a peer installs only views that contain it.
func checkSelf(_ *History, peer protocol.PeerID, _ uint64, v protocol.View) string {
	if !v.Contains(peer) {
		return fmt.Sprintf("p%d installed view %s, which does not hold it", peer, v)
	}
	return ""
}
