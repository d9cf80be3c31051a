package middleware_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/kahttptest"
	"github.com/kahttp/kahttp/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// RequestID honours a sane id, replaces anything else, and reaches the
// handler, the answer, AccessLog and the server's own answers (a 404).
func TestRequestID(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	rt := kahttp.NewRouter()
	rt.Use(middleware.RequestID(), middleware.AccessLog(middleware.WithLogger(logger),
		middleware.WithValue("request_id", middleware.RequestIDKey{})))
	rt.GET("/", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		_, _ = w.WriteString(middleware.RequestIDOf(r))
	}))
	for _, tc := range []struct{ sent, want string }{
		{"abc-123_x.y", "abc-123_x.y"},
		{"", ""},
		{"has space", ""},
		{strings.Repeat("a", 65), ""},
	} {
		req := httptest.NewRequest("GET", "/", nil)
		if tc.sent != "" {
			req.Header.Set("X-Request-Id", tc.sent)
		}
		resp, err := kahttptest.Do(rt, req)
		require.NoError(t, err)
		id := resp.Header.Get("X-Request-Id")
		assert.Equal(t, id, resp.Text(), "the handler sees the id sent back")
		if tc.want != "" {
			assert.Equal(t, tc.want, id)
		} else {
			assert.Regexp(t, `^[0-9a-f]{8}-[0-9]+$`, id, "a fresh one for %q", tc.sent)
		}
	}
	req := httptest.NewRequest("GET", "/nope", nil)
	req.Header.Set("X-Request-Id", "lost-1")
	resp, err := kahttptest.Do(rt, req)
	require.NoError(t, err)
	assert.Equal(t, 404, resp.Status)
	assert.Equal(t, "lost-1", resp.Header.Get("X-Request-Id"), "the router's 404 went through it")
	assert.Contains(t, logs.String(), "status=404")
	assert.Contains(t, logs.String(), "request_id=lost-1")
}

// BearerAuth and BasicAuth: 401 with the challenge (through WriteError, so
// an ErrorWriter shapes it), the right credentials pass.
func TestAuth(t *testing.T) {
	ok := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) { _, _ = w.WriteString("in") })
	bearer := middleware.BearerAuth("api", middleware.Tokens("one", "two"))(ok)
	basic := middleware.BasicAuth("admin", middleware.Users(map[string]string{"ann": "s3cret"}))(ok)
	for _, tc := range []struct {
		name   string
		h      kahttp.Handler
		auth   string
		status int
	}{
		{"bearer, none", bearer, "", 401},
		{"bearer, wrong", bearer, "Bearer three", 401},
		{"bearer, a prefix", bearer, "Bearer on", 401},
		{"bearer, right", bearer, "Bearer two", 200},
		{"bearer, scheme in any case", bearer, "bearer one", 200},
		{"basic, none", basic, "", 401},
		{"basic, wrong password", basic, "Basic " + base64.StdEncoding.EncodeToString([]byte("ann:nope")), 401},
		{"basic, unknown user", basic, "Basic " + base64.StdEncoding.EncodeToString([]byte("bob:s3cret")), 401},
		{"basic, not base64", basic, "Basic ***", 401},
		{"basic, right", basic, "Basic " + base64.StdEncoding.EncodeToString([]byte("ann:s3cret")), 200},
	} {
		req := httptest.NewRequest("GET", "/", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := kahttptest.Do(tc.h, req)
		require.NoError(t, err)
		assert.Equal(t, tc.status, resp.Status, tc.name)
		if tc.status == 401 {
			assert.NotEmpty(t, resp.Header.Get("WWW-Authenticate"), tc.name)
		}
	}
}

func ExampleRequestID() {
	rt := kahttp.NewRouter()
	rt.Use(middleware.RequestID())
	rt.GET("/", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		_, _ = w.WriteString("your request is " + middleware.RequestIDOf(r))
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Request-Id", "trace-42")
	resp, _ := kahttptest.Do(rt, req)
	fmt.Println(resp.Header.Get("X-Request-Id"), "/", resp.Text())
	// Output: trace-42 / your request is trace-42
}

func ExampleBearerAuth() {
	rt := kahttp.NewRouter()
	api := rt.Group("/api", middleware.BearerAuth("api", middleware.Tokens("s3cret-token")))
	api.GET("/status", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) { _, _ = w.WriteString("ok") }))
	resp, _ := kahttptest.Do(rt, httptest.NewRequest("GET", "/api/status", nil))
	fmt.Println(resp.Status, resp.Header.Get("WWW-Authenticate"))
	// Output: 401 Bearer realm="api"
}

func ExampleBasicAuth() {
	rt := kahttp.NewRouter()
	admin := rt.Group("/admin", middleware.BasicAuth("admin", middleware.Users(map[string]string{"ann": "s3cret"})))
	admin.GET("/", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		user, _, _ := r.BasicAuth()
		_, _ = w.WriteString("hello " + user)
	}))
	req := httptest.NewRequest("GET", "/admin/", nil)
	req.SetBasicAuth("ann", "s3cret")
	resp, _ := kahttptest.Do(rt, req)
	fmt.Println(resp.Status, resp.Text())
	// Output: 200 hello ann
}
