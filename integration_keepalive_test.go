package kahttp_test

import (
	"bufio"
	"context"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIntegrationKeepAlivePolicy pins the per-response keep-alive policy
// (the README's "The keep-alive policy" table): the status line, the
// Connection/Keep-Alive fields, and whether the socket stays open afterwards.
func TestIntegrationKeepAlivePolicy(t *testing.T) {
	t.Parallel()
	rows := []struct {
		name      string
		req       string
		conn      string // expected Connection field ("" = absent)
		keepAlive string // expected Keep-Alive field ("" = absent)
		open      bool
		reason    string // ClosedBy reason when closed
	}{
		{"http11 default", "GET /a HTTP/1.1\r\nHost: x\r\n\r\n", "", "", true, ""},
		{"http11 close", "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "close", "", false, "connection_close_asked"},
		{"http11 close token list", "GET /a HTTP/1.1\r\nHost: x\r\nConnection: foo, Close\r\n\r\n", "close", "", false, "connection_close_asked"},
		{"http11 close in second field", "GET /a HTTP/1.1\r\nHost: x\r\nConnection: foo\r\nConnection: close\r\n\r\n", "close", "", false, "connection_close_asked"},
		{"http11 keep-alive token", "GET /a HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n", "", "", true, ""},
		{"http10 default", "GET /a HTTP/1.0\r\n\r\n", "close", "", false, "http10_no_keepalive"},
		{"http10 keep-alive", "GET /a HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", "keep-alive", "timeout=7", true, ""},
		{"http10 keep-alive in list", "GET /a HTTP/1.0\r\nConnection: foo,  keep-alive \r\n\r\n", "keep-alive", "timeout=7", true, ""},
	}
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		for _, row := range rows {
			t.Run(row.name, func(t *testing.T) {
				t.Parallel()
				srv, addr := startServer(t, kahttp.Config{Mode: mode, IdleTimeout: 7 * time.Second}, echoPath)
				c := dial(t, addr)
				r := c.roundTrip(row.req)
				assert.Equal(t, "HTTP/1.1 200 OK", r.StatusLine)
				assert.Equal(t, "GET /a", string(r.Body))
				assert.Equal(t, "length", r.Framing)
				assert.Equal(t, row.conn, r.header(t, "Connection"))
				assert.Equal(t, row.keepAlive, r.header(t, "Keep-Alive"))
				if row.open {
					c.expectOpen()
					// and the connection is reused
					r = c.roundTrip(row.req)
					assert.Equal(t, 200, r.Status)
					assert.Equal(t, row.conn, r.header(t, "Connection"))
					c.expectOpen()
					return
				}
				c.expectClosed()
				assert.EqualValues(t, 1, closedBy(srv, row.reason, 1), "ClosedBy %v", srv.Stats().ClosedBy)
			})
		}
	})
}

// TestIntegrationHTTP10KeepAliveMax pins Keep-Alive: timeout=N, max=M on
// HTTP/1.0 with MaxRequestsPerConn: M counts down, the last response says close.
func TestIntegrationHTTP10KeepAliveMax(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		srv, addr := startServer(t, kahttp.Config{Mode: mode, IdleTimeout: 5 * time.Second, MaxRequestsPerConn: 3}, echoPath)
		c := dial(t, addr)
		req := "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
		for i, max := range []int{2, 1} {
			r := c.roundTrip(req)
			require.Equal(t, 200, r.Status, "request %d", i+1)
			assert.Equal(t, "keep-alive", r.header(t, "Connection"), "request %d", i+1)
			assert.Equal(t, "timeout=5, max="+strconv.Itoa(max), r.header(t, "Keep-Alive"), "request %d", i+1)
		}
		r := c.roundTrip(req)
		require.Equal(t, 200, r.Status)
		assert.Equal(t, "close", r.header(t, "Connection"))
		assert.Empty(t, r.header(t, "Keep-Alive"))
		c.expectClosed()
		assert.EqualValues(t, 1, closedBy(srv, "max_requests", 1))
	})
}

// TestIntegrationMaxRequestsPerConn: with MaxRequestsPerConn=3, four
// pipelined HTTP/1.1 requests get three responses, the third says close,
// and the fourth is not answered.
func TestIntegrationMaxRequestsPerConn(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		srv, addr := startServer(t, kahttp.Config{Mode: mode, MaxRequestsPerConn: 3}, echoPath)
		c := dial(t, addr)
		c.send(getReq("/1") + getReq("/2") + getReq("/3") + getReq("/4"))
		for i := 1; i <= 3; i++ {
			r := c.readResponse(false)
			require.Equal(t, 200, r.Status)
			assert.Equal(t, "GET /"+strconv.Itoa(i), string(r.Body))
			assert.Empty(t, r.header(t, "Keep-Alive"), "no Keep-Alive field on HTTP/1.1")
			if i < 3 {
				assert.Empty(t, r.header(t, "Connection"), "response %d", i)
			} else {
				assert.Equal(t, "close", r.header(t, "Connection"), "response %d", i)
			}
		}
		c.expectClosed()
		assert.EqualValues(t, 1, closedBy(srv, "max_requests", 1))
		assert.EqualValues(t, 3, srv.Stats().Requests)
	})
}

// TestIntegrationIdleTimeout: an idle keep-alive connection is closed after
// IdleTimeout, without a response.
func TestIntegrationIdleTimeout(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		srv, addr := startServer(t, kahttp.Config{Mode: mode, IdleTimeout: 400 * time.Millisecond}, echoPath)
		c := dial(t, addr)
		r := c.roundTrip(getReq("/a"))
		require.Equal(t, 200, r.Status)
		c.expectOpen() // not at once
		c.expectClosed()
		assert.EqualValues(t, 1, closedBy(srv, "idle_timeout", 1), "ClosedBy %v", srv.Stats().ClosedBy)
	})
}

// TestIntegrationHeaderTimeout: a request line without the end of its head
// gets 408 with Connection: close after HeaderTimeout, then the close.
func TestIntegrationHeaderTimeout(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		srv, addr := startServer(t, kahttp.Config{Mode: mode, HeaderTimeout: 400 * time.Millisecond}, echoPath)
		c := dial(t, addr)
		c.send("GET /a HTTP/1.1\r\nHost: x\r\n")
		r := c.readResponse(false)
		assert.Equal(t, "HTTP/1.1 408 Request Timeout", r.StatusLine)
		assert.Equal(t, "close", r.header(t, "Connection"))
		c.expectClosed()
		assert.EqualValues(t, 1, closedBy(srv, "header_timeout", 1), "ClosedBy %v", srv.Stats().ClosedBy)
	})
}

// TestIntegrationHeaderTimeoutAfterKeepAlive: the header timer also runs
// for the second request of a connection.
func TestIntegrationHeaderTimeoutAfterKeepAlive(t *testing.T) {
	t.Parallel()
	srv, addr := startServer(t, kahttp.Config{Mode: kahttp.Inline, HeaderTimeout: 400 * time.Millisecond, IdleTimeout: 10 * time.Second}, echoPath)
	c := dial(t, addr)
	require.Equal(t, 200, c.roundTrip(getReq("/a")).Status)
	c.send("GET /b HTTP/1.1\r\n")
	r := c.readResponse(false)
	assert.Equal(t, 408, r.Status)
	assert.Equal(t, "close", r.header(t, "Connection"))
	c.expectClosed()
	assert.EqualValues(t, 1, closedBy(srv, "header_timeout", 1))
}

// TestIntegrationPipelineAfterClose: requests pipelined after one with
// Connection: close are not answered.
func TestIntegrationPipelineAfterClose(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		srv, addr := startServer(t, kahttp.Config{Mode: mode}, echoPath)
		c := dial(t, addr)
		c.send(getReq("/1") + getReq("/2", "Connection: close\r\n") + getReq("/3") + getReq("/4"))
		r := c.readResponse(false)
		assert.Equal(t, "GET /1", string(r.Body))
		assert.Empty(t, r.header(t, "Connection"))
		r = c.readResponse(false)
		assert.Equal(t, "GET /2", string(r.Body))
		assert.Equal(t, "close", r.header(t, "Connection"))
		c.expectClosed()
		assert.EqualValues(t, 1, closedBy(srv, "connection_close_asked", 1))
		assert.EqualValues(t, 2, srv.Stats().Requests)
	})
}

// TestIntegrationShutdown: Shutdown closes an idle keep-alive connection,
// and a request in progress completes with Connection: close. Once the
// drain has begun, a new connection is refused, so the client can retry
// elsewhere, instead of being accepted and then dropped unanswered.
func TestIntegrationShutdown(t *testing.T) {
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
		assert.Equal(t, "done /late", string(late.roundTrip(getReq("/late")).Body), "dial %d", i)
		_ = c.Close()
	}
	close(release)
	r := busy.readResponse(false)
	assert.Equal(t, 200, r.Status)
	assert.Equal(t, "done /block", string(r.Body))
	assert.Equal(t, "close", r.header(t, "Connection"))
	busy.expectClosed()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(6 * time.Second):
		t.Fatal("Shutdown did not return")
	}
	assert.GreaterOrEqual(t, srv.Stats().ClosedBy["shutdown"], int64(2), "ClosedBy %v", srv.Stats().ClosedBy)
}

// TestIntegrationStatsClosedBy triggers several close reasons on one server
// and checks each is counted.
func TestIntegrationStatsClosedBy(t *testing.T) {
	t.Parallel()
	srv, addr := startServer(t, kahttp.Config{Mode: kahttp.Inline, IdleTimeout: 400 * time.Millisecond}, func(w *kahttp.Response, r *kahttp.Request) {
		if r.Path() == "/panic" {
			panic("boom")
		}
		_, _ = w.WriteString("ok")
	})
	c := dial(t, addr)
	c.roundTrip(getReq("/", "Connection: close\r\n"))
	c.expectClosed()
	c = dial(t, addr)
	c.roundTrip("GET / HTTP/1.0\r\n\r\n")
	c.expectClosed()
	c = dial(t, addr)
	c.roundTrip("GET / HTTP/1.1\r\n\r\n") // no Host
	c.expectClosed()
	c = dial(t, addr)
	c.roundTrip(getReq("/panic"))
	c.expectClosed()
	c = dial(t, addr)
	c.roundTrip(getReq("/"))
	c.expectClosed() // idle timeout
	c = dial(t, addr)
	c.roundTrip(getReq("/"))
	require.NoError(t, c.conn.Close())

	want := map[string]int64{
		"connection_close_asked": 1, "http10_no_keepalive": 1, "bad_request": 1,
		"handler_panic": 1, "idle_timeout": 1, "client_closed": 1,
	}
	for reason, n := range want {
		assert.Equal(t, n, closedBy(srv, reason, n), "reason %s: %v", reason, srv.Stats().ClosedBy)
	}
	assert.EqualValues(t, 6, srv.Stats().ConnsAccepted)
}

// TestIntegrationShutdownIdle: Shutdown closes idle keep-alive connections
// (HTTP/1.1 and HTTP/1.0 keep-alive) without sending anything, in both modes.
func TestIntegrationShutdownIdle(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		srv, addr := startServer(t, kahttp.Config{Mode: mode}, echoPath)
		c11 := dial(t, addr)
		require.Equal(t, 200, c11.roundTrip(getReq("/a")).Status)
		c10 := dial(t, addr)
		require.Equal(t, "keep-alive", c10.roundTrip("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").header(t, "Connection"))
		fresh := dial(t, addr) // connected, nothing sent yet
		// Accepted, not merely queued: a connection still in the backlog when
		// the listener closes is reset by the kernel, not drained.
		require.Eventually(t, func() bool { return srv.Stats().ConnsOpen == 3 }, 3*time.Second, time.Millisecond)

		done := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			done <- srv.Shutdown(ctx)
		}()
		c11.expectClosed()
		c10.expectClosed()
		fresh.expectClosed()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(6 * time.Second):
			t.Fatal("Shutdown did not return")
		}
		assert.EqualValues(t, 3, srv.Stats().ClosedBy["shutdown"], "ClosedBy %v", srv.Stats().ClosedBy)
	})
}
