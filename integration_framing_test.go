package kahttp_test

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pattern is n bytes of a repeating, position-dependent pattern, so a
// dropped, repeated or reordered piece shows.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(i%23)
	}
	return b
}

// framingHandler serves the buffered writer's cases:
//
//	/stream?size=N   N bytes in 1 KiB writes, no Content-Length
//	/cl?size=N       Content-Length: N, then N bytes in 1 KiB writes
//	/short?cl=N&size=M  Content-Length: N, but only M bytes
//	/status?code=C   status C, no body written
//	/flush?size=N    N bytes, Flush after the first 1 KiB
func framingHandler(w *kahttp.Response, r *kahttp.Request) {
	size, _ := strconv.Atoi(r.Query("size"))
	body := pattern(size)
	write := func(flushAfterFirst bool) {
		for i := 0; i < len(body); i += 1024 {
			if _, err := w.Write(body[i:min(i+1024, len(body))]); err != nil {
				return
			}
			if flushAfterFirst && i == 0 {
				_ = w.Flush()
			}
		}
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	switch r.Path() {
	case "/stream":
		write(false)
	case "/cl":
		w.Header().Set("Content-Length", strconv.Itoa(size))
		write(false)
	case "/short":
		w.Header().Set("Content-Length", r.Query("cl"))
		write(false)
	case "/status":
		code, _ := strconv.Atoi(r.Query("code"))
		w.WriteHeader(code)
	case "/flush":
		write(true)
	}
}

// TestIntegrationFramingHTTP11: the buffered writer's framings on HTTP/1.1.
func TestIntegrationFramingHTTP11(t *testing.T) {
	t.Parallel()
	rows := []struct {
		path    string
		size    int
		framing string
	}{
		{"/stream", 100, "length"},
		{"/stream", 4096, "length"},
		{"/stream", 4097, "chunked"},
		{"/stream", 1 << 20, "chunked"},
		{"/cl", 100, "length"},
		{"/cl", 1 << 20, "length"},
		{"/flush", 100, "chunked"},
		{"/flush", 10000, "chunked"},
	}
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		srv, addr := startServer(t, kahttp.Config{Mode: mode}, framingHandler)
		c := dial(t, addr)
		for _, row := range rows {
			target := row.path + "?size=" + strconv.Itoa(row.size)
			r := c.roundTrip(getReq(target))
			require.Equal(t, 200, r.Status, target)
			require.Equal(t, row.framing, r.Framing, target)
			require.Empty(t, r.header(t, "Connection"), target)
			if row.framing == "length" {
				require.Equal(t, strconv.Itoa(row.size), r.header(t, "Content-Length"), target)
				require.Empty(t, r.header(t, "Transfer-Encoding"), target)
			} else {
				require.Equal(t, "chunked", r.header(t, "Transfer-Encoding"), target)
				require.Empty(t, r.header(t, "Content-Length"), target)
			}
			require.Equal(t, len(pattern(row.size)), len(r.Body), target)
			require.True(t, bytes.Equal(pattern(row.size), r.Body), target)
		}
		c.expectOpen() // every response above kept the connection
		assert.Empty(t, srv.Stats().ClosedBy)
	})
}

// TestIntegrationFramingHTTP10: on HTTP/1.0 keep-alive a body past the
// buffer has no length: close-delimited, Connection: close; a small body or
// a declared length keeps the connection.
func TestIntegrationFramingHTTP10(t *testing.T) {
	t.Parallel()
	ka := "Connection: keep-alive\r\n"
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		srv, addr := startServer(t, kahttp.Config{Mode: mode, IdleTimeout: 30 * time.Second}, framingHandler)
		c := dial(t, addr)
		for _, target := range []string{"/stream?size=100", "/stream?size=4096", "/cl?size=1048576"} {
			r := c.roundTrip("GET " + target + " HTTP/1.0\r\n" + ka + "\r\n")
			require.Equal(t, 200, r.Status)
			require.Equal(t, "length", r.Framing, target)
			require.Equal(t, "keep-alive", r.header(t, "Connection"), target)
			require.Equal(t, "timeout=30", r.header(t, "Keep-Alive"), target)
			require.Empty(t, r.header(t, "Transfer-Encoding"), target)
			size, _ := strconv.Atoi(target[strings.Index(target, "=")+1:])
			require.True(t, bytes.Equal(pattern(size), r.Body), target)
		}
		c.expectOpen()

		for _, target := range []string{"/stream?size=4097", "/stream?size=1048576", "/flush?size=3000"} {
			t.Run(target, func(t *testing.T) {
				c := dial(t, addr)
				r := c.roundTrip("GET " + target + " HTTP/1.0\r\n" + ka + "\r\n")
				require.Equal(t, 200, r.Status)
				require.Equal(t, "close", r.Framing)
				require.Equal(t, "close", r.header(t, "Connection"))
				require.Empty(t, r.header(t, "Keep-Alive"))
				require.Empty(t, r.header(t, "Content-Length"))
				require.Empty(t, r.header(t, "Transfer-Encoding"), "no chunked to an HTTP/1.0 client")
				size, _ := strconv.Atoi(target[strings.Index(target, "=")+1:])
				require.Equal(t, size, len(r.Body))
				require.True(t, bytes.Equal(pattern(size), r.Body))
			})
		}
		assert.EqualValues(t, 3, closedBy(srv, "http10_unknown_length", 3))
	})
}

// TestIntegrationShortContentLength: a handler that writes less than the
// Content-Length it set: the client gets what was written, then the close.
func TestIntegrationShortContentLength(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		srv, addr := startServer(t, kahttp.Config{Mode: mode}, framingHandler)

		t.Run("partial body", func(t *testing.T) {
			c := dial(t, addr)
			c.send(getReq("/short?cl=3000&size=2048") + getReq("/stream?size=1"))
			require.NoError(t, c.conn.SetReadDeadline(time.Now().Add(ioTimeout)))
			r := &response{}
			require.NoError(t, readHead(c.br, r))
			require.Equal(t, 200, r.Status)
			require.Equal(t, "3000", r.header(t, "Content-Length"))
			rest, err := io.ReadAll(c.br)
			if err != nil {
				require.True(t, isReset(err), "read: %v", err)
			}
			require.Equal(t, pattern(2048), rest, "the bytes written, then the close; the pipelined request unanswered")
		})
		t.Run("no body", func(t *testing.T) {
			c := dial(t, addr)
			c.send(getReq("/short?cl=10&size=0"))
			require.NoError(t, c.conn.SetReadDeadline(time.Now().Add(ioTimeout)))
			r := &response{}
			require.NoError(t, readHead(c.br, r))
			require.Equal(t, 200, r.Status)
			require.Equal(t, "10", r.header(t, "Content-Length"))
			require.Equal(t, "close", r.header(t, "Connection"))
			rest, err := io.ReadAll(c.br)
			if err != nil {
				require.True(t, isReset(err), "read: %v", err)
			}
			require.Empty(t, rest)
		})
		assert.EqualValues(t, 2, closedBy(srv, "incomplete_response", 2), "ClosedBy %v", srv.Stats().ClosedBy)
	})
}

// TestIntegrationHead: HEAD gets the GET's header fields and no body, and
// the connection stays usable.
func TestIntegrationHead(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		_, addr := startServer(t, kahttp.Config{Mode: mode}, framingHandler)
		c := dial(t, addr)
		for _, target := range []string{"/stream?size=100", "/stream?size=4096", "/stream?size=5000", "/cl?size=70000", "/stream?size=0"} {
			get := c.roundTrip(getReq(target))
			head := c.roundTrip("HEAD " + target + " HTTP/1.1\r\nHost: x\r\n\r\n")
			require.Equal(t, get.StatusLine, head.StatusLine, target)
			require.Equal(t, withoutDate(get.Fields), withoutDate(head.Fields), target)
			// nothing follows the HEAD response: the next response parses
			r := c.roundTrip(getReq("/stream?size=3"))
			require.Equal(t, "abc", string(r.Body), target)
		}
		c.expectOpen()
	})
}

func withoutDate(fields [][2]string) [][2]string {
	var out [][2]string
	for _, f := range fields {
		if !strings.EqualFold(f[0], "Date") {
			out = append(out, f)
		}
	}
	return out
}

// TestIntegrationNoBodyStatus: 204 and 304 have no body and no
// Content-Length, and the connection stays usable.
func TestIntegrationNoBodyStatus(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		_, addr := startServer(t, kahttp.Config{Mode: mode}, func(w *kahttp.Response, r *kahttp.Request) {
			code, _ := strconv.Atoi(r.Query("code"))
			w.WriteHeader(code)
			if r.Query("write") != "" {
				_, err := w.WriteString("must not be sent")
				if err == nil {
					panic("Write on a no-body status succeeded")
				}
			}
		})
		c := dial(t, addr)
		for _, target := range []string{"/?code=204", "/?code=304", "/?code=204&write=1", "/?code=304&write=1"} {
			c.send(getReq(target))
			require.NoError(t, c.conn.SetReadDeadline(time.Now().Add(ioTimeout)))
			r := &response{}
			require.NoError(t, readHead(c.br, r))
			code, _ := strconv.Atoi(target[7:10])
			require.Equal(t, code, r.Status, target)
			require.False(t, r.has("Content-Length"), "%s: %v", target, r.Fields)
			require.False(t, r.has("Transfer-Encoding"), "%s: %v", target, r.Fields)
			require.Empty(t, r.header(t, "Connection"), target)
			c.expectOpen() // and no body bytes follow
		}
	})
}
