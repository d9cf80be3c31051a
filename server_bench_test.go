package kahttp

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The in-memory benchmarks run the HTTP layer (parse → route → respond) on a
// memConn, and pair each with net/http doing the same over an in-memory
// net.Conn (fasthttp's server_timing_test.go does the same).

const benchGET = "GET /plaintext HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\n" +
	"Accept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n"

var benchPlaintext = HandlerFunc(func(w *Response, r *Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.WriteString("Hello, World!")
})

var benchStream = HandlerFunc(func(w *Response, r *Request) {
	piece := benchPiece[:]
	for range 8 {
		_, _ = w.Write(piece)
	}
})

var benchPiece [1024]byte

func benchSession(b *testing.B, h Handler, mode Mode, req string) {
	m := newMemServer(h, Config{Mode: mode})
	m.c.discard = true
	clockStart() // as a running server's tick would
	defer clockStop()
	in := []byte(req)
	b.SetBytes(int64(len(req)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if n := m.traffic(in); n != len(in) {
			if m.s.t == nil {
				b.Fatalf("consumed %d of %d", n, len(in))
			}
			<-m.c.woken // pooled: wait for the worker, as the loop is woken
			m.s.traffic(in[n:])
		}
		m.c.afterTraffic()
	}
}

func BenchmarkServePlaintext(b *testing.B) {
	b.Run("kahttp-inline", func(b *testing.B) { benchSession(b, benchPlaintext, Inline, benchGET) })
	b.Run("kahttp-pooled", func(b *testing.B) { benchSession(b, benchPlaintext, Pooled, benchGET) })
	b.Run("nethttp", func(b *testing.B) { benchNetHTTP(b, benchGET) })
}

func BenchmarkServePipeline16(b *testing.B) {
	req := strings.Repeat(benchGET, 16)
	b.Run("kahttp-inline", func(b *testing.B) { benchSession(b, benchPlaintext, Inline, req) })
	b.Run("kahttp-pooled", func(b *testing.B) { benchSession(b, benchPlaintext, Pooled, req) })
	b.Run("nethttp", func(b *testing.B) { benchNetHTTP(b, req) })
}

// benchShortGET and benchBenchHandler are what bench/'s load generator
// sends and its /plaintext route answers: the load harness's request
// path without sockets, where the HTTP layer's own cost shows.
const benchShortGET = "GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"

var benchBenchHandler = HandlerFunc(func(w *Response, r *Request) {
	h := w.Header()
	h.Set("Server", "kahttp")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.WriteString("Hello, World!")
})

func BenchmarkServeShort(b *testing.B) {
	for _, n := range []int{1, 16} {
		req := strings.Repeat(benchShortGET, n)
		name := "x" + strconv.Itoa(n)
		b.Run("kahttp-inline/"+name, func(b *testing.B) { benchSession(b, benchBenchHandler, Inline, req) })
		b.Run("kahttp-pooled/"+name, func(b *testing.B) { benchSession(b, benchBenchHandler, Pooled, req) })
	}
}

func BenchmarkServeChunked8K(b *testing.B) {
	b.Run("kahttp-inline", func(b *testing.B) { benchSession(b, benchStream, Inline, benchGET) })
	b.Run("nethttp", func(b *testing.B) {
		benchNetHTTPHandler(b, benchGET, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for range 8 {
				_, _ = w.Write(benchPiece[:])
			}
		}))
	})
}

func benchNetHTTP(b *testing.B, req string) {
	benchNetHTTPHandler(b, req, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "Hello, World!")
	}))
}

// benchNetHTTPHandler serves b.N copies of req on one in-memory connection.
func benchNetHTTPHandler(b *testing.B, req string, h http.Handler) {
	c := &repeatConn{req: []byte(req), left: b.N, closed: make(chan struct{})}
	ln := &oneConnListener{c: c, done: make(chan struct{})}
	srv := &http.Server{Handler: h}
	b.SetBytes(int64(len(req)))
	b.ReportAllocs()
	b.ResetTimer()
	go func() { _ = srv.Serve(ln) }()
	<-c.closed
	b.StopTimer()
	_ = srv.Close()
}

// repeatConn reads as its request repeated left times, then EOF; writes vanish.
type repeatConn struct {
	req    []byte
	left   int
	rd     bytes.Reader
	once   sync.Once
	closed chan struct{}
}

func (c *repeatConn) Read(p []byte) (int, error) {
	if c.rd.Len() == 0 {
		if c.left == 0 {
			return 0, io.EOF
		}
		c.left--
		c.rd.Reset(c.req)
	}
	return c.rd.Read(p)
}
func (c *repeatConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *repeatConn) Close() error                     { c.once.Do(func() { close(c.closed) }); return nil }
func (c *repeatConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *repeatConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *repeatConn) SetDeadline(time.Time) error      { return nil }
func (c *repeatConn) SetReadDeadline(time.Time) error  { return nil }
func (c *repeatConn) SetWriteDeadline(time.Time) error { return nil }

type oneConnListener struct {
	c    net.Conn
	once sync.Once
	done chan struct{}
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	var c net.Conn
	l.once.Do(func() { c = l.c })
	if c != nil {
		return c, nil
	}
	<-l.done
	return nil, net.ErrClosed
}
func (l *oneConnListener) Close() error   { close(l.done); return nil }
func (l *oneConnListener) Addr() net.Addr { return &net.TCPAddr{} }
