package kahttp_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Serve puts a TCP or unix listener the caller made on the event loops —
// one made with options of its own, or inherited as a file (systemd's
// socket activation, a restart: net.FileListener) — with pipelining,
// keep-alive and the drain as on Start's own.
func TestIntegrationServeListenersOnTheLoops(t *testing.T) {
	t.Parallel()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	inherited, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f, err := inherited.(*net.TCPListener).File() // as a parent process hands it over
	require.NoError(t, err)
	_ = inherited.Close()
	fromFile, err := net.FileListener(f)
	require.NoError(t, err)
	_ = f.Close()
	sock := filepath.Join(t.TempDir(), "kahttp.sock")
	unix, err := net.Listen("unix", sock)
	require.NoError(t, err)

	for name, ln := range map[string]net.Listener{"tcp": tcp, "inherited": fromFile, "unix": unix} {
		t.Run(name, func(t *testing.T) {
			srv := kahttp.NewServer(kahttp.HandlerFunc(echoPath), kahttp.Config{})
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ln) }()
			require.Eventually(t, func() bool { return srv.Addr() != nil }, 5*time.Second, time.Millisecond,
				"the event loops serve it (Addr is theirs)")
			c, err := net.Dial(ln.Addr().Network(), ln.Addr().String())
			require.NoError(t, err)
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			_, err = io.WriteString(c, getReq("/a")+getReq("/b"))
			require.NoError(t, err)
			br := bufio.NewReader(c)
			for _, want := range []string{"GET /a", "GET /b"} {
				r, err := parseResponse(br, false)
				require.NoError(t, err)
				assert.Equal(t, want, string(r.Body))
			}
			assert.EqualValues(t, 1, srv.Stats().ConnsOpen)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			require.NoError(t, srv.Shutdown(ctx))
			assert.ErrorIs(t, <-served, kahttp.ErrServerClosed)
		})
	}
}
