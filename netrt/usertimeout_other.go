//go:build !linux

package netrt

import (
	"syscall"
	"time"
)

// setUserTimeout does nothing here: only Linux has TCP_USER_TIMEOUT, and
// elsewhere the link's own stall checks replace a stalled connection.
func setUserTimeout(syscall.RawConn, time.Duration) error { return nil }
