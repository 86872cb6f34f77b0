//go:build unix

package netrt

import "syscall"

// setBroadcast sets SO_BROADCAST, without which the kernel refuses to send
// to a broadcast address.
func setBroadcast(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_BROADCAST, 1)
	})
	if err != nil {
		return err
	}
	return serr
}
