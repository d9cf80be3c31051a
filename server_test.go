package kahttp

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A restarted server rebinds its port at once (SO_REUSEADDR), even with the
// previous run's connections in TIME_WAIT.
func TestRestartRebindsPortAtOnce(t *testing.T) {
	srv := NewServer(pathHandler, Config{Logger: discardLogger()})
	require.NoError(t, srv.Start("127.0.0.1:0"))
	addr := srv.Addr().String()
	for range 3 { // the server closes these: its side goes to TIME_WAIT
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		_, _ = io.ReadAll(c)
		c.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, srv.Shutdown(ctx))

	again := NewServer(pathHandler, Config{Logger: discardLogger()})
	require.NoError(t, again.Start(addr))
	defer again.Shutdown(ctx)
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	_, _ = io.WriteString(c, "GET /again HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, "/again", string(body))
}

func TestStartRefusesRouterErrors(t *testing.T) {
	rt := NewRouter()
	rt.GET("/a/:x", pathHandler)
	rt.GET("/a/:y/b", pathHandler)
	srv := NewServer(rt, Config{Logger: discardLogger()})
	assert.Error(t, srv.Start("127.0.0.1:0"))
	assert.Nil(t, srv.Addr())
}

func TestStatsCountRequestsPerConnection(t *testing.T) {
	srv := startServer(t, pathHandler, Config{})
	c := dial(t, srv)
	_, _ = io.WriteString(c, "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	_, _ = io.ReadAll(c)
	require.Eventually(t, func() bool { return srv.Stats().ClosedBy["connection_close_asked"] == 1 },
		5*time.Second, time.Millisecond)
	st := srv.Stats()
	assert.Equal(t, int64(2), st.Requests)
	assert.Equal(t, int64(1), st.ConnsAccepted)
	assert.Equal(t, int64(1), st.RequestsPerConn["<=2"])
}

// A server whose listener fails for good (closed underneath it here) stops,
// and Serve (as ListenAndServe) returns why instead of leaving a process
// that serves nothing.
func TestListenAndServeReturnsWhenTheListenerFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := NewServer(pathHandler, Config{Loops: 1, Logger: discardLogger()})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }() // a TCP listener: on the event loops
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})

	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.WriteString(c, "GET /up HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	_ = resp.Body.Close()

	require.NoError(t, ln.Close())
	select {
	case err := <-served:
		assert.ErrorIs(t, err, net.ErrClosed)
		assert.NotErrorIs(t, err, ErrServerClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("ListenAndServe did not return")
	}
	_, err = c.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF, "the stopped server closed its connections")
}
