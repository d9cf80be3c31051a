package eventloop

import "golang.org/x/sys/unix"

// unreadBytes is the number of bytes in fd's receive queue (SIOCINQ, the
// same request as FIONREAD); 0 when it cannot be told.
func unreadBytes(fd int) int {
	n, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
	if err != nil {
		return 0
	}
	return n
}
