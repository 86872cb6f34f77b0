package check

import (
	"strconv"
	"strings"

	"github.com/memberly/memberly/protocol"
)

// Unreachable parses l's message back into the arguments of
// protocol.UnreachableMessage. ok is false for view lines and for any other
// message. Only the exact form UnreachableMessage produces is accepted (no
// leading zeros, p in 1..MaxPeers), so that ok implies
// UnreachableMessage(p, leader) == l.Message: the candidate read from the
// message's first number is rendered again and compared, which keeps the
// wording in protocol alone.
func Unreachable(l protocol.Line) (p protocol.PeerID, leader bool, ok bool) {
	if l.IsView() {
		return 0, false, false
	}
	start := strings.IndexAny(l.Message, "0123456789")
	if start < 0 {
		return 0, false, false
	}
	end := start
	for end < len(l.Message) && '0' <= l.Message[end] && l.Message[end] <= '9' {
		end++
	}
	n, err := strconv.ParseUint(l.Message[start:end], 10, 32)
	if err != nil || n == 0 || n > protocol.MaxPeers {
		return 0, false, false
	}
	for _, leader := range []bool{false, true} {
		if protocol.UnreachableMessage(protocol.PeerID(n), leader) == l.Message {
			return protocol.PeerID(n), leader, true
		}
	}
	return 0, false, false
}
