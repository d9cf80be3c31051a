package kahttp_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/kahttp/kahttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// malformed are requests the server must refuse: status, Connection: close,
// then the close. Smuggling shapes are 400 (RFC 9112 §6.1, §6.3).
var malformed = []struct {
	name   string
	req    string
	status int
}{
	// framing / smuggling
	{"CL and TE", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
	{"TE and CL", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400},
	{"two different CLs", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400},
	{"CL list", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\nhello!", 400},
	{"CL sign", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello", 400},
	{"CL hex", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x5\r\n\r\nhello", 400},
	{"CL negative", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400},
	{"TE on HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
	{"TE chunked, gzip", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400},
	{"TE chunked twice", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400},
	{"TE chunked in two fields then gzip", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n", 400},
	{"TE space before colon", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400},
	{"TE foo", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: foo\r\n\r\n", 501},
	{"TE xchunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n", 501},
	{"bad chunk size", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400},
	{"chunk size overflow", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nhello\r\n0\r\n\r\n", 400},
	{"chunk data too long", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n", 400},
	{"chunk size then whitespace", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n", 400},
	// request line
	{"HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
	{"HTTP/0.9 version", "GET / HTTP/0.9\r\nHost: x\r\n\r\n", 505},
	{"lowercase version", "GET / http/1.1\r\nHost: x\r\n\r\n", 400},
	{"no version", "GET /\r\nHost: x\r\n\r\n", 400},
	{"two spaces", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
	{"long request line", "GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
	{"bad method token", "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
	{"UTF-8 in target", "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n", 400},
	{"overlong UTF-8 in target", "GET /\xc0\xaf HTTP/1.1\r\nHost: x\r\n\r\n", 400},
	{"asterisk-form GET", "GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400},
	// header section
	{"huge headers", "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("p", 1000)+"\r\n", 17) + "\r\n", 431},
	{"bare CR in value", "GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", 400},
	{"bare CR in request line", "GET /\r HTTP/1.1\r\nHost: x\r\n\r\n", 400},
	{"obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", 400},
	{"space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
	{"bad token in name", "GET / HTTP/1.1\r\nHost: x\r\nX(y): 1\r\n\r\n", 400},
	{"empty name", "GET / HTTP/1.1\r\nHost: x\r\n: 1\r\n\r\n", 400},
	{"NUL in value", "GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n", 400},
	{"missing Host on 1.1", "GET / HTTP/1.1\r\n\r\n", 400},
	{"two Hosts", "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400},
	{"empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 400},
	{"Host with userinfo", "GET / HTTP/1.1\r\nHost: user@x\r\n\r\n", 400},
	{"big body", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2048\r\n\r\n" + strings.Repeat("b", 2048), 413},
	{"big chunked body", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" + strings.Repeat("b", 2048) + "\r\n0\r\n\r\n", 413},
	{"bad expectation", "POST / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx", 417},
}

// TestIntegrationMalformed: each malformed request gets its status with
// Connection: close, the socket closes, and the server still serves a fresh
// connection. A request pipelined behind the bad one is never answered.
func TestIntegrationMalformed(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		srv, addr := startServer(t, kahttp.Config{Mode: mode, MaxBodyBytes: 1024}, echoPath)
		for _, row := range malformed {
			t.Run(row.name, func(t *testing.T) {
				before := srv.Stats().ClosedBy["bad_request"]
				c := dial(t, addr)
				c.send(row.req + getReq("/after"))
				r := c.readResponse(false)
				assert.Equal(t, row.status, r.Status, "status line %q", r.StatusLine)
				assert.Equal(t, "close", r.header(t, "Connection"))
				assert.True(t, strings.HasPrefix(string(r.Body), strconv.Itoa(row.status)+" "), "body %q", r.Body)
				c.expectClosed()
				assert.Equal(t, before+1, closedBy(srv, "bad_request", before+1))

				fresh := dial(t, addr)
				r = fresh.roundTrip(getReq("/fresh"))
				require.Equal(t, 200, r.Status)
				require.Equal(t, "GET /fresh", string(r.Body))
			})
		}
	})
}

// TestIntegrationMalformedAfterGood: a malformed request behind good ones in
// one pipeline: the good ones are answered, then the refusal, then the close.
func TestIntegrationMalformedAfterGood(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		_, addr := startServer(t, kahttp.Config{Mode: mode}, echoPath)
		c := dial(t, addr)
		c.send(getReq("/1") + getReq("/2") + "GET / HTTP/1.1\r\nHost : x\r\n\r\n" + getReq("/3"))
		for _, want := range []string{"GET /1", "GET /2"} {
			r := c.readResponse(false)
			require.Equal(t, 200, r.Status)
			require.Equal(t, want, string(r.Body))
		}
		r := c.readResponse(false)
		assert.Equal(t, 400, r.Status)
		assert.Equal(t, "close", r.header(t, "Connection"))
		c.expectClosed()
	})
}

// TestIntegrationMalformedByteByByte: the refusals also come when the bad
// request trickles in.
func TestIntegrationMalformedByteByByte(t *testing.T) {
	t.Parallel()
	_, addr := startServer(t, kahttp.Config{Mode: kahttp.Inline, MaxBodyBytes: 1024}, echoPath)
	for _, row := range malformed {
		if len(row.req) > 3000 {
			continue
		}
		t.Run(row.name, func(t *testing.T) {
			c := dial(t, addr)
			c.sendByteByByteUntilClosed(row.req)
			r := c.readResponse(false)
			assert.Equal(t, row.status, r.Status, "status line %q", r.StatusLine)
			assert.Equal(t, "close", r.header(t, "Connection"))
			c.expectClosed()
		})
	}
}

// sendByteByByteUntilClosed writes s a byte at a time, stopping quietly
// when the server has already closed (it may refuse before the end).
func (c *client) sendByteByByteUntilClosed(s string) {
	for i := 0; i < len(s); i++ {
		if _, err := c.conn.Write([]byte{s[i]}); err != nil {
			return
		}
	}
}

// TestIntegrationConnectWithoutRoute: a router that has no CONNECT route
// answers CONNECT with 501 and Connection: close, and the bytes the client
// sent ahead for the tunnel are never answered as a request.
func TestIntegrationConnectWithoutRoute(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		rt := kahttp.NewRouter()
		rt.GET("/", kahttp.HandlerFunc(echoPath))
		srv := kahttp.NewServer(rt, kahttp.Config{Mode: mode, Loops: 2})
		require.NoError(t, srv.Start("127.0.0.1:0"))
		t.Cleanup(func() { shutdown(t, srv) })
		addr := srv.Addr().String()

		c := dial(t, addr)
		c.send("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n" + getReq("/"))
		r := c.readResponse(false)
		assert.Equal(t, 501, r.Status, "status line %q", r.StatusLine)
		assert.Equal(t, "close", r.header(t, "Connection"))
		assert.Equal(t, "501 Not Implemented\n", string(r.Body))
		c.expectClosed()

		fresh := dial(t, addr)
		r = fresh.roundTrip(getReq("/"))
		require.Equal(t, 200, r.Status)
	})
}
