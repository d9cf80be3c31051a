package middleware_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logBuffer collects JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) lines(t *testing.T) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		m := map[string]any{}
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		out = append(out, m)
	}
	l.buf.Reset()
	return out
}

func start(t *testing.T, h kahttp.Handler) string {
	srv := kahttp.NewServer(h, kahttp.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, srv.Start("127.0.0.1:0"))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return "http://" + srv.Addr().String()
}

func get(t *testing.T, url string, hdr ...string) (*http.Response, string, error) {
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func TestRecoverAndAccessLog(t *testing.T) {
	var logs logBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	rt := kahttp.NewRouter()
	rt.Use(middleware.AccessLog(middleware.WithLogger(logger)), middleware.Recover(middleware.WithLogger(logger)))
	rt.HandleFunc("GET", "/ok/:id", func(w *kahttp.Response, r *kahttp.Request) {
		_, _ = w.WriteString("ok " + r.Param("id"))
	})
	rt.HandleFunc("GET", "/panic", func(w *kahttp.Response, r *kahttp.Request) {
		w.Header().Set("X-Half", "done")
		w.WriteHeader(201)
		panic("boom")
	})
	rt.HandleFunc("GET", "/panic-after-write", func(w *kahttp.Response, r *kahttp.Request) {
		w.Header().Set("X-Half", "done")
		_, _ = w.WriteString(`{"partial":`)
		panic("boom after write")
	})
	rt.HandleFunc("GET", "/panic-after-flush", func(w *kahttp.Response, r *kahttp.Request) {
		_, _ = w.WriteString("streaming...")
		_ = w.Flush()
		panic("boom after flush")
	}, kahttp.WithMode(kahttp.Inline))
	require.NoError(t, rt.Err())
	base := start(t, rt)

	t.Run("access log line", func(t *testing.T) {
		resp, body, err := get(t, base+"/ok/42?q=1")
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "ok 42", body)
		lines := logs.lines(t)
		require.Len(t, lines, 1)
		l := lines[0]
		assert.Equal(t, "request", l["msg"])
		assert.Equal(t, "GET", l["method"])
		assert.Equal(t, "/ok/42", l["path"])
		assert.EqualValues(t, 200, l["status"])
		assert.EqualValues(t, 5, l["bytes"])
		assert.Contains(t, l["remote"], "127.0.0.1:")
		assert.Equal(t, true, l["keep_alive"])
		assert.Contains(t, l, "duration")

		_, _, err = get(t, base+"/nope", "Connection", "close")
		require.NoError(t, err)
		lines = logs.lines(t)
		require.Len(t, lines, 1, "the router's own answers are logged too")
		assert.EqualValues(t, 404, lines[0]["status"])
		assert.Equal(t, false, lines[0]["keep_alive"])
	})

	t.Run("panic before writing: 500 with Connection: close", func(t *testing.T) {
		resp, body, err := get(t, base+"/panic")
		require.NoError(t, err)
		assert.Equal(t, 500, resp.StatusCode)
		assert.True(t, resp.Close, "Connection: close")
		assert.Equal(t, "500 Internal Server Error\n", body)
		assert.Empty(t, resp.Header.Get("X-Half"), "the handler's header fields are dropped")
		lines := logs.lines(t)
		require.Len(t, lines, 2)
		assert.Equal(t, "kahttp: handler panic", lines[0]["msg"])
		assert.Equal(t, "boom", lines[0]["panic"])
		assert.Equal(t, "/panic", lines[0]["path"])
		assert.Contains(t, lines[0]["stack"], "goroutine")
		assert.Contains(t, lines[0]["stack"], "middleware_test.go")
		assert.EqualValues(t, 500, lines[1]["status"])
		assert.Equal(t, false, lines[1]["keep_alive"])
	})

	t.Run("panic after a held write: the server's clean 500", func(t *testing.T) {
		resp, body, err := get(t, base+"/panic-after-write")
		require.NoError(t, err)
		assert.Equal(t, 500, resp.StatusCode)
		assert.True(t, resp.Close)
		assert.NotContains(t, body, "partial")
		lines := logs.lines(t)
		require.Len(t, lines, 2)
		assert.Equal(t, "boom after write", lines[0]["panic"])
		assert.EqualValues(t, 500, lines[1]["status"])
	})

	t.Run("panic after the head was sent: the response is cut off", func(t *testing.T) {
		resp, _, err := get(t, base+"/panic-after-flush")
		if err == nil {
			t.Fatalf("a cut-off response must not read as whole: %v", resp)
		}
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		lines := logs.lines(t)
		require.Len(t, lines, 2)
		assert.Equal(t, "boom after flush", lines[0]["panic"])
		assert.EqualValues(t, 200, lines[1]["status"])
		assert.Equal(t, false, lines[1]["keep_alive"])
	})

	t.Run("the server keeps serving", func(t *testing.T) {
		for range 3 {
			resp, body, err := get(t, base+"/ok/1")
			require.NoError(t, err)
			assert.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, "ok 1", body)
		}
	})
}

func TestAccessLogLevel(t *testing.T) {
	var logs logBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rt := kahttp.NewRouter()
	rt.Use(middleware.AccessLog(middleware.WithLogger(logger), middleware.WithLevel(slog.LevelDebug)))
	rt.HandleFunc("GET", "/", func(w *kahttp.Response, r *kahttp.Request) {})
	base := start(t, rt)
	_, _, err := get(t, base+"/")
	require.NoError(t, err)
	assert.Empty(t, logs.lines(t), "below the logger's level: nothing")
}
