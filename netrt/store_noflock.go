//go:build !unix || aix

package netrt

import "os"

// lockFile does nothing here: only unix systems with flock lock a data
// directory, so elsewhere nothing stops two processes from sharing one.
func lockFile(*os.File) error { return nil }
