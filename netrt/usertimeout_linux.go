//go:build linux

package netrt

import (
	"syscall"
	"time"

	"github.com/pkg/errors"
)

// tcpUserTimeout is TCP_USER_TIMEOUT from linux/tcp.h, the same on every
// architecture; the syscall package does not name it.
const tcpUserTimeout = 0x12

// setUserTimeout sets TCP_USER_TIMEOUT on the connection behind rc: the
// kernel aborts the connection when data it sent stays unacknowledged for
// d (see userTimeoutFor).
func setUserTimeout(rc syscall.RawConn, d time.Duration) error {
	var serr error
	err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpUserTimeout, int(d.Milliseconds()))
	})
	if err == nil {
		err = serr
	}
	return errors.Wrap(err, "set TCP_USER_TIMEOUT")
}
