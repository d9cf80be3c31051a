package kahttp_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/kahttptest"
	"github.com/kahttp/kahttp/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsonErrors is an application's error shape.
func jsonErrors(w *kahttp.Response, r *kahttp.Request, e *kahttp.RequestError) {
	_ = w.JSON(e.Status, map[string]any{"status": e.Status, "error": e.Reason})
}

// allowUI stands for CORS middleware: a field on every answer of its group.
func allowUI(next kahttp.Handler) kahttp.Handler {
	return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "https://ui.example")
		next.Serve(w, r)
	})
}

// errorRoutes: /api with CORS and a JSON ErrorWriter, the rest plain.
func errorRoutes() *kahttp.Router {
	rt := kahttp.NewRouter()
	api := rt.Group("/api", allowUI)
	api.SetErrorWriter(jsonErrors)
	api.POST("/upload", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		n, err := io.Copy(io.Discard, r.BodyReader())
		if err != nil {
			return // the server answers the body's error
		}
		_, _ = w.WriteString(strconv.FormatInt(n, 10))
	}), kahttp.WithBodyLimit(100), kahttp.WithMode(kahttp.Pooled))
	api.GET("/panic", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		w.Header().Set("Content-Type", "application/x-half")
		_, _ = w.WriteString("half")
		panic("boom")
	}))
	api.GET("/bad", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		w.WriteError(&kahttp.RequestError{Status: 422, Reason: "qty must be positive"})
	}))
	rt.GET("/plain", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		w.WriteError(&kahttp.RequestError{Status: 422, Reason: "qty must be positive"})
	}))
	return rt
}

func decodeError(t *testing.T, r *kahttptest.Response) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "%s", r.Body)
	return m
}

// A group's answers on the application's behalf go through its ErrorWriter
// and its middleware: the router's 404 and 405, 413 past the route's limit
// (declared, and streamed), 500 after a panic, WriteError; other paths keep
// the server's text.
func TestGroupErrorWriter(t *testing.T) {
	cfg := kahttptest.WithConfig(kahttp.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for _, tc := range []struct {
		name, raw string
		status    int
		reason    string
	}{
		{"404 under the group", "GET /api/nope HTTP/1.1\r\nHost: x\r\n\r\n", 404, "no route for the path"},
		{"405", "DELETE /api/bad HTTP/1.1\r\nHost: x\r\n\r\n", 405, "method not allowed for the path"},
		{"413 declared", "POST /api/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n", 413, "request body too large"},
		{"413 chunked", "POST /api/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"64\r\n" + strings.Repeat("x", 100) + "\r\n64\r\n" + strings.Repeat("x", 100) + "\r\n0\r\n\r\n", 413, "request body too large"},
		{"500 after a panic", "GET /api/panic HTTP/1.1\r\nHost: x\r\n\r\n", 500, ""},
		{"WriteError", "GET /api/bad HTTP/1.1\r\nHost: x\r\n\r\n", 422, "qty must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := kahttptest.NewConn(errorRoutes(), cfg)
			defer c.Close()
			resps, err := c.SendString(tc.raw)
			require.NoError(t, err)
			require.Len(t, resps, 1)
			r := resps[0]
			assert.Equal(t, tc.status, r.Status)
			assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
			assert.Equal(t, "https://ui.example", r.Header.Get("Access-Control-Allow-Origin"), "the group's middleware ran")
			m := decodeError(t, r)
			assert.EqualValues(t, tc.status, m["status"])
			assert.Equal(t, tc.reason, m["error"])
		})
	}
	c := kahttptest.NewConn(errorRoutes(), cfg)
	defer c.Close()
	resps, err := c.SendString("GET /plain HTTP/1.1\r\nHost: x\r\n\r\nGET /elsewhere HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	require.Len(t, resps, 2)
	assert.Equal(t, "qty must be positive\n", resps[0].Text(), "outside the group: the server's text")
	assert.Equal(t, "404 Not Found\n", resps[1].Text())
}

// The server's ErrorWriter answers what no group owns, a request refused
// before it could be routed included.
func TestServerErrorWriter(t *testing.T) {
	cfg := kahttp.Config{ErrorWriter: jsonErrors}
	c := kahttptest.NewConn(kahttp.NewRouter(), kahttptest.WithConfig(cfg))
	resps, err := c.SendString("GET /x HTTP/1.1\r\n\r\n") // no Host
	require.NoError(t, err)
	require.Len(t, resps, 1)
	assert.Equal(t, 400, resps[0].Status)
	assert.Equal(t, "missing Host header", decodeError(t, resps[0])["error"])
	assert.Equal(t, "close", resps[0].Header.Get("Connection"))

	c = kahttptest.NewConn(kahttp.NewRouter(), kahttptest.WithConfig(cfg))
	defer c.Close()
	resps, err = c.SendString("GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	assert.Equal(t, 404, resps[0].Status)
	assert.Equal(t, "no route for the path", decodeError(t, resps[0])["error"])
}

// An ErrorWriter that writes nothing, panics, or calls WriteError itself
// leaves the server's text (and no loop).
func TestErrorWriterFallbacks(t *testing.T) {
	for name, ew := range map[string]kahttp.ErrorWriter{
		"writes nothing": func(w *kahttp.Response, r *kahttp.Request, e *kahttp.RequestError) {},
		"panics":         func(w *kahttp.Response, r *kahttp.Request, e *kahttp.RequestError) { panic("in the writer") },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := kahttp.Config{ErrorWriter: ew, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
			c := kahttptest.NewConn(kahttp.NewRouter(), kahttptest.WithConfig(cfg))
			defer c.Close()
			resps, err := c.SendString("GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
			require.NoError(t, err)
			require.Len(t, resps, 1)
			assert.Equal(t, 404, resps[0].Status)
			assert.Equal(t, "404 Not Found\n", resps[0].Text())
		})
	}
	// One that calls WriteError itself gets WriteError's text, not itself again.
	cfg := kahttp.Config{ErrorWriter: func(w *kahttp.Response, r *kahttp.Request, e *kahttp.RequestError) {
		w.Header().Set("X-Shaped", "1")
		w.WriteError(e)
	}}
	c := kahttptest.NewConn(kahttp.NewRouter(), kahttptest.WithConfig(cfg))
	defer c.Close()
	resps, err := c.SendString("GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	assert.Equal(t, 404, resps[0].Status)
	assert.Equal(t, "no route for the path\n", resps[0].Text())
	assert.Equal(t, "1", resps[0].Header.Get("X-Shaped"))
}

// AccessLog logs what the client got: the server's 413 when it replaced
// the handler's answer, the bytes sent, 101 for an upgrade.
func TestAccessLogLogsWhatWasSent(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: func(g []string, a slog.Attr) slog.Attr {
		if a.Key == "time" || a.Key == "duration" {
			return slog.Attr{}
		}
		return a
	}}))
	rt := kahttp.NewRouter()
	rt.Use(middleware.AccessLog(middleware.WithLogger(logger)))
	rt.POST("/upload", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		_, _ = io.Copy(io.Discard, r.BodyReader())
		_, _ = w.WriteString("the handler's answer, replaced")
	}), kahttp.WithBodyLimit(10), kahttp.WithMode(kahttp.Pooled))
	rt.GET("/hello", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) { _, _ = w.WriteString("hello") }))
	c := kahttptest.NewConn(rt)
	defer c.Close()
	resps, err := c.SendString("GET /hello HTTP/1.1\r\nHost: x\r\n\r\nHEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n" +
		"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n14\r\n" + strings.Repeat("y", 20) + "\r\n0\r\n\r\n")
	require.NoError(t, err)
	require.Len(t, resps, 3)
	// Pipelined behind a pooled batch, a chunked body past its route's
	// limit is 413 in its turn (it was 400: decoded in place, then parsed
	// again after the batch).
	assert.Equal(t, 413, resps[2].Status)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 3, buf.String())
	assert.Contains(t, lines[0], "path=/hello status=200 bytes=5")
	assert.Contains(t, lines[1], "method=HEAD path=/hello status=200 bytes=0")
	assert.Contains(t, lines[2], "path=/upload status=413 bytes=")
	assert.NotContains(t, lines[2], "bytes=30", "the handler's bytes did not go out")
}
