package eventloop

import "golang.org/x/sys/unix"

// sendLast sends b held back (MSG_MORE), for shutWrite to send its last
// segment with the FIN; it returns how much of b the socket took.
func sendLast(fd int, b []byte) (int, error) {
	return unix.SendmsgN(fd, b, nil, nil, unix.MSG_MORE|unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT)
}

// shutWrite sends the FIN, with whatever sendLast held back.
func shutWrite(fd int) { _ = unix.Shutdown(fd, unix.SHUT_WR) }

// finWithLast: settle sends a closing connection's last bytes with writeLast.
const finWithLast = true
