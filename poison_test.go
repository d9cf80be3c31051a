package kahttp_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/kahttptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The trap of the README: a handler keeps a view past its return.
func TestPoisonViews(t *testing.T) {
	for _, mode := range []kahttp.Mode{kahttp.Inline, kahttp.Pooled} {
		for _, poison := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/poison=%v", mode, poison), func(t *testing.T) {
				var kept []string
				h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
					kept = append(kept, r.Query("name"))     // the bug: a view, kept
					_, _ = w.WriteString(r.Header("X-Echo")) // used in the response: fine
				})
				opts := []kahttptest.Option{kahttptest.WithConfig(kahttp.Config{Mode: mode})}
				if !poison {
					opts = append(opts, kahttptest.WithoutPoison())
				}
				c := kahttptest.NewConn(h, opts...)
				defer c.Close()
				// Inline views go stale at the next request (the loop's buffer
				// is reused at once); a pooled batch's copy goes stale when its
				// task, which sync.Pool hands out per P, is next taken: enough
				// requests make that certain in practice.
				names := []string{"erin", "carol", "bo"}
				for i := range 13 {
					names = append(names, fmt.Sprintf("n%d", i*37))
				}
				for _, n := range names {
					resp, err := c.SendString("GET /?name=" + n + " HTTP/1.1\r\nHost: a\r\nX-Echo: " + n + "\r\n\r\n")
					require.NoError(t, err)
					require.Len(t, resp, 1)
					assert.Equal(t, n, resp[0].Text(), "the response is sent before the poison")
				}
				if poison {
					for _, k := range kept {
						assert.Equal(t, strings.Repeat("#", len(k)), k, "a kept view reads as poison")
						assert.NotEmpty(t, k)
					}
				} else {
					assert.NotEqual(t, names, kept, "without the switch the kept views silently show other bytes")
				}
			})
		}
	}
}

func TestPoisonDecodedViews(t *testing.T) {
	var kept string
	h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		kept = r.Query("q") // decoded: lives in the request's arena
	})
	resp, err := kahttptest.Do(h, httptest.NewRequest("GET", "/?q=a+b%21", nil))
	require.NoError(t, err)
	assert.Equal(t, 200, resp.Status)
	assert.Equal(t, "####", kept)
}

// On the event loop the inline views point into gnet's input buffer:
// poisoning them must leave the requests after them, pipelined in the same
// read, intact.
func TestPoisonViewsOnTheEventLoop(t *testing.T) {
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		var (
			mu   sync.Mutex
			kept []string
		)
		_, addr := startServer(t, kahttp.Config{Mode: mode, PoisonViews: true}, func(w *kahttp.Response, r *kahttp.Request) {
			mu.Lock()
			kept = append(kept, r.Query("n")) // the bug, on purpose
			mu.Unlock()
			_, _ = w.WriteString(r.Query("n") + " " + string(r.Body()))
		})
		c := dial(t, addr)
		var pipeline strings.Builder
		for i := range 20 {
			fmt.Fprintf(&pipeline, "POST /?n=%d HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody", i)
		}
		c.send(pipeline.String())
		for i := range 20 {
			resp := c.readResponse(false)
			require.Equal(t, 200, resp.Status)
			assert.Equal(t, fmt.Sprintf("%d body", i), string(resp.Body))
		}
		c.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n") // releases the last batch
		c.readResponse(false)
		mu.Lock()
		defer mu.Unlock()
		require.Len(t, kept, 21)
		for _, k := range kept[:20] {
			assert.Equal(t, strings.Repeat("#", len(k)), k)
		}
	})
}
