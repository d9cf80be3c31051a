package kahttp

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// streamHandler writes ?size=N bytes of 'x' in 1 KiB pieces; ?cl=1 sets
// Content-Length first, ?flush=1 flushes after the first piece, ?status=N.
func streamHandler(w *Response, r *Request) {
	size, _ := strconv.Atoi(r.Query("size"))
	if r.Query("cl") == "1" {
		w.Header().Set("Content-Length", strconv.Itoa(size))
	}
	if s := r.Query("status"); s != "" {
		code, _ := strconv.Atoi(s)
		w.WriteHeader(code)
	}
	piece := bytes.Repeat([]byte("x"), 1024)
	for first := true; size > 0; first = false {
		n := min(size, len(piece))
		if _, err := w.Write(piece[:n]); err != nil {
			return
		}
		size -= n
		if first && r.Query("flush") == "1" {
			_ = w.Flush()
		}
	}
}

// readResponses parses every response in raw with net/http's reader.
func readResponses(t *testing.T, raw []byte, method string) []*http.Response {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(raw))
	var out []*http.Response
	for {
		if _, err := br.Peek(1); err == io.EOF {
			return out
		}
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		require.NoError(t, err, "response %d of %q", len(out), raw)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		out = append(out, resp)
	}
}

// connField is the Connection field sent (net/http's reader moves "close" to Close).
func connField(r *http.Response) string {
	if r.Close {
		return "close"
	}
	return r.Header.Get("Connection")
}

func TestResponseFraming(t *testing.T) {
	const ka10 = "Connection: keep-alive\r\n"
	tests := []struct {
		name      string
		method    string
		proto     string // "1.1" or "1.0"
		extra     string // request header lines
		query     string
		wantCL    string // Content-Length field, "" if absent
		wantTE    string
		wantConn  string // Connection field
		wantClose bool
		wantBody  int
	}{
		{"100B fits", "GET", "1.1", "", "size=100", "100", "", "", false, 100},
		{"exactly 4KiB fits", "GET", "1.1", "", "size=4096", "4096", "", "", false, 4096},
		{"4KiB+1 chunked on 1.1", "GET", "1.1", "", "size=4097", "", "chunked", "", false, 4097},
		{"1MiB chunked on 1.1", "GET", "1.1", "", "size=1048576", "", "chunked", "", false, 1 << 20},
		{"100B on 1.0 keep-alive", "GET", "1.0", ka10, "size=100", "100", "", "keep-alive", false, 100},
		{"1MiB close-delimited on 1.0", "GET", "1.0", ka10, "size=1048576", "", "", "close", true, 1 << 20},
		{"declared length streams", "GET", "1.1", "", "size=10000&cl=1", "10000", "", "", false, 10000},
		{"declared length on 1.0 keeps alive", "GET", "1.0", ka10, "size=10000&cl=1", "10000", "", "keep-alive", false, 10000},
		{"flush goes chunked", "GET", "1.1", "", "size=2000&flush=1", "", "chunked", "", false, 2000},
		{"flush on 1.0 closes", "GET", "1.0", ka10, "size=2000&flush=1", "", "", "close", true, 2000},
		{"HEAD small: GET's length, no body", "HEAD", "1.1", "", "size=100", "100", "", "", false, 0},
		{"HEAD large: GET's framing, no body", "HEAD", "1.1", "", "size=5000", "", "chunked", "", false, 0},
		{"204 has no body", "GET", "1.1", "", "size=0&status=204", "", "", "", false, 0},
		{"304 has no body", "GET", "1.1", "", "size=0&status=304", "", "", "", false, 0},
		{"empty body", "GET", "1.1", "", "size=0", "0", "", "", false, 0},
	}
	for _, mode := range []Mode{Inline, Pooled} {
		for _, tt := range tests {
			t.Run(mode.String()+"/"+tt.name, func(t *testing.T) {
				m := newMemServer(HandlerFunc(streamHandler), Config{Mode: mode})
				req := tt.method + " /?" + tt.query + " HTTP/" + tt.proto + "\r\nHost: x\r\n" + tt.extra + "\r\n"
				rest := m.feed(t, []byte(req))
				assert.Empty(t, rest)
				resps := readResponses(t, m.c.sent, tt.method)
				require.Len(t, resps, 1)
				r := resps[0]
				assert.Equal(t, tt.wantCL, r.Header.Get("Content-Length"), "Content-Length")
				assert.Equal(t, tt.wantTE, strings.Join(r.TransferEncoding, ","), "Transfer-Encoding")
				assert.Equal(t, tt.wantConn, connField(r), "Connection")
				assert.Equal(t, tt.wantClose, m.c.closing, "connection closes")
				assert.Equal(t, int64(tt.wantBody), r.ContentLength, "body length")
				assert.NotEmpty(t, r.Header.Get("Date"))
				assert.Equal(t, "kahttp", r.Header.Get("Server"))
			})
		}
	}
}

func TestResponseDeclaredLengthEnforced(t *testing.T) {
	over := HandlerFunc(func(w *Response, r *Request) {
		w.Header().Set("Content-Length", "5")
		_, err := w.WriteString("hello")
		assert.NoError(t, err)
		n, err := w.WriteString("!")
		assert.ErrorIs(t, err, ErrContentLength)
		assert.Zero(t, n)
	})
	m := newMemServer(over, Config{Mode: Inline})
	m.feed(t, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	resps := readResponses(t, m.c.sent, "GET")
	require.Len(t, resps, 1)
	assert.Equal(t, int64(5), resps[0].ContentLength)
	assert.False(t, m.c.closing)

	short := HandlerFunc(func(w *Response, r *Request) {
		w.Header().Set("Content-Length", "10")
		w.Flush()
		_, _ = w.WriteString("abc")
	})
	m = newMemServer(short, Config{Mode: Inline})
	m.feed(t, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	assert.True(t, m.c.closing, "a short body must close the connection")
	assert.Equal(t, reasonIncomplete, m.s.reason)
}

func TestResponseHeaderSanitized(t *testing.T) {
	h := HandlerFunc(func(w *Response, r *Request) {
		w.Header().Set("X-Evil", "a\r\nSet-Cookie: pwned")
		w.Header().Set("Bad Name", "dropped")
		w.Header().Set("Content-Length", "abc") // not a length: ignored
		_, _ = w.WriteString("ok")
	})
	m := newMemServer(h, Config{Mode: Inline})
	m.feed(t, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	resps := readResponses(t, m.c.sent, "GET")
	require.Len(t, resps, 1)
	assert.Equal(t, "a  Set-Cookie: pwned", resps[0].Header.Get("X-Evil"))
	assert.Empty(t, resps[0].Header.Get("Set-Cookie"))
	assert.Empty(t, resps[0].Header.Get("Bad Name"))
	assert.Equal(t, "2", resps[0].Header.Get("Content-Length"))
}

func TestHandlerPanic(t *testing.T) {
	for _, mode := range []Mode{Inline, Pooled} {
		t.Run(mode.String(), func(t *testing.T) {
			h := HandlerFunc(func(w *Response, r *Request) {
				w.Header().Set("X-Before", "1")
				_, _ = w.WriteString("partial")
				if r.Query("late") == "1" {
					_ = w.Flush()
				}
				panic("boom")
			})
			m := newMemServer(h, Config{Mode: mode, Logger: discardLogger()})
			m.feed(t, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
			resps := readResponses(t, m.c.sent, "GET")
			require.Len(t, resps, 1)
			assert.Equal(t, 500, resps[0].StatusCode)
			assert.Equal(t, "1", resps[0].Header.Get("X-Before"), "fields that do not describe the body are kept (CORS, a request id)")
			assert.Equal(t, "close", connField(resps[0]))
			assert.True(t, m.c.closing)
			assert.Equal(t, reasonHandlerPanic, m.s.reason)

			// After the head went out, the body is cut off: no final chunk.
			m = newMemServer(h, Config{Mode: mode, Logger: discardLogger()})
			m.feed(t, []byte("GET /?late=1 HTTP/1.1\r\nHost: x\r\n\r\n"))
			assert.True(t, m.c.closing)
			assert.NotContains(t, string(m.c.sent), "0\r\n\r\n")
			assert.True(t, strings.HasPrefix(string(m.c.sent), "HTTP/1.1 200 OK\r\n"))
		})
	}
}
