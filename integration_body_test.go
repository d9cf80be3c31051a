package kahttp_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bodyEcho answers with the body, the X-Sum trailer, and the Content-Length
// seen by the handler. The body is read first: a body that streams (chunked
// to a pooled handler, here when sent byte by byte) has its trailers and
// de-chunked length only once read, as in net/http.
func bodyEcho(w *kahttp.Response, r *kahttp.Request) {
	body := r.Body()
	w.Header().Set("X-Trailer-Sum", r.Trailer("X-Sum"))
	w.Header().Set("X-Body-Len", strconv.FormatInt(r.ContentLength(), 10))
	_, _ = w.Write(body)
}

// TestIntegrationChunkedRequest: a chunked body with extensions and
// trailers is decoded for the handler, sent whole or byte by byte.
func TestIntegrationChunkedRequest(t *testing.T) {
	t.Parallel()
	req := "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n" +
		"5;ext=1\r\nhello\r\n" +
		"6;a=\"q s\";b\r\n world\r\n" +
		"A\r\n0123456789\r\n" +
		"0;last\r\nX-Sum: 42\r\nX-Other: y\r\n\r\n"
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		_, addr := startServer(t, kahttp.Config{Mode: mode}, bodyEcho)
		for _, split := range []string{"one-write", "byte-by-byte"} {
			t.Run(split, func(t *testing.T) {
				c := dial(t, addr)
				if split == "one-write" {
					c.send(req + req)
				} else {
					c.sendByteByByte(req + req)
				}
				for range 2 {
					r := c.readResponse(false)
					require.Equal(t, 200, r.Status)
					assert.Equal(t, "hello world0123456789", string(r.Body))
					assert.Equal(t, "42", r.header(t, "X-Trailer-Sum"))
					assert.Equal(t, "21", r.header(t, "X-Body-Len"))
				}
				c.expectOpen()
			})
		}
	})
}

// TestIntegrationExpectContinue: the server answers 100 Continue to a
// request whose body has not arrived, then the final response.
func TestIntegrationExpectContinue(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		_, addr := startServer(t, kahttp.Config{Mode: mode}, bodyEcho)
		c := dial(t, addr)
		c.send("POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n")
		r := c.readInterim()
		assert.Equal(t, "HTTP/1.1 100 Continue", r.StatusLine)
		assert.Empty(t, r.Fields)
		c.send("hello world")
		r = c.readResponse(false)
		assert.Equal(t, 200, r.Status)
		assert.Equal(t, "hello world", string(r.Body))
		c.expectOpen()

		// Chunked, and a second time on the same connection.
		c.send("POST /e HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
		r = c.readInterim()
		assert.Equal(t, "HTTP/1.1 100 Continue", r.StatusLine)
		c.send("3\r\nabc\r\n0\r\n\r\n")
		r = c.readResponse(false)
		assert.Equal(t, 200, r.Status)
		assert.Equal(t, "abc", string(r.Body))
		c.expectOpen()

		// Body sent along with the head: no 100 needed, and none sent.
		c.send("POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nhi")
		r = c.readResponse(false)
		assert.Equal(t, 200, r.Status)
		assert.Equal(t, "hi", string(r.Body))
		c.expectOpen()
	})
}

// TestIntegrationExpectContinueTooLarge: a Content-Length above
// MaxBodyBytes gets 413 without 100 Continue, then the close.
func TestIntegrationExpectContinueTooLarge(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		srv, addr := startServer(t, kahttp.Config{Mode: mode, MaxBodyBytes: 1024}, bodyEcho)
		c := dial(t, addr)
		c.send("POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\nExpect: 100-continue\r\n\r\n")
		r := c.readResponse(false)
		assert.Equal(t, "HTTP/1.1 413 Content Too Large", r.StatusLine)
		assert.Equal(t, "close", r.header(t, "Connection"))
		c.expectClosed()
		assert.EqualValues(t, 1, closedBy(srv, "bad_request", 1))

		// The limit itself is fine.
		c = dial(t, addr)
		c.send("POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\nExpect: 100-continue\r\n\r\n")
		assert.Equal(t, 100, c.readInterim().Status)
		c.send(strings.Repeat("z", 1024))
		r = c.readResponse(false)
		assert.Equal(t, 200, r.Status)
		assert.Len(t, r.Body, 1024)
	})
}

// TestIntegrationBodyByteByByte: a Content-Length body arriving a byte at a
// time, slower than nothing but within the idle timeout, is served.
func TestIntegrationBodyByteByByte(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		_, addr := startServer(t, kahttp.Config{Mode: mode, HeaderTimeout: 5 * time.Second}, bodyEcho)
		c := dial(t, addr)
		body := string(pattern(3000))
		c.sendByteByByte("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n" + body)
		r := c.readResponse(false)
		require.Equal(t, 200, r.Status)
		require.Equal(t, body, string(r.Body))
		c.expectOpen()
	})
}

// A large Content-Length body arriving in pieces is parsed once, when it is
// all in (the loop waits for its last byte instead of re-reading what it
// holds on every read), keeps its connection's timer alive while it
// arrives, and the request pipelined right after it is answered too.
func TestIntegrationLargeBodyInPieces(t *testing.T) {
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		const size = 3 << 20
		_, addr := startServer(t, kahttp.Config{Mode: mode, IdleTimeout: time.Second},
			func(w *kahttp.Response, r *kahttp.Request) {
				sum := sha256.Sum256(r.Body())
				_, _ = w.WriteString(r.Method() + " " + strconv.Itoa(len(r.Body())) + " " + hex.EncodeToString(sum[:]))
			})
		body := bytes.Repeat([]byte("0123456789abcdef"), size/16)
		c := dial(t, addr)
		c.send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(size) + "\r\n\r\n")
		const piece = 256 << 10
		for off := 0; off < size-piece; off += piece {
			c.send(string(body[off : off+piece]))
			time.Sleep(150 * time.Millisecond) // 11 pauses: longer than IdleTimeout in all
		}
		c.send(string(body[size-piece:]) + getReq("/after"))
		sum := sha256.Sum256(body)
		assert.Equal(t, "POST "+strconv.Itoa(size)+" "+hex.EncodeToString(sum[:]), string(c.readResponse(false).Body))
		assert.Equal(t, "GET 0 "+hex.EncodeToString(sha256.New().Sum(nil)), string(c.readResponse(false).Body))
	})
}

// ReadTimeout bounds the whole request, body included: a body trickled a
// byte at a time, each well within IdleTimeout, still gets its 408 once
// the request has taken ReadTimeout (Content-Length and chunked alike).
func TestIntegrationReadTimeoutBoundsASlowBody(t *testing.T) {
	for _, framing := range []string{"Content-Length: 1000", "Transfer-Encoding: chunked"} {
		t.Run(framing, func(t *testing.T) {
			_, addr := startServer(t, kahttp.Config{ReadTimeout: 500 * time.Millisecond}, bodyEcho)
			c := dial(t, addr)
			c.send("POST /up HTTP/1.1\r\nHost: x\r\n" + framing + "\r\n\r\n")
			if strings.HasPrefix(framing, "Transfer") {
				c.send("3e8\r\n")
			}
			start := time.Now()
			for i := 0; i < 100 && time.Since(start) < 5*time.Second; i++ {
				if _, err := c.conn.Write([]byte("x")); err != nil {
					break // closed after the 408
				}
				time.Sleep(50 * time.Millisecond)
			}
			assert.Equal(t, 408, c.readResponse(false).Status)
		})
	}
}
