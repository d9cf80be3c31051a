package eventloop

import (
	"bytes"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/kahttp/kahttp/internal/tcpinfo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// segmentsIn is how many TCP segments c has received.
func segmentsIn(t *testing.T, c *net.TCPConn) uint32 {
	t.Helper()
	n, err := tcpinfo.SegmentsIn(c)
	require.NoError(t, err)
	return n
}

// A closing connection's last bytes leave with the FIN in their last
// segment. The client's segments in: the SYN-ACK, the request's ACK
// (unless it rides on the answer), the answer with the FIN; a FIN of its
// own would be a fourth.
func TestCloseSendsFINWithLastSegment(t *testing.T) {
	e := start(t, &lineProto{closed: make(chan error, 1)})
	for i := range 20 {
		c := dial(t, e).(*net.TCPConn)
		_, err := io.WriteString(c, "big 100\n")
		require.NoError(t, err)
		got, err := io.ReadAll(c)
		require.NoError(t, err, "the connection ends with a clean close")
		require.Len(t, got, 100)
		assert.LessOrEqual(t, segmentsIn(t, c), uint32(3), "connection %d", i)
		c.Close()
	}
}

// Input left unread at the close makes the kernel answer with an RST,
// which drops whatever was still held back: the last bytes must have
// left with the FIN before it. (Held back until the close, the client
// got the RST alone.)
func TestCloseWithInputUnreadDeliversAnswer(t *testing.T) {
	e := start(t, &lineProto{closed: make(chan error, 1)})
	for i := range 20 {
		c := dial(t, e).(*net.TCPConn)
		// The server answers the first line and closes while the rest
		// is still arriving: its write may fail once the RST is back.
		_, _ = c.Write(append([]byte("big 100\n"), bytes.Repeat([]byte("j"), 1<<20)...))
		got, err := io.ReadAll(c)
		if err != nil {
			require.True(t, errors.Is(err, syscall.ECONNRESET), "connection %d: %v", i, err)
		}
		require.Len(t, got, 100, "connection %d: the answer arrives whole", i)
		c.Close()
	}
}
