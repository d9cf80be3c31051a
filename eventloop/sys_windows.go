//go:build windows

package eventloop

import "errors"

// Windows has no SO_REUSEPORT: Config.ReusePort is refused there.
func setReusePort(uintptr) error {
	return errors.New("eventloop: SO_REUSEPORT is not supported on Windows")
}

// No spare descriptor on Windows: sockets are handles there, and running
// out of them does not fail accept the way EMFILE does.
func openSpareSource() (int, error) { return -1, errors.ErrUnsupported }
func dupSpare(int) (int, error)     { return -1, errors.ErrUnsupported }
func closeSpare(int)                {}

// readable: the loops do not assist the accept loop on Windows (assist).
func readable(int) bool { return false }
