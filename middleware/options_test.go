package middleware_test

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/kahttptest"
	"github.com/kahttp/kahttp/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type requestIDKey struct{}
type userKey struct{}

// requestID is middleware that sets a per-request value from a header.
func requestID(next kahttp.Handler) kahttp.Handler {
	return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		if id := r.Header("X-Request-Id"); id != "" {
			r.SetValue(requestIDKey{}, id) // a view: WithValue copies it
		}
		next.Serve(w, r)
	})
}

func TestAccessLogExtraFields(t *testing.T) {
	cases := []struct {
		name   string
		opts   []middleware.Option
		header string
		want   map[string]any // extra attributes expected
		absent []string
	}{
		{"no options", nil, "abc", nil, []string{"request_id", "user"}},
		{"value set", []middleware.Option{middleware.WithValue("request_id", requestIDKey{})}, "abc",
			map[string]any{"request_id": "abc"}, nil},
		{"value not set: no attribute", []middleware.Option{middleware.WithValue("request_id", requestIDKey{})}, "",
			nil, []string{"request_id"}},
		{"value set by the handler, inside", []middleware.Option{middleware.WithValue("user", userKey{})}, "",
			map[string]any{"user": "erin"}, nil},
		{"attrs see the response", []middleware.Option{
			middleware.WithAttrs(func(w *kahttp.Response, r *kahttp.Request) []slog.Attr {
				return []slog.Attr{slog.Bool("error", w.Status() >= 400), slog.String("ua", strings.Clone(r.Header("User-Agent")))}
			}),
			middleware.WithValue("request_id", requestIDKey{}),
		}, "x1", map[string]any{"error": true, "ua": "kahttptest", "request_id": "x1"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs logBuffer
			logger := slog.New(slog.NewJSONHandler(&logs, nil))
			rt := kahttp.NewRouter()
			rt.Use(requestID, middleware.AccessLog(append([]middleware.Option{middleware.WithLogger(logger)}, tc.opts...)...))
			rt.GET("/", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
				r.SetValue(userKey{}, "erin")
				w.Error(kahttp.StatusTeapot, "short and stout")
			}))
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("User-Agent", "kahttptest")
			if tc.header != "" {
				req.Header.Set("X-Request-Id", tc.header)
			}
			resp, err := kahttptest.Do(rt, req)
			require.NoError(t, err)
			assert.Equal(t, 418, resp.Status)
			lines := logs.lines(t)
			require.Len(t, lines, 1)
			assert.EqualValues(t, 418, lines[0]["status"])
			for k, v := range tc.want {
				assert.Equal(t, v, lines[0][k], k)
			}
			for _, k := range tc.absent {
				assert.NotContains(t, lines[0], k)
			}
		})
	}
}

func TestRecoverResponder(t *testing.T) {
	type apiError struct {
		Error string `json:"error"`
	}
	jsonResponder := middleware.WithResponder(func(w *kahttp.Response, r *kahttp.Request, v any) {
		_ = w.JSON(kahttp.StatusInternalServerError, apiError{Error: "internal error"})
	})
	cases := []struct {
		name    string
		opts    []middleware.Option
		handler kahttp.HandlerFunc
		status  int
		ctype   string
		body    string
	}{
		{"default text", nil, func(w *kahttp.Response, r *kahttp.Request) { panic("boom") },
			500, "text/plain; charset=utf-8", "500 Internal Server Error\n"},
		{"json", []middleware.Option{jsonResponder}, func(w *kahttp.Response, r *kahttp.Request) {
			w.Header().Set("X-Half", "1")
			panic("boom")
		}, 500, "application/json", "{\"error\":\"internal error\"}\n"},
		{"responder picks the status", []middleware.Option{middleware.WithResponder(func(w *kahttp.Response, r *kahttp.Request, v any) {
			w.Header().Set("Retry-After", "5")
			w.Error(kahttp.StatusServiceUnavailable, fmt.Sprint("try later: ", v))
		})}, func(w *kahttp.Response, r *kahttp.Request) { panic("db down") },
			503, "text/plain; charset=utf-8", "try later: db down\n"},
		{"status only", []middleware.Option{middleware.WithResponder(func(w *kahttp.Response, r *kahttp.Request, v any) {})},
			func(w *kahttp.Response, r *kahttp.Request) { panic("boom") }, 500, "", ""},
		{"after a write: the server's 500", []middleware.Option{jsonResponder}, func(w *kahttp.Response, r *kahttp.Request) {
			_, _ = w.WriteString("partial")
			panic("boom")
		}, 500, "text/plain; charset=utf-8", "500 Internal Server Error\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			logger := slog.New(slog.NewTextHandler(&logBuffer{}, nil))
			h := middleware.Recover(append([]middleware.Option{middleware.WithLogger(logger)}, tc.opts...)...)(tc.handler)
			resp, err := kahttptest.Do(h, httptest.NewRequest("GET", "/", nil))
			require.NoError(t, err)
			assert.Equal(t, tc.status, resp.Status)
			assert.Equal(t, tc.ctype, resp.Header.Get("Content-Type"))
			assert.Equal(t, tc.body, resp.Text())
			assert.Empty(t, resp.Header.Get("X-Half"))
			assert.False(t, resp.KeepAlive)
		})
	}
}

func ExampleWithValue() {
	type requestIDKey struct{}
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == "time" || a.Key == "duration" {
				return slog.Attr{} // stable output
			}
			return a
		}}))
	rt := kahttp.NewRouter()
	rt.Use(
		func(next kahttp.Handler) kahttp.Handler { // sets the value
			return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
				r.SetValue(requestIDKey{}, "req-7")
				next.Serve(w, r)
			})
		},
		middleware.AccessLog(middleware.WithLogger(logger), middleware.WithValue("request_id", requestIDKey{})),
	)
	rt.GET("/", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {}))
	_, _ = kahttptest.Do(rt, httptest.NewRequest("GET", "/", nil))
	// Output: level=INFO msg=request method=GET path=/ status=200 bytes=0 remote=127.0.0.1:1234 keep_alive=true request_id=req-7
}

func ExampleWithResponder() {
	rt := kahttp.NewRouter()
	rt.Use(middleware.Recover(
		middleware.WithLogger(slog.New(slog.NewTextHandler(&logBuffer{}, nil))),
		middleware.WithResponder(func(w *kahttp.Response, r *kahttp.Request, v any) {
			_ = w.JSON(kahttp.StatusInternalServerError, map[string]string{"error": "internal"})
		})))
	rt.GET("/", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) { panic("bug") }))
	resp, _ := kahttptest.Do(rt, httptest.NewRequest("GET", "/", nil))
	fmt.Print(resp.Status, " ", resp.Header.Get("Connection"), " ", resp.Text())
	// Output: 500 close {"error":"internal"}
}

func TestLogRefusals(t *testing.T) {
	cases := []struct {
		name   string
		raw    string
		level  slog.Level
		status float64
		reason string
		lines  int
	}{
		{"bad request", "GET / HTTP/1.1\r\n\r\n", slog.LevelInfo, 400, "missing Host header", 1},
		{"version", "GET / HTTP/3.0\r\nHost: a\r\n\r\n", slog.LevelInfo, 505, "HTTP version not supported", 1},
		{"below the logger's level", "GET / HTTP/1.1\r\n\r\n", slog.LevelDebug, 0, "", 0},
		{"a request is AccessLog's, not this", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", slog.LevelInfo, 0, "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs logBuffer
			logger := slog.New(slog.NewJSONHandler(&logs, nil))
			cfg := kahttp.Config{OnRefusal: middleware.LogRefusals(middleware.WithLogger(logger), middleware.WithLevel(tc.level))}
			c := kahttptest.NewConn(kahttp.NewRouter(), kahttptest.WithConfig(cfg))
			defer c.Close()
			_, err := c.SendString(tc.raw)
			require.NoError(t, err)
			lines := logs.lines(t)
			require.Len(t, lines, tc.lines)
			if tc.lines == 0 {
				return
			}
			assert.Equal(t, "request", lines[0]["msg"])
			assert.Equal(t, tc.status, lines[0]["status"])
			assert.Equal(t, tc.reason, lines[0]["reason"])
			assert.Equal(t, "127.0.0.1:1234", lines[0]["remote"])
			assert.Equal(t, true, lines[0]["refused"])
		})
	}
}

func ExampleLogRefusals() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == "time" {
				return slog.Attr{}
			}
			return a
		}}))
	cfg := kahttp.Config{OnRefusal: middleware.LogRefusals(middleware.WithLogger(logger))}
	rt := kahttp.NewRouter()
	rt.POST("/up", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {}), kahttp.WithBodyLimit(10))
	c := kahttptest.NewConn(rt, kahttptest.WithConfig(cfg))
	defer c.Close()
	_, _ = c.SendString("GET / HTTP/1.1\r\n\r\n") // no Host
	c = kahttptest.NewConn(rt, kahttptest.WithConfig(cfg))
	defer c.Close()
	_, _ = c.SendString("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
	// Output:
	// level=INFO msg=request status=400 reason="missing Host header" remote=127.0.0.1:1234 refused=true
	// level=INFO msg=request method=POST path=/up status=413 reason="request body too large" remote=127.0.0.1:1234 refused=true
}
