package kahttp_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/kahttptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type refusals struct {
	mu  sync.Mutex
	got []kahttp.Refusal
}

func (r *refusals) hook(rf kahttp.Refusal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, rf)
}

func (r *refusals) all() []kahttp.Refusal {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]kahttp.Refusal(nil), r.got...)
}

func TestOnRefusal(t *testing.T) {
	ok := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) { _, _ = w.WriteString("ok") })
	panics := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) { panic("bug") })
	cases := []struct {
		name    string
		h       kahttp.Handler
		cfg     kahttp.Config
		raw     string
		expire  bool
		status  int
		reason  string
		refused bool // false: a handler answered, the hook is not called
	}{
		{"no Host", ok, kahttp.Config{}, "GET / HTTP/1.1\r\n\r\n", false, 400, "missing Host header", true},
		{"HTTP/2.0", ok, kahttp.Config{}, "GET / HTTP/2.0\r\nHost: a\r\n\r\n", false, 505, "HTTP version not supported", true},
		{"body too large", ok, kahttp.Config{MaxBodyBytes: 4}, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", false, 413, "", true},
		{"header too large", ok, kahttp.Config{MaxHeaderBytes: 64}, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("b", 100) + "\r\n\r\n", false, 431, "header section too large", true},
		{"header timeout", ok, kahttp.Config{}, "GET / HTTP/1.1\r\nHo", true, 408, "request not received in time", true},
		{"unrecovered panic", panics, kahttp.Config{}, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", false, 500, "handler panic", true},
		{"unrecovered panic inline", panics, kahttp.Config{Mode: kahttp.Inline}, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", false, 500, "handler panic", true},
		{"a handler's 404 is no refusal", kahttp.NewRouter(), kahttp.Config{}, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n", false, 404, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var rec refusals
			cfg := tc.cfg
			cfg.OnRefusal = rec.hook
			c := kahttptest.NewConn(tc.h, kahttptest.WithConfig(cfg))
			defer c.Close()
			resps, err := c.SendString(tc.raw)
			require.NoError(t, err)
			if tc.expire {
				resps, err = c.Expire()
				require.NoError(t, err)
			}
			require.Len(t, resps, 1)
			assert.Equal(t, tc.status, resps[0].Status)
			got := rec.all()
			if !tc.refused {
				assert.Empty(t, got)
				return
			}
			require.Len(t, got, 1)
			assert.Equal(t, tc.status, got[0].Status)
			assert.Contains(t, got[0].Reason, tc.reason)
			assert.Equal(t, "127.0.0.1:1234", got[0].Remote.String())
			if tc.status != 500 {
				assert.Contains(t, resps[0].Text(), got[0].Reason, "the reason is the one sent")
			}
		})
	}
}

// A full worker pool answers 503 on the loop: the hook hears of it.
func TestOnRefusalServerBusy(t *testing.T) {
	var rec refusals
	release := make(chan struct{})
	srv := kahttp.NewServer(kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) { <-release }),
		kahttp.Config{PoolWorkers: 1, PoolQueue: 1, OnRefusal: rec.hook,
			Logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))})
	req := []byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	var conns []*kahttp.MemConn
	for range 3 {
		mc := srv.ServeInMemory(nil)
		mc.SetTimeout(20 * time.Millisecond)
		_, _ = mc.Write(req) // the first runs, the second waits in the queue: both time out here
		conns = append(conns, mc)
	}
	got := rec.all()
	require.Len(t, got, 1)
	assert.Equal(t, 503, got[0].Status)
	assert.Equal(t, "server busy", got[0].Reason)
	assert.Contains(t, string(conns[2].TakeOutput()), "503 Service Unavailable")
	close(release)
	for _, mc := range conns {
		require.NoError(t, mc.Close())
	}
}

func TestOnRefusalPanicIsContained(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	cfg := kahttp.Config{
		OnRefusal: func(kahttp.Refusal) { panic("hook bug") },
		Logger:    slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil)),
	}
	c := kahttptest.NewConn(kahttp.NewRouter(), kahttptest.WithConfig(cfg))
	resps, err := c.SendString("GET / HTTP/1.1\r\n\r\n")
	require.NoError(t, err)
	require.Len(t, resps, 1)
	assert.Equal(t, 400, resps[0].Status, "the refusal is still sent")
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, logs.String(), "OnRefusal panic")
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
