package eventloop

import (
	"context"
	"net"
	"syscall"
)

// listen opens the engine's listening socket. Go sets SO_REUSEADDR on it,
// so a restarted server rebinds its port at once; reusePort adds
// SO_REUSEPORT, so several processes can share the port and the kernel
// spreads connections across them.
func listen(addr string, reusePort bool) (net.Listener, error) {
	lc := net.ListenConfig{
		// gnet's acceptor left TCP keep-alive off; idle connections are the
		// IdleTimeout's business. It also spares two setsockopt per accept.
		KeepAlive: -1,
	}
	if reusePort {
		lc.Control = func(_, _ string, rc syscall.RawConn) error {
			var err error
			if cerr := rc.Control(func(fd uintptr) { err = setReusePort(fd) }); cerr != nil {
				return cerr
			}
			return err
		}
	}
	return lc.Listen(context.Background(), "tcp", addr)
}
