package kahttptest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/kahttptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func router() *kahttp.Router {
	rt := kahttp.NewRouter()
	rt.GET("/hello", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.WriteString("hello " + r.Query("name"))
	}))
	rt.GET("/big", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		_, _ = w.WriteString(strings.Repeat("x", 10000))
	}))
	rt.GET("/empty", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		w.WriteHeader(kahttp.StatusNoContent)
	}))
	rt.POST("/echo", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		_, _ = w.Write(r.Body())
	}), kahttp.WithMode(kahttp.Inline))
	rt.GET("/close", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		w.Header().Set("Connection", "close")
	}))
	return rt
}

func TestDo(t *testing.T) {
	cases := []struct {
		name      string
		method    string
		target    string
		body      string
		header    [2]string
		status    int
		text      string
		framing   kahttptest.Framing
		length    int64
		keepAlive bool
		field     [2]string // a field the response must have
	}{
		{"200 with length", "GET", "/hello?name=ann", "", [2]string{}, 200, "hello ann", kahttptest.FramingLength, 9, true, [2]string{"Content-Type", "text/plain"}},
		{"chunked past the buffer", "GET", "/big", "", [2]string{}, 200, strings.Repeat("x", 10000), kahttptest.FramingChunked, -1, true, [2]string{"Transfer-Encoding", ""}},
		{"204 has no body", "GET", "/empty", "", [2]string{}, 204, "", kahttptest.FramingNone, -1, true, [2]string{}},
		{"HEAD keeps the length, drops the body", "HEAD", "/hello?name=bo", "", [2]string{}, 200, "", kahttptest.FramingLength, 8, true, [2]string{}},
		{"POST echo", "POST", "/echo", "ping", [2]string{"Content-Type", "text/plain"}, 200, "ping", kahttptest.FramingLength, 4, true, [2]string{}},
		{"404 from the router", "GET", "/nope", "", [2]string{}, 404, "404 Not Found\n", kahttptest.FramingLength, 14, true, [2]string{}},
		{"405 with Allow", "POST", "/hello", "", [2]string{}, 405, "405 Method Not Allowed\n", kahttptest.FramingLength, 23, true, [2]string{"Allow", "GET, HEAD, OPTIONS"}},
		{"client asks close", "GET", "/hello", "", [2]string{"Connection", "close"}, 200, "hello ", kahttptest.FramingLength, 6, false, [2]string{"Connection", "close"}},
		{"handler asks close", "GET", "/close", "", [2]string{}, 200, "", kahttptest.FramingLength, 0, false, [2]string{"Connection", "close"}},
	}
	for _, tc := range cases {
		for _, mode := range []kahttp.Mode{kahttp.Pooled, kahttp.Inline} {
			t.Run(tc.name+"/"+mode.String(), func(t *testing.T) {
				var body *strings.Reader
				req := httptest.NewRequest(tc.method, tc.target, nil)
				if tc.body != "" {
					body = strings.NewReader(tc.body)
					req = httptest.NewRequest(tc.method, tc.target, body)
				}
				if tc.header[0] != "" {
					req.Header.Set(tc.header[0], tc.header[1])
				}
				resp, err := kahttptest.Do(router(), req, kahttptest.WithConfig(kahttp.Config{Mode: mode}))
				require.NoError(t, err)
				assert.Equal(t, tc.status, resp.Status)
				assert.Equal(t, tc.text, resp.Text())
				assert.Equal(t, tc.framing, resp.Framing)
				assert.Equal(t, tc.length, resp.ContentLength)
				assert.Equal(t, tc.keepAlive, resp.KeepAlive)
				assert.Equal(t, "HTTP/1.1", resp.Proto)
				assert.True(t, strings.HasPrefix(string(resp.Raw), "HTTP/1.1 "), "Raw is the bytes as sent")
				if tc.field[0] == "Transfer-Encoding" {
					assert.Contains(t, string(resp.Raw), "Transfer-Encoding: chunked\r\n")
				} else if tc.field[0] != "" {
					assert.Equal(t, tc.field[1], resp.Header.Get(tc.field[0]))
				}
			})
		}
	}
}

func TestConnKeepAliveAndPipelining(t *testing.T) {
	c := kahttptest.NewConn(router(), kahttptest.WithConfig(kahttp.Config{MaxRequestsPerConn: 3}))
	defer c.Close()
	// Two pipelined requests and the first half of a third.
	resps, err := c.SendString("GET /hello?name=a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hel")
	require.NoError(t, err)
	require.Len(t, resps, 2)
	assert.Equal(t, "hello a", resps[0].Text())
	assert.Equal(t, "", resps[1].Text())
	assert.EqualValues(t, 6, resps[1].ContentLength)
	assert.True(t, resps[1].KeepAlive)
	assert.False(t, c.Closed())

	resps, err = c.SendString("lo?name=b HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	require.Len(t, resps, 1)
	assert.Equal(t, "hello b", resps[0].Text())
	assert.False(t, resps[0].KeepAlive, "MaxRequestsPerConn reached")
	assert.Equal(t, "close", resps[0].Header.Get("Connection"))
	assert.True(t, c.Closed())
	_, err = c.SendString("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
	assert.Error(t, err, "the server closed the connection")
	assert.EqualValues(t, 3, c.Server().Stats().Requests)
}

func TestConnHTTP10(t *testing.T) {
	c := kahttptest.NewConn(router())
	defer c.Close()
	resps, err := c.SendString("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
	require.NoError(t, err)
	require.Len(t, resps, 1)
	assert.True(t, resps[0].KeepAlive)
	assert.Equal(t, "keep-alive", resps[0].Header.Get("Connection"))
	resps, err = c.SendString("GET /big HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
	require.NoError(t, err)
	require.Len(t, resps, 1)
	assert.Equal(t, kahttptest.FramingClose, resps[0].Framing, "no chunked for HTTP/1.0")
	assert.Len(t, resps[0].Body, 10000)
	assert.False(t, resps[0].KeepAlive)
}

func TestRefusalsAndTimeouts(t *testing.T) {
	cases := []struct {
		name   string
		raw    string
		status int
	}{
		{"no Host", "GET / HTTP/1.1\r\n\r\n", 400},
		{"bad version", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
		{"CL and TE", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := kahttptest.NewConn(router())
			resps, err := c.SendString(tc.raw)
			require.NoError(t, err)
			require.Len(t, resps, 1)
			assert.Equal(t, tc.status, resps[0].Status)
			assert.False(t, resps[0].KeepAlive)
			assert.True(t, c.Closed())
		})
	}
	t.Run("header timeout is 408", func(t *testing.T) {
		c := kahttptest.NewConn(router())
		resps, err := c.SendString("GET /hello HTTP/1.1\r\nHo")
		require.NoError(t, err)
		assert.Empty(t, resps)
		resps, err = c.Expire()
		require.NoError(t, err)
		require.Len(t, resps, 1)
		assert.Equal(t, 408, resps[0].Status)
		assert.True(t, c.Closed())
	})
	t.Run("idle timeout closes", func(t *testing.T) {
		c := kahttptest.NewConn(router())
		_, err := c.SendString("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		resps, err := c.Expire()
		require.NoError(t, err)
		assert.Empty(t, resps)
		assert.True(t, c.Closed())
	})
	t.Run("a pooled handler past the timeout", func(t *testing.T) {
		release := make(chan struct{})
		h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) { <-release })
		c := kahttptest.NewConn(h, kahttptest.WithTimeout(20*time.Millisecond))
		_, err := c.SendString("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		assert.ErrorIs(t, err, kahttp.ErrHandlerTimeout)
		close(release)
		resps, err := c.Send(nil) // waits for it again
		require.NoError(t, err)
		require.Len(t, resps, 1)
		assert.Equal(t, 200, resps[0].Status)
		require.NoError(t, c.Close())
	})
}

func TestZeroResponse(t *testing.T) {
	var w kahttp.Response
	_, err := w.WriteString("x")
	assert.ErrorIs(t, err, kahttp.ErrNoServer)
	assert.ErrorIs(t, w.Flush(), kahttp.ErrNoServer)
	assert.Contains(t, kahttp.ErrNoServer.Error(), "kahttptest")
}

func ExampleDo() {
	h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.WriteString("Hello, " + r.Query("name") + "!")
	})
	resp, err := kahttptest.Do(h, httptest.NewRequest("GET", "/?name=kahttp", nil))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"), resp.Framing, resp.KeepAlive)
	fmt.Println(resp.Text())
	// Output:
	// 200 text/plain content-length true
	// Hello, kahttp!
}

func ExampleConn_SendString() {
	h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		_, _ = w.WriteString(r.Path())
	})
	c := kahttptest.NewConn(h)
	defer c.Close()
	resps, _ := c.SendString("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	for _, r := range resps {
		fmt.Println(r.Text(), r.KeepAlive)
	}
	fmt.Println(c.Closed())
	// Output:
	// /a true
	// /b false
	// true
}

// A body far past MaxOutboundBytes: the pooled handler waits for the
// output to drain, which the in-memory connection does as the loop would.
func TestLargeStreamedBody(t *testing.T) {
	piece := strings.Repeat("y", 1000)
	h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		for range 5000 {
			if _, err := w.WriteString(piece); err != nil {
				return
			}
		}
	})
	for _, mode := range []kahttp.Mode{kahttp.Pooled, kahttp.Inline} {
		t.Run(mode.String(), func(t *testing.T) {
			c := kahttptest.NewConn(h, kahttptest.WithConfig(kahttp.Config{Mode: mode}))
			defer c.Close()
			for range 2 {
				resps, err := c.SendString("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
				require.NoError(t, err)
				require.Len(t, resps, 1)
				assert.Len(t, resps[0].Body, 5_000_000)
				assert.Equal(t, kahttptest.FramingChunked, resps[0].Framing)
				assert.True(t, resps[0].KeepAlive)
			}
		})
	}
}

// Cookies reads the Set-Cookie fields a handler sent.
func TestResponseCookies(t *testing.T) {
	h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		w.SetCookie(&http.Cookie{Name: "session", Value: "abc", Path: "/", HttpOnly: true, Secure: true})
		w.SetCookie(&http.Cookie{Name: "theme", Value: "dark"})
	})
	resp, err := kahttptest.Do(h, httptest.NewRequest("GET", "/", nil))
	require.NoError(t, err)
	cs := resp.Cookies()
	require.Len(t, cs, 2)
	assert.Equal(t, "session", cs[0].Name)
	assert.Equal(t, "abc", cs[0].Value)
	assert.True(t, cs[0].HttpOnly && cs[0].Secure)
	assert.Equal(t, "dark", cs[1].Value)
}
