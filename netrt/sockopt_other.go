//go:build !unix

package netrt

import (
	"syscall"

	"github.com/pkg/errors"
)

// setBroadcast is only implemented on unix systems.
func setBroadcast(network, address string, c syscall.RawConn) error {
	return errors.New("netrt: broadcast heartbeats need a unix system")
}
