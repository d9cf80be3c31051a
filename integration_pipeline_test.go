package kahttp_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/kahttp/kahttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoAll answers with the method, path and body of the request.
func echoAll(w *kahttp.Response, r *kahttp.Request) {
	_, _ = w.WriteString(r.Method() + " " + r.Path() + " " + string(r.Body()))
}

// TestIntegrationPipeline: pipelines of 1, 16 and 100 GETs, in one write
// and byte by byte, are all answered in order, in both modes.
func TestIntegrationPipeline(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		srv, addr := startServer(t, kahttp.Config{Mode: mode}, echoPath)
		for _, n := range []int{1, 16, 100} {
			for _, split := range []string{"one-write", "byte-by-byte"} {
				t.Run(fmt.Sprintf("%d-%s", n, split), func(t *testing.T) {
					var b strings.Builder
					for i := range n {
						b.WriteString(getReq("/p" + strconv.Itoa(i)))
					}
					c := dial(t, addr)
					if split == "one-write" {
						c.send(b.String())
					} else {
						c.sendByteByByte(b.String())
					}
					for i := range n {
						r := c.readResponse(false)
						require.Equal(t, 200, r.Status, "response %d", i)
						require.Equal(t, "GET /p"+strconv.Itoa(i), string(r.Body), "response %d", i)
						require.Empty(t, r.header(t, "Connection"))
					}
					c.expectOpen()
				})
			}
		}
		assert.Empty(t, srv.Stats().ClosedBy["bad_request"])
	})
}

// TestIntegrationPipelineMixed: GETs and POSTs with bodies (Content-Length
// and chunked) in one pipeline are answered in order.
func TestIntegrationPipelineMixed(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		_, addr := startServer(t, kahttp.Config{Mode: mode}, echoAll)
		reqs := []struct{ raw, want string }{
			{getReq("/g1"), "GET /g1 "},
			{"POST /p1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", "POST /p1 hello"},
			{getReq("/g2"), "GET /g2 "},
			{"POST /p2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n", "POST /p2 abcdefg"},
			{"POST /p3 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", "POST /p3 "},
			{"PUT /p4 HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nGET / HTTP/", "PUT /p4 GET / HTTP/"},
			{getReq("/g3"), "GET /g3 "},
		}
		var all strings.Builder
		for _, r := range reqs {
			all.WriteString(r.raw)
		}
		for _, split := range []string{"one-write", "byte-by-byte"} {
			t.Run(split, func(t *testing.T) {
				c := dial(t, addr)
				if split == "one-write" {
					c.send(all.String())
				} else {
					c.sendByteByByte(all.String())
				}
				for i, want := range reqs {
					r := c.readResponse(false)
					require.Equal(t, 200, r.Status, "response %d", i)
					require.Equal(t, want.want, string(r.Body), "response %d", i)
				}
				c.expectOpen()
			})
		}
	})
}

// TestIntegrationPostStrayCRLF: a POST body followed by a stray CRLF (an
// old client habit), then a GET on the same connection: both 200, still open.
func TestIntegrationPostStrayCRLF(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		srv, addr := startServer(t, kahttp.Config{Mode: mode}, echoAll)
		for _, split := range []string{"one-write", "two-writes"} {
			t.Run(split, func(t *testing.T) {
				c := dial(t, addr)
				post := "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody\r\n"
				get := getReq("/g")
				if split == "one-write" {
					c.send(post + get)
				} else {
					c.send(post)
					r := c.readResponse(false)
					require.Equal(t, 200, r.Status)
					require.Equal(t, "POST /p body", string(r.Body))
					c.send(get)
					r = c.readResponse(false)
					require.Equal(t, 200, r.Status)
					require.Equal(t, "GET /g ", string(r.Body))
					c.expectOpen()
					return
				}
				r := c.readResponse(false)
				require.Equal(t, 200, r.Status)
				require.Equal(t, "POST /p body", string(r.Body))
				assert.Empty(t, r.header(t, "Connection"))
				r = c.readResponse(false)
				require.Equal(t, 200, r.Status)
				require.Equal(t, "GET /g ", string(r.Body))
				assert.Empty(t, r.header(t, "Connection"))
				c.expectOpen()
			})
		}
		assert.Empty(t, srv.Stats().ClosedBy["bad_request"], "ClosedBy %v", srv.Stats().ClosedBy)
	})
}

// TestIntegrationPipelineLargeResponses: pipelined requests whose responses
// together are far past MaxOutboundBytes (the server pauses reading while
// the client catches up) are all answered, in order and intact.
func TestIntegrationPipelineLargeResponses(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		_, addr := startServer(t, kahttp.Config{Mode: mode}, framingHandler)
		sizes := []int{1 << 20, 100, 300000, 4097, 1 << 20, 5, 700000, 1 << 20}
		var b strings.Builder
		for _, n := range sizes {
			b.WriteString(getReq("/stream?size=" + strconv.Itoa(n)))
		}
		b.WriteString(getReq("/cl?size=2000000"))
		sizes = append(sizes, 2000000)
		c := dial(t, addr)
		c.send(b.String())
		for i, n := range sizes {
			r := c.readResponse(false)
			require.Equal(t, 200, r.Status, "response %d", i)
			require.Len(t, r.Body, n, "response %d", i)
			require.Equal(t, string(pattern(n)), string(r.Body), "response %d", i)
		}
		c.expectOpen()
	})
}
