package eventloop

import "golang.org/x/sys/unix"

// acceptQueue is the number of connections in the accept queue of fd, a
// listening TCP socket: established by the kernel, not yet accepted. For
// a listener, TCP_INFO's unacked field holds it (what ss shows as Recv-Q).
// 0 when it cannot be told.
func acceptQueue(fd int) int {
	if fd < 0 {
		return 0
	}
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil || info.State != tcpListen {
		return 0
	}
	return int(info.Unacked)
}

// tcpListen is TCP_LISTEN in the kernel's TCP states (include/net/tcp_states.h).
const tcpListen = 10
