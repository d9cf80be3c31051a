package kahttp_test

import (
	"bufio"
	"context"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIntegrationShutdownRefusesNewConnections: once the drain has begun,
// a new connection is refused, so the client can retry elsewhere, instead
// of being accepted and then dropped unanswered; the request in progress
// still completes.
func TestIntegrationShutdownRefusesNewConnections(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	srv, addr := startServer(t, kahttp.Config{Mode: kahttp.Pooled}, func(w *kahttp.Response, r *kahttp.Request) {
		if r.Path() == "/block" {
			started <- struct{}{}
			select {
			case <-release:
			case <-time.After(5 * time.Second):
			}
		}
		_, _ = w.WriteString("done " + r.Path())
	})
	idle := dial(t, addr)
	require.Equal(t, 200, idle.roundTrip(getReq("/a")).Status)
	busy := dial(t, addr)
	busy.send(getReq("/block"))
	select {
	case <-started:
	case <-time.After(3 * time.Second):
		t.Fatal("handler did not start")
	}

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- srv.Shutdown(ctx)
	}()
	idle.expectClosed() // the drain has begun; the slow handler keeps Shutdown waiting
	for i := range 5 {
		c, err := net.DialTimeout("tcp", addr, ioTimeout)
		if err != nil {
			assert.ErrorIs(t, err, syscall.ECONNREFUSED, "dial %d", i)
			continue
		}
		// Accepted: then it must be answered in full, never dropped.
		late := &client{t: t, conn: c.(*net.TCPConn), br: bufio.NewReader(c)}
		r := late.roundTrip(getReq("/late"))
		assert.Equal(t, "done /late", string(r.Body), "dial %d", i)
		_ = c.Close()
	}
	close(release)
	r := busy.readResponse(false)
	assert.Equal(t, "done /block", string(r.Body))
	assert.Equal(t, "close", r.header(t, "Connection"))
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(6 * time.Second):
		t.Fatal("Shutdown did not return")
	}
}
