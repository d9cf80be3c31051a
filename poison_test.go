package kahttp_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
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
				names := []string{"erin", "carol", "bo"}
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
