//go:build !linux

package eventloop

import "syscall"

// acceptQueue cannot be told here: 0, so closing the listener resets the
// connections still queued, as it did before.
func acceptQueue(syscall.RawConn) int { return 0 }
