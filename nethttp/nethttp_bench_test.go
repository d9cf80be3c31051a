package nethttp_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/nethttp"
)

const benchReq = "GET /hello/gopher HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\n" +
	"Accept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n"

// benchServer measures whole requests over loopback on one keep-alive
// connection. The client reads into a fixed buffer and allocates nothing, so
// allocs/op are the server's (process-wide counts).
func benchServer(b *testing.B, pattern string, h kahttp.Handler) {
	rt := kahttp.NewRouter()
	rt.GET(pattern, h)
	base := start(b, rt, kahttp.Config{})
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	// The first response tells its length (all are the same size).
	if _, err := conn.Write([]byte(benchReq)); err != nil {
		b.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 {
		b.Fatalf("status %d", resp.StatusCode)
	}
	size := headLen(b, conn, br) // measure one more, raw
	buf := make([]byte, size)
	req := []byte(benchReq)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := conn.Write(req); err != nil {
			b.Fatal(err)
		}
		for n := 0; n < size; {
			m, err := br.Read(buf[n:])
			if err != nil {
				b.Fatal(err)
			}
			n += m
		}
	}
}

// headLen sends one request and returns the byte length of its response.
func headLen(b *testing.B, conn net.Conn, br *bufio.Reader) int {
	if _, err := conn.Write([]byte(benchReq)); err != nil {
		b.Fatal(err)
	}
	total := 0
	clen := -1
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			b.Fatal(err)
		}
		total += len(line)
		if strings.HasPrefix(strings.ToLower(line), "content-length:") {
			clen = atoi(strings.TrimSpace(line[len("content-length:"):]))
		}
		if line == "\r\n" {
			break
		}
	}
	if clen < 0 {
		b.Fatal("no Content-Length")
	}
	if _, err := br.Discard(clen); err != nil {
		b.Fatal(err)
	}
	return total + clen
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// BenchmarkAdapter compares a native handler with the same one written for
// net/http and wrapped: the difference in allocs/op is the adapter's cost.
func BenchmarkAdapter(b *testing.B) {
	b.Run("native", func(b *testing.B) {
		benchServer(b, "/hello/:name", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.WriteString("hello, ")
			_, _ = w.WriteString(r.Param("name"))
		}))
	})
	b.Run("nethttp", func(b *testing.B) {
		benchServer(b, "/hello/:name", nethttp.WrapFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte("hello, "))
			_, _ = w.Write([]byte(r.PathValue("name")))
		}))
	})
	b.Run("nethttp-static", func(b *testing.B) {
		h := nethttp.WrapFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte("hello, "))
			_, _ = w.Write([]byte(r.URL.Path[len("/hello/"):]))
		})
		benchServer(b, "/hello/gopher", h) // a static route: no PathValue to set
	})
}
