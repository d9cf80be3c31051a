//go:build !linux

package eventloop

// unreadBytes cannot be told here: 0, so a draining server closes a
// connection that looks idle as it did before the check.
func unreadBytes(int) int { return 0 }
