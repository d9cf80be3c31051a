package kahttp_test

import (
	"bytes"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// quietLogger drops the panic logs the tests provoke on purpose.
var quietLogger = slog.New(slog.NewTextHandler(io.Discard, nil))

func panicHandler(w *kahttp.Response, r *kahttp.Request) {
	switch r.Path() {
	case "/panic":
		w.Header().Set("X-Before", "1")
		w.Header().Set("Content-Type", "application/x-partial")
		_, _ = w.WriteString("partial, held in the buffer")
		panic("boom")
	case "/panic-after-flush":
		_, _ = w.WriteString("first piece")
		_ = w.Flush()
		panic("boom after flush")
	}
	_, _ = w.WriteString("ok " + r.Path())
}

// TestIntegrationHandlerPanic: a panic before anything was sent becomes a
// 500 with Connection: close; the server keeps serving.
func TestIntegrationHandlerPanic(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		srv, addr := startServer(t, kahttp.Config{Mode: mode, Logger: quietLogger}, panicHandler)
		c := dial(t, addr)
		c.send(getReq("/a") + getReq("/panic") + getReq("/b"))
		r := c.readResponse(false)
		require.Equal(t, "ok /a", string(r.Body))
		r = c.readResponse(false)
		assert.Equal(t, "HTTP/1.1 500 Internal Server Error", r.StatusLine)
		assert.Equal(t, "close", r.header(t, "Connection"))
		assert.Equal(t, "1", r.header(t, "X-Before"), "fields that do not describe the body are kept (CORS, a request id)")
		assert.Equal(t, "text/plain; charset=utf-8", r.header(t, "Content-Type"), "those that did are not")
		assert.NotContains(t, string(r.Body), "partial")
		c.expectClosed()
		assert.EqualValues(t, 1, closedBy(srv, "handler_panic", 1))

		for i := range 3 {
			c := dial(t, addr)
			r := c.roundTrip(getReq("/again" + strconv.Itoa(i)))
			require.Equal(t, 200, r.Status)
			require.Equal(t, "ok /again"+strconv.Itoa(i), string(r.Body))
		}
	})
}

// TestIntegrationHandlerPanicAfterFlush: a panic after the head went out
// cuts the chunked body off (no last chunk) and closes, so the client
// cannot take it for a whole response.
func TestIntegrationHandlerPanicAfterFlush(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		srv, addr := startServer(t, kahttp.Config{Mode: mode, Logger: quietLogger}, panicHandler)
		c := dial(t, addr)
		c.send(getReq("/panic-after-flush"))
		_, err := c.tryReadResponse(false)
		require.Error(t, err, "a cut-off response must not parse as complete")
		assert.EqualValues(t, 1, closedBy(srv, "handler_panic", 1))
		r := dial(t, addr).roundTrip(getReq("/x"))
		require.Equal(t, 200, r.Status)
	})
}

// TestIntegrationHalfClose: a client that writes its request and then
// shuts down its writing half still reads the full response (a body that
// fits the response buffer: one write).
func TestIntegrationHalfClose(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		_, addr := startServer(t, kahttp.Config{Mode: mode}, framingHandler)
		for _, target := range []string{"/stream?size=10", "/stream?size=4096", "/cl?size=4000"} {
			t.Run(target, func(t *testing.T) {
				halfCloseRoundTrip(t, addr, target)
			})
		}
	})
}

// TestIntegrationHalfCloseStreamed: the same with a body the handler
// streams past the response buffer (chunked, or a declared length, pushed
// to the connection in pieces while the handler runs).
func TestIntegrationHalfCloseStreamed(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		_, addr := startServer(t, kahttp.Config{Mode: mode}, framingHandler)
		for _, target := range []string{"/stream?size=5000", "/stream?size=70000", "/stream?size=1048576", "/cl?size=1048576"} {
			t.Run(target, func(t *testing.T) {
				halfCloseRoundTrip(t, addr, target)
			})
		}
	})
}

func halfCloseRoundTrip(t *testing.T, addr, target string) {
	t.Helper()
	size, _ := strconv.Atoi(target[strings.Index(target, "=")+1:])
	c := dial(t, addr)
	c.send(getReq(target))
	require.NoError(t, c.conn.CloseWrite())
	r := c.readResponse(false)
	require.Equal(t, 200, r.Status)
	require.Equal(t, size, len(r.Body))
	require.True(t, bytes.Equal(pattern(size), r.Body))
	c.expectClosed()
}

// TestIntegrationHalfClosePipelined: requests pipelined before the
// half-close are all answered, in order.
func TestIntegrationHalfClosePipelined(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		_, addr := startServer(t, kahttp.Config{Mode: mode}, framingHandler)
		for round := range 5 { // the EOF races the pool: try a few times
			c := dial(t, addr)
			c.send(getReq("/stream?size=1") + getReq("/stream?size=2") + getReq("/cl?size=3"))
			require.NoError(t, c.conn.CloseWrite())
			for i := 1; i <= 3; i++ {
				r, err := c.tryReadResponse(false)
				require.NoError(t, err, "round %d, response %d", round, i)
				require.Equal(t, 200, r.Status)
				require.Equal(t, string(pattern(i)), string(r.Body))
			}
			c.expectClosed()
		}
	})
}

// TestIntegrationHalfCloseSlowHandler: the half-close arrives while a
// pooled handler still runs; its response is delivered all the same.
func TestIntegrationHalfCloseSlowHandler(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	_, addr := startServer(t, kahttp.Config{Mode: kahttp.Pooled}, func(w *kahttp.Response, r *kahttp.Request) {
		select {
		case <-release:
		case <-time.After(3 * time.Second):
		}
		_, _ = w.WriteString(strings.Repeat("s", 100))
	})
	c := dial(t, addr)
	c.send(getReq("/slow"))
	require.NoError(t, c.conn.CloseWrite())
	time.Sleep(100 * time.Millisecond) // let the server see the EOF first
	close(release)
	r := c.readResponse(false)
	require.Equal(t, 200, r.Status)
	require.Equal(t, strings.Repeat("s", 100), string(r.Body))
	c.expectClosed()
}
