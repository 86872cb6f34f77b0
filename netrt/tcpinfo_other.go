//go:build !linux || 386

package netrt

import "syscall"

// readTCPInfo tells nothing here: the stall rule falls back to blocked
// writes (stalledWrite).
func readTCPInfo(syscall.RawConn) (tcpProgress, error) { return tcpProgress{}, errNoTCPInfo }
