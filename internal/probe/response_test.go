package probe

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadResponse(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		method  string
		status  int
		framing Framing
		body    string
		cl      int64
		rest    string // bytes left unread after the response
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloNEXT", "GET", 200, FramingContentLength, "hello", 5, "NEXT"},
		{"repeated equal content-length", "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok", "GET", 200, FramingContentLength, "ok", 2, ""},
		{"chunked with extension and trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\nNEXT", "GET", 200, FramingChunked, "hello world", -1, "NEXT"},
		{"chunked wins over content-length", "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", "GET", 200, FramingChunked, "ok", 99, ""},
		{"close-delimited", "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nall of it", "GET", 200, FramingCloseDelimited, "all of it", -1, ""},
		{"bare LF lines", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", "GET", 200, FramingContentLength, "ok", 2, ""},
		{"204 has no body", "HTTP/1.1 204 No Content\r\n\r\nNEXT", "GET", 204, FramingNone, "", -1, "NEXT"},
		{"304 has no body", "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\nNEXT", "GET", 304, FramingNone, "", 10, "NEXT"},
		{"HEAD has no body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nNEXT", "HEAD", 200, FramingNone, "", 10, "NEXT"},
		{"100 continue skipped", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "POST", 200, FramingContentLength, "ok", 2, ""},
		{"empty reason", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", "GET", 200, FramingContentLength, "", 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Byte by byte, to exercise every split.
			br := bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(tc.in)), 16)
			resp, err := ReadResponse(br, tc.method, Limits{})
			require.NoError(t, err)
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.Equal(t, tc.framing, resp.Framing)
			assert.Equal(t, tc.body, string(resp.Body))
			assert.Equal(t, int64(len(tc.body)), resp.BodyLen)
			assert.Equal(t, tc.cl, resp.ContentLength)
			rest, _ := io.ReadAll(br)
			assert.Equal(t, tc.rest, string(rest))
		})
	}
}

func TestReadResponseErrors(t *testing.T) {
	small := Limits{MaxHeaderBytes: 64, MaxBodyBytes: 10, BodyKeep: 4}
	cases := []struct {
		name string
		in   string
		lim  Limits
		want func(error) bool
	}{
		{"nothing", "", Limits{}, is(ErrNoResponse)},
		{"truncated head", "HTTP/1.1 200 OK\r\nContent-Le", Limits{}, is(ErrTruncated)},
		{"truncated body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", Limits{}, is(ErrTruncated)},
		{"truncated chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", Limits{}, is(ErrTruncated)},
		{"not http", "SSH-2.0-OpenSSH\r\n", Limits{}, isParse},
		{"not http without newline", "garbage", Limits{}, isParse},
		{"http/2 preface answer", "HTTP/2 200\r\n\r\n", Limits{}, isParse},
		{"bad status code", "HTTP/1.1 2x0 OK\r\n\r\n", Limits{}, isParse},
		{"bad header", "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", Limits{}, isParse},
		{"space in header name", "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", Limits{}, isParse},
		{"folded header", "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", Limits{}, isParse},
		{"bad content-length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", Limits{}, isParse},
		{"conflicting content-length", "HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nab", Limits{}, isParse},
		{"bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", Limits{}, isParse},
		{"chunk without CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n", Limits{}, isParse},
		{"header too large", "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", 100) + "\r\n\r\n", small, isParse},
		{"content-length over limit", "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", small, isParse},
		{"chunked over limit", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nb\r\n", small, isParse},
		{"close-delimited over limit", "HTTP/1.1 200 OK\r\n\r\n" + strings.Repeat("x", 11), small, isParse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadResponse(bufio.NewReader(strings.NewReader(tc.in)), "GET", tc.lim)
			require.Error(t, err)
			assert.True(t, tc.want(err), "unexpected error %v", err)
		})
	}
}

func is(target error) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }

func isParse(err error) bool {
	var pe *ParseError
	return errors.As(err, &pe)
}

func TestBodyKeepLimit(t *testing.T) {
	in := "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"
	resp, err := ReadResponse(bufio.NewReader(strings.NewReader(in)), "GET", Limits{MaxHeaderBytes: 1024, MaxBodyBytes: 100, BodyKeep: 4})
	require.NoError(t, err)
	assert.Equal(t, "0123", string(resp.Body))
	assert.Equal(t, int64(10), resp.BodyLen)
}

func TestHeaderHelpers(t *testing.T) {
	resp := &Response{Header: []HeaderField{{"Connection", "Keep-Alive, Upgrade"}, {"connection", "foo"}, {"Keep-Alive", "timeout=5, max=100"}}}
	v, ok := resp.Get("CONNECTION")
	assert.True(t, ok)
	assert.Equal(t, "Keep-Alive, Upgrade, foo", v)
	assert.True(t, resp.HasToken("Connection", "keep-alive"))
	assert.True(t, resp.HasToken("Connection", "foo"))
	assert.False(t, resp.HasToken("Connection", "close"))
	ka, _ := resp.Get("keep-alive")
	n, ok := keepAliveParam(ka, "timeout")
	assert.True(t, ok)
	assert.Equal(t, 5, n)
	n, ok = keepAliveParam(ka, "max")
	assert.True(t, ok)
	assert.Equal(t, 100, n)
	_, ok = keepAliveParam("timeout=x", "timeout")
	assert.False(t, ok)
}

func TestRuns(t *testing.T) {
	assert.Equal(t, "-", runs(nil))
	assert.Equal(t, "200", runs([]string{"200"}))
	assert.Equal(t, "- ×4 → close", runs([]string{"-", "-", "-", "-", "close"}))
	assert.Equal(t, "200 → 404 → 200", runs([]string{"200", "404", "200"}))
}

// FuzzReadResponse: any input gives a response or an error, never a panic
// or a body past the limits.
func FuzzReadResponse(f *testing.F) {
	f.Add("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
	f.Add("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
	f.Add("HTTP/1.0 200 OK\r\n\r\nbody")
	f.Add("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
	lim := Limits{MaxHeaderBytes: 1024, MaxBodyBytes: 4096, BodyKeep: 64}
	f.Fuzz(func(t *testing.T, in string) {
		resp, err := ReadResponse(bufio.NewReader(strings.NewReader(in)), "GET", lim)
		if err == nil {
			require.NotNil(t, resp)
			require.LessOrEqual(t, resp.BodyLen, lim.MaxBodyBytes)
			require.LessOrEqual(t, len(resp.Body), lim.BodyKeep)
			require.GreaterOrEqual(t, resp.StatusCode, 100)
		}
	})
}
