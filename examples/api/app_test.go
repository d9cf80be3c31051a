package main

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
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestAPI(t *testing.T) {
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	srv := kahttp.NewServer(NewApp(logger), kahttp.Config{Logger: logger})
	require.NoError(t, srv.Start("127.0.0.1:0"))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	base := "http://" + srv.Addr().String()

	do := func(method, path, body string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(b)
	}
	decode := func(s string, v any) {
		t.Helper()
		require.NoError(t, json.Unmarshal([]byte(s), v), s)
	}

	resp, body := do("GET", "/api/items", "")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "[]\n", body)

	resp, body = do("POST", "/api/items", `{"name":"pen","note":"blue"}`)
	require.Equal(t, 201, resp.StatusCode, body)
	assert.Equal(t, "/api/items/1", resp.Header.Get("Location"))
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var it Item
	decode(body, &it)
	assert.Equal(t, Item{ID: 1, Name: "pen", Note: "blue"}, it)

	resp, _ = do("POST", "/api/items", `{"name":"cup"}`)
	require.Equal(t, 201, resp.StatusCode)

	resp, body = do("GET", "/api/items/1", "")
	assert.Equal(t, 200, resp.StatusCode)
	decode(body, &it)
	assert.Equal(t, "pen", it.Name)

	resp, body = do("PUT", "/api/items/1", `{"name":"pencil"}`)
	assert.Equal(t, 200, resp.StatusCode)
	it = Item{}
	decode(body, &it)
	assert.Equal(t, Item{ID: 1, Name: "pencil"}, it)

	resp, body = do("GET", "/api/items", "")
	assert.Equal(t, 200, resp.StatusCode)
	var items []Item
	decode(body, &items)
	assert.Equal(t, []Item{{ID: 1, Name: "pencil"}, {ID: 2, Name: "cup"}}, items)

	resp, body = do("DELETE", "/api/items/2", "")
	assert.Equal(t, 204, resp.StatusCode)
	assert.Empty(t, body)

	for _, tt := range []struct {
		method, path, body string
		status             int
		err                string
	}{
		{"GET", "/api/items/2", "", 404, "no item 2"},
		{"GET", "/api/items/abc", "", 404, "no item abc"},
		{"PUT", "/api/items/9", `{"name":"x"}`, 404, "no item 9"},
		{"DELETE", "/api/items/2", "", 404, "no item 2"},
		{"POST", "/api/items", `{"name":`, 400, "bad JSON"},
		{"POST", "/api/items", `not json`, 400, "bad JSON"},
		{"POST", "/api/items", `{"name":"x","color":"red"}`, 400, `unknown JSON field "color"`},
		{"POST", "/api/items", `{"name":"x"}{"name":"y"}`, 400, "more than one JSON value"},
		{"POST", "/api/items", `{"note":"no name"}`, 400, "name is required"},
		{"PUT", "/api/items/1", `[1,2]`, 400, "must be an object, not array"},
	} {
		resp, body = do(tt.method, tt.path, tt.body)
		assert.Equal(t, tt.status, resp.StatusCode, "%s %s %s", tt.method, tt.path, tt.body)
		var e map[string]string
		decode(body, &e)
		assert.Contains(t, e["error"], tt.err)
	}

	resp, _ = do("PATCH", "/api/items/1", `{}`)
	assert.Equal(t, 405, resp.StatusCode)
	assert.Equal(t, "GET, HEAD, PUT, DELETE, OPTIONS", resp.Header.Get("Allow"))
	resp, _ = do("GET", "/nope", "")
	assert.Equal(t, 404, resp.StatusCode)

	// AccessLog wrote one line per /api request.
	assert.Contains(t, logs.String(), `msg=request method=POST path=/api/items status=201`)
	assert.Contains(t, logs.String(), `method=DELETE path=/api/items/2 status=404`)
	assert.Contains(t, logs.String(), "keep_alive=true")
}
