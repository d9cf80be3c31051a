//go:build unix

package eventloop

import "golang.org/x/sys/unix"

// setReusePort sets SO_REUSEPORT on a listening socket.
func setReusePort(fd uintptr) error {
	return unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
}

// The spare descriptor (acceptor.spare): a descriptor of /dev/null, and
// dups of it.

func openSpareSource() (int, error) { return unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0) }
func dupSpare(src int) (int, error) { return unix.FcntlInt(uintptr(src), unix.F_DUPFD_CLOEXEC, 0) }
func closeSpare(fd int)             { _ = unix.Close(fd) }

// readable reports whether fd has something to read (a listener: a
// connection to accept), without waiting.
func readable(fd int) bool {
	p := [1]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(p[:], 0)
	return err == nil && n > 0 && p[0].Revents&unix.POLLIN != 0
}
