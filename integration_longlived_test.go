package kahttp_test

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Long-lived pooled handlers (server-sent events) each hold a worker: short
// requests are still served while many of them run, and Shutdown's signal
// (Request.ShuttingDown) lets them end their streams, so Shutdown returns
// without waiting for its deadline.
func TestLongLivedHandlersAndShutdown(t *testing.T) {
	const streams = 32
	started := make(chan struct{}, streams)
	srv := kahttp.NewServer(kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		if r.Path() != "/events" {
			_, _ = w.WriteString("ok")
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		started <- struct{}{}
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-r.ShuttingDown():
				_, _ = w.WriteString("event: bye\ndata: shutting down\n\n")
				return
			case <-r.Context().Done():
				return
			case <-tick.C:
				_, _ = w.WriteString("data: tick\n\n")
				if w.Flush() != nil {
					return
				}
			}
		}
	}), kahttp.Config{Loops: 2})
	require.NoError(t, srv.Start("127.0.0.1:0"))
	addr := srv.Addr().String()
	t.Cleanup(func() { shutdown(t, srv) })

	var wg sync.WaitGroup
	ended := make(chan string, streams)
	for range streams {
		c, err := net.DialTimeout("tcp", addr, ioTimeout)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		_, err = c.Write([]byte("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"))
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
			r, err := parseResponse(bufio.NewReader(c), false) // the whole stream, to its last chunk
			if err != nil {
				ended <- "error: " + err.Error()
				return
			}
			ended <- string(r.Body)
		}()
	}
	for range streams {
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Fatal("streams did not start")
		}
	}

	// Short requests are answered while every stream holds its worker.
	for range 20 {
		c := dial(t, addr)
		resp := c.roundTrip(getReq("/short"))
		assert.Equal(t, "ok", string(resp.Body))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, srv.Shutdown(ctx), "Shutdown returns once the streams end, before its deadline")
	wg.Wait()
	close(ended)
	n := 0
	for body := range ended {
		assert.True(t, strings.HasSuffix(body, "event: bye\ndata: shutting down\n\n"), "stream ended by the handler: %q", tail(body))
		n++
	}
	assert.Equal(t, streams, n)
}

func tail(s string) string { return s[max(0, len(s)-60):] }
