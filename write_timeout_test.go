package kahttp

import (
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A client that stops reading cannot hold a worker or the server's memory
// for ever: once none of its output has been taken for WriteTimeout, the
// connection is closed, its output dropped, and a pooled handler's Write
// fails, so the worker is free again.
func TestWriteTimeoutFreesAStalledWorker(t *testing.T) {
	writeErr := make(chan error, 1)
	piece := make([]byte, 64<<10)
	srv := startServer(t, HandlerFunc(func(w *Response, r *Request) {
		for range 1024 { // 64 MiB, far more than the socket buffers hold
			if _, err := w.Write(piece); err != nil {
				writeErr <- err
				return
			}
		}
		writeErr <- nil
	}), Config{Mode: Pooled, WriteTimeout: 300 * time.Millisecond})

	c := dial(t, srv).(*net.TCPConn)
	_ = c.SetReadBuffer(4096) // and never read
	_, err := io.WriteString(c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	select {
	case err := <-writeErr:
		assert.True(t, errors.Is(err, ErrConnClosed), "Write fails once the connection is closed: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the handler still waits to write to a client that does not read")
	}
	require.Eventually(t, func() bool { return srv.Stats().ClosedBy["write_timeout"] == 1 },
		5*time.Second, 10*time.Millisecond, "closed by %v", srv.Stats().ClosedBy)
}

// The same bound when the server stopped reading a connection whose
// pipelined answers pile up unread (MaxOutboundBytes): the connection is
// closed after WriteTimeout without progress, not kept for IdleTimeout.
func TestWriteTimeoutClosesAPausedConnection(t *testing.T) {
	big := strings.Repeat("x", 16<<10)
	srv := startServer(t, HandlerFunc(func(w *Response, r *Request) { _, _ = w.WriteString(big) }),
		Config{Mode: Inline, WriteTimeout: 300 * time.Millisecond, MaxOutboundBytes: 64 << 10})
	c := dial(t, srv).(*net.TCPConn)
	_ = c.SetReadBuffer(4096) // and never read
	_, err := io.WriteString(c, strings.Repeat("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 2000))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return srv.Stats().ClosedBy["write_timeout"] == 1 },
		10*time.Second, 10*time.Millisecond, "closed by %v", srv.Stats().ClosedBy)
}
