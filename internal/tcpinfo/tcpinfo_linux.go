package tcpinfo

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// Of is the TCP_INFO of the socket behind rc (the SyscallConn of a
// *net.TCPConn or a *net.TCPListener); an error once it is closed.
func Of(rc syscall.RawConn) (*unix.TCPInfo, error) {
	var info *unix.TCPInfo
	var err error
	if cerr := rc.Control(func(fd uintptr) {
		info, err = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); cerr != nil {
		return nil, cerr
	}
	return info, err
}

// AcceptQueue is the number of connections in the accept queue of a
// listening socket: established by the kernel, not yet accepted. For a
// listener, TCP_INFO's unacked field holds it (what ss shows as Recv-Q).
// 0 when it cannot be told (not a listener, closed).
func AcceptQueue(rc syscall.RawConn) int {
	info, err := Of(rc)
	if err != nil || info.State != tcpListen {
		return 0
	}
	return int(info.Unacked)
}

// tcpListen is TCP_LISTEN in the kernel's TCP states (include/net/tcp_states.h).
const tcpListen = 10

// SegmentsIn is how many TCP segments c has received.
func SegmentsIn(c *net.TCPConn) (uint32, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	info, err := Of(rc)
	if err != nil {
		return 0, err
	}
	return info.Segs_in, nil
}
