package kahttp

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

var pathHandler = HandlerFunc(func(w *Response, r *Request) {
	_, _ = w.WriteString(r.Path())
})

func TestKeepAlivePolicy(t *testing.T) {
	tests := []struct {
		name      string
		cfg       Config
		req       string
		repeat    int    // send the request this many times, pipelined
		wantConn  string // Connection field of the last response
		wantKA    string // Keep-Alive field of the last response
		wantClose bool
		wantResps int
		reason    closeReason
	}{
		{name: "1.1 persists", req: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", wantResps: 1},
		{name: "1.1 close", req: "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
			wantConn: "close", wantClose: true, wantResps: 1, reason: reasonClientAsked},
		{name: "1.1 close in a token list", req: "GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, Close\r\n\r\n",
			wantConn: "close", wantClose: true, wantResps: 1, reason: reasonClientAsked},
		{name: "1.1 close in a repeated field", req: "GET / HTTP/1.1\r\nHost: x\r\nConnection: foo\r\nConnection: close\r\n\r\n",
			wantConn: "close", wantClose: true, wantResps: 1, reason: reasonClientAsked},
		{name: "1.0 closes by default", req: "GET / HTTP/1.0\r\n\r\n",
			wantConn: "close", wantClose: true, wantResps: 1, reason: reasonHTTP10},
		{name: "1.0 keep-alive is echoed", cfg: Config{IdleTimeout: 30e9}, req: "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
			wantConn: "keep-alive", wantKA: "timeout=30", wantResps: 1},
		{name: "1.0 keep-alive counts max down", cfg: Config{IdleTimeout: 5e9, MaxRequestsPerConn: 5},
			req: "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", repeat: 2,
			wantConn: "keep-alive", wantKA: "timeout=5, max=3", wantResps: 2},
		{name: "max requests: the last says close", cfg: Config{MaxRequestsPerConn: 3},
			req: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", repeat: 4,
			wantConn: "close", wantClose: true, wantResps: 3, reason: reasonMaxRequests},
		{name: "nothing after Connection: close is answered",
			req: "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", repeat: 3,
			wantConn: "close", wantClose: true, wantResps: 1, reason: reasonClientAsked},
		{name: "POST body then stray CRLF", req: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi\r\n", repeat: 2,
			wantResps: 2},
	}
	for _, mode := range []Mode{Inline, Pooled} {
		for _, tt := range tests {
			t.Run(mode.String()+"/"+tt.name, func(t *testing.T) {
				tt.cfg.Mode = mode
				m := newMemServer(pathHandler, tt.cfg)
				m.feed(t, []byte(strings.Repeat(tt.req, max(1, tt.repeat))))
				method := strings.Fields(tt.req)[0]
				resps := readResponses(t, m.c.sent, method)
				require.Len(t, resps, tt.wantResps)
				last := resps[len(resps)-1]
				assert.Equal(t, 200, last.StatusCode)
				assert.Equal(t, tt.wantConn, connField(last))
				assert.Equal(t, tt.wantKA, last.Header.Get("Keep-Alive"))
				assert.Equal(t, tt.wantClose, m.c.closing)
				assert.Equal(t, tt.reason, m.s.reason)
			})
		}
	}
}

func TestPipelineInOrder(t *testing.T) {
	for _, mode := range []Mode{Inline, Pooled} {
		for _, n := range []int{1, 16, 100} {
			var req strings.Builder
			for i := range n {
				req.WriteString("GET /r" + itoa64(int64(i)) + " HTTP/1.1\r\nHost: x\r\n\r\n")
			}
			t.Run(mode.String()+"/whole/"+itoa64(int64(n)), func(t *testing.T) {
				m := newMemServer(pathHandler, Config{Mode: mode})
				assert.Empty(t, m.feed(t, []byte(req.String())))
				checkPipeline(t, m.c.sent, n)
			})
			t.Run(mode.String()+"/bytewise/"+itoa64(int64(n)), func(t *testing.T) {
				m := newMemServer(pathHandler, Config{Mode: mode})
				var buffered []byte
				for _, c := range []byte(req.String()) {
					buffered = m.feed(t, append(buffered, c))
				}
				assert.Empty(t, buffered)
				checkPipeline(t, m.c.sent, n)
			})
		}
	}
}

func checkPipeline(t *testing.T, raw []byte, n int) {
	resps := readResponses(t, raw, "GET")
	require.Len(t, resps, n)
	for i, r := range resps {
		body, _ := io.ReadAll(r.Body)
		assert.Equal(t, "/r"+itoa64(int64(i)), string(body))
	}
}

func TestRefusedRequests(t *testing.T) {
	tests := []struct {
		name   string
		req    string
		status int
	}{
		{"CL and TE", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"unknown TE", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: foo\r\n\r\n", 501},
		{"HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
		{"no Host", "GET / HTTP/1.1\r\n\r\n", 400},
		{"body too large", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n", 413},
		{"line too long", "GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
		{"headers too large", "GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", 17000) + "\r\n\r\n", 431},
		{"expectation", "GET / HTTP/1.1\r\nHost: x\r\nExpect: foo\r\n\r\n", 417},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMemServer(pathHandler, Config{})
			m.feed(t, []byte(tt.req+"GET /after HTTP/1.1\r\nHost: x\r\n\r\n"))
			resps := readResponses(t, m.c.sent, "GET")
			require.Len(t, resps, 1, "nothing after a refused request is answered")
			assert.Equal(t, tt.status, resps[0].StatusCode)
			assert.Equal(t, "close", connField(resps[0]))
			assert.True(t, m.c.closing)
			assert.Equal(t, reasonBadRequest, m.s.reason)
		})
	}
}

func TestExpectContinue(t *testing.T) {
	m := newMemServer(HandlerFunc(func(w *Response, r *Request) { _, _ = w.Write(r.Body()) }), Config{Mode: Inline})
	head := "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
	rest := m.feed(t, []byte(head))
	assert.Equal(t, head, string(rest), "nothing consumed before the body")
	assert.Equal(t, "HTTP/1.1 100 Continue\r\n\r\n", string(m.c.sent))
	rest = m.feed(t, append(rest, "hel"...))
	assert.Equal(t, "HTTP/1.1 100 Continue\r\n\r\n", string(m.c.sent), "100 Continue is sent once")
	m.feed(t, append(rest, "lo"...))
	resps := readResponses(t, m.c.sent[len("HTTP/1.1 100 Continue\r\n\r\n"):], "POST")
	require.Len(t, resps, 1)
	body, _ := io.ReadAll(resps[0].Body)
	assert.Equal(t, "hello", string(body))
}

func TestChunkedRequestBody(t *testing.T) {
	m := newMemServer(HandlerFunc(func(w *Response, r *Request) {
		_, _ = w.Write(r.Body())
		_, _ = w.WriteString("|" + r.Trailer("X-Sum"))
	}), Config{})
	m.feed(t, []byte("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"+
		"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 11\r\n\r\n"))
	resps := readResponses(t, m.c.sent, "POST")
	require.Len(t, resps, 1)
	body, _ := io.ReadAll(resps[0].Body)
	assert.Equal(t, "hello world|11", string(body))
}

func TestRequestAccessors(t *testing.T) {
	var got []string
	m := newMemServer(HandlerFunc(func(w *Response, r *Request) {
		got = append(got, r.Method(), r.Path(), r.RawPath(), r.RawQuery(), r.Query("q"), r.Query("a b"),
			r.Header("x-TEST"), r.Host(), r.Proto(), r.Target())
		_, ok := r.LookupQuery("missing")
		assert.False(t, ok)
		n := 0
		for range r.Headers() {
			n++
		}
		assert.Equal(t, 2, n)
	}), Config{Mode: Pooled})
	m.feed(t, []byte("GET /a%20b/c?q=x%2By+z&a+b=1 HTTP/1.1\r\nHost: example.com\r\nX-Test: v\r\n\r\n"))
	assert.Equal(t, []string{"GET", "/a b/c", "/a%20b/c", "q=x%2By+z&a+b=1", "x+y z", "1",
		"v", "example.com", "HTTP/1.1", "/a%20b/c?q=x%2By+z&a+b=1"}, got)
}

func TestTimeoutsByPhase(t *testing.T) {
	m := newMemServer(pathHandler, Config{})
	m.s.expired()
	assert.True(t, m.c.closing, "a new connection that sends nothing is closed")
	assert.Equal(t, reasonHeaderTimeout, m.s.reason)
	assert.Empty(t, m.c.sent)

	m = newMemServer(pathHandler, Config{})
	m.feed(t, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	m.s.expired()
	m.c.afterTraffic()
	assert.Equal(t, reasonIdleTimeout, m.s.reason)

	m = newMemServer(pathHandler, Config{})
	m.feed(t, []byte("GET / HTTP/1.1\r\nHo"))
	m.s.expired()
	m.c.afterTraffic()
	assert.True(t, strings.HasPrefix(string(m.c.sent), "HTTP/1.1 408 Request Timeout\r\n"))
	assert.Contains(t, string(m.c.sent), "Connection: close\r\n")
	assert.Equal(t, reasonHeaderTimeout, m.s.reason)
}
