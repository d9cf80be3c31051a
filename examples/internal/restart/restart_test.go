//go:build unix

package restart

import (
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The examples' listener leaves TCP keep-alive off on what it accepts, as
// kahttp's own listener does: Go's default would add four setsockopt calls
// to every connection.
func TestListenKeepsTCPKeepAliveOff(t *testing.T) {
	s, err := New(false, "")
	require.NoError(t, err)
	ln, err := s.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	sc, err := ln.Accept()
	require.NoError(t, err)
	defer sc.Close()
	rc, err := sc.(*net.TCPConn).SyscallConn()
	require.NoError(t, err)
	var on int
	var serr error
	require.NoError(t, rc.Control(func(fd uintptr) {
		on, serr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE)
	}))
	require.NoError(t, serr)
	assert.Zero(t, on, "SO_KEEPALIVE on an accepted connection")
}
