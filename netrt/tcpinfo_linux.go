//go:build linux && !386

package netrt

import (
	"syscall"
	"time"
	"unsafe"

	"github.com/pkg/errors"
)

// readTCPInfo reads the kernel's struct tcp_info for the connection
// behind rc. The syscall package exports no getsockopt that fills a
// struct, so this issues the system call itself; on 386, where it goes
// through socketcall, tcpinfo_other.go stands in. The kernel fills
// min(size, its own struct's) bytes: syscall.TCPInfo is the struct's
// first version, whose fields every kernel since 2.6 fills.
func readTCPInfo(rc syscall.RawConn) (tcpProgress, error) {
	var info syscall.TCPInfo
	size := uint32(syscall.SizeofTCPInfo)
	var errno syscall.Errno
	err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.IPPROTO_TCP, syscall.TCP_INFO,
			uintptr(unsafe.Pointer(&info)), uintptr(unsafe.Pointer(&size)), 0)
	})
	if err != nil {
		return tcpProgress{}, errors.Wrap(err, "read TCP_INFO")
	}
	if errno != 0 {
		return tcpProgress{}, errors.Wrap(errno, "read TCP_INFO")
	}
	return tcpProgress{
		unacked:     info.Unacked,
		sinceAck:    time.Duration(info.Last_ack_recv) * time.Millisecond,
		retransmits: info.Retransmits,
		backoff:     info.Backoff,
		rto:         time.Duration(info.Rto) * time.Microsecond,
	}, nil
}
