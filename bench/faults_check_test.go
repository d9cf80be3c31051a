package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"testing"
)

// chunkedX renders a chunked body of 'x' bytes in chunks of the given sizes,
// with the last chunk.
func chunkedX(sizes ...int) string {
	var b strings.Builder
	for _, n := range sizes {
		fmt.Fprintf(&b, "%x\r\n%s\r\n", n, strings.Repeat("x", n))
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}

const (
	head11Chunked = "HTTP/1.1 200 OK\r\nServer: s\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
	head10Close   = "HTTP/1.0 200 OK\r\nServer: s\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
	head11Close   = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
)

func TestCheckStreamResponse(t *testing.T) {
	x := func(n int) string { return strings.Repeat("x", n) }
	cases := []struct {
		name    string
		raw     string
		want    int64
		http10  bool
		framing string
		keep    bool
		err     string // substring of the error; "" means the response is correct
	}{
		{name: "chunked", raw: head11Chunked + chunkedX(1024, 1024, 952), want: 3000, framing: "chunked", keep: true},
		{name: "chunked, upper-case hex and an extension", raw: head11Chunked + "BB8;a=b\r\n" + x(3000) + "\r\n0\r\n\r\n", want: 3000, framing: "chunked", keep: true},
		{name: "chunked then Connection: close and EOF", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunkedX(3000), want: 3000, framing: "chunked"},
		{name: "content-length", raw: "HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n" + x(3000), want: 3000, framing: "content-length", keep: true},
		{name: "content-length to HTTP/1.0, then EOF", raw: "HTTP/1.1 200 OK\r\nContent-Length: 3000\r\nConnection: close\r\n\r\n" + x(3000), want: 3000, http10: true, framing: "content-length"},
		{name: "close-delimited to HTTP/1.0", raw: head10Close + x(3000), want: 3000, http10: true, framing: "close"},
		{name: "close-delimited HTTP/1.1 with Connection: close", raw: head11Close + x(3000), want: 3000, framing: "close"},
		{name: "empty body", raw: head11Chunked + "0\r\n\r\n", want: 0, framing: "chunked", keep: true},

		{name: "nothing at all", raw: "", want: 3000, err: "closed before a response"},
		{name: "status 500", raw: "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n", want: 3000, err: "status 500"},
		{name: "garbage status line", raw: "xxxxxxxxxxxxxxxx\r\n\r\n", want: 3000, err: "malformed status line"},
		{name: "header line without CR", raw: "HTTP/1.1 200 OK\nContent-Length: 1\r\n\r\nx", want: 1, err: "does not end in CRLF"},
		{name: "one byte not x", raw: head11Chunked + "5\r\nxxyxx\r\n0\r\n\r\n", want: 5, err: `body byte 2 is 'y'`},
		{name: "wrong byte in a later chunk", raw: head11Chunked + "3\r\nxxx\r\n3\r\nxx\x00\r\n0\r\n\r\n", want: 6, err: `body byte 5 is '\x00'`},
		{name: "chunked too short", raw: head11Chunked + chunkedX(2999), want: 3000, err: "chunked body of 2999 bytes, want 3000"},
		{name: "chunked too long", raw: head11Chunked + chunkedX(3001), want: 3000, err: "more than 3000"},
		{name: "chunk without its CRLF", raw: head11Chunked + "3\r\nxxxx\r\n0\r\n\r\n", want: 3, err: "not followed by CRLF"},
		{name: "chunk size garbage", raw: head11Chunked + "zz\r\nxxx\r\n0\r\n\r\n", want: 3, err: "malformed chunk size"},
		{name: "cut inside a chunk", raw: head11Chunked + "5\r\nxx", want: 5, err: "cut short at byte 2"},
		{name: "no last chunk", raw: head11Chunked + "3\r\nxxx\r\n", want: 3, err: "chunk size"},
		{name: "no empty line after the last chunk", raw: head11Chunked + "3\r\nxxx\r\n0\r\n", want: 3, err: "after the last chunk"},
		{name: "trailer after the last chunk", raw: head11Chunked + "3\r\nxxx\r\n0\r\nX-T: 1\r\n\r\n", want: 3, err: "trailer or garbage"},
		{name: "bytes after a keep-alive response", raw: head11Chunked + chunkedX(3) + "xx", want: 3, err: "2 bytes after the response"},
		{name: "second response already there", raw: head11Chunked + chunkedX(3) + "HTTP/1.1 200 OK\r\n", want: 3, err: "bytes after the response"},
		{name: "chunked to HTTP/1.0", raw: head11Chunked + chunkedX(3), want: 3, http10: true, err: "chunked response to an HTTP/1.0 request"},
		{name: "chunked in an HTTP/1.0 response", raw: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedX(3), want: 3, err: "chunked framing in an HTTP/1.0 response"},
		{name: "chunked and Content-Length", raw: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n" + chunkedX(3), want: 3, err: "both"},
		{name: "Content-Length differs", raw: "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nxxxx", want: 3, err: "Content-Length 4, want 3"},
		{name: "two Content-Lengths", raw: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nxxx", want: 3, err: "two different"},
		{name: "Content-Length body cut", raw: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nxx", want: 3, err: "cut short"},
		{name: "Content-Length to HTTP/1.0 then more bytes", raw: "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nxxxHTTP", want: 3, http10: true, err: "instead of a close"},
		{name: "close-delimited too short", raw: head10Close + x(2999), want: 3000, http10: true, err: "2999 bytes, want 3000"},
		{name: "close-delimited too long", raw: head10Close + x(3001), want: 3000, http10: true, err: "longer than 3000"},
		{name: "close-delimited with a wrong byte", raw: head10Close + x(100) + "\r\n0\r\n\r\n", want: 105, http10: true, err: `body byte 100 is '\r'`},
		{name: "unknown transfer coding", raw: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", want: 3, err: "unexpected Transfer-Encoding"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A small buffer makes the checker cross buffer boundaries.
			br := bufio.NewReaderSize(strings.NewReader(c.raw), 64)
			res, err := checkStreamResponse(br, streamCheck{Want: c.want, HTTP10: c.http10})
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if res.Framing != c.framing || res.Keep != c.keep {
				t.Errorf("framing %q keep %v, want %q keep %v", res.Framing, res.Keep, c.framing, c.keep)
			}
		})
	}
}

// Two keep-alive responses back to back, read one at a time as the scenario
// does: the second arrives only after the first was checked.
func TestCheckStreamResponseSequence(t *testing.T) {
	one := head11Chunked + chunkedX(1024, 1024, 1024, 1024, 904)
	r := &stepReader{avail: one}
	br := bufio.NewReaderSize(r, 1024)
	for i := 0; i < 2; i++ {
		res, err := checkStreamResponse(br, streamCheck{Want: 5000})
		if err != nil || !res.Keep || res.Framing != "chunked" {
			t.Fatalf("response %d: %+v, %v", i, res, err)
		}
		if i == 0 {
			r.avail = one // the next request was sent and answered
		}
	}
	if _, err := checkStreamResponse(br, streamCheck{Want: 5000}); err != errNoResponse {
		t.Fatalf("after the last response: %v, want errNoResponse", err)
	}
}

// stepReader yields avail, then EOF until avail is set again.
type stepReader struct{ avail string }

func (s *stepReader) Read(p []byte) (int, error) {
	if s.avail == "" {
		return 0, io.EOF
	}
	n := copy(p, s.avail)
	s.avail = s.avail[n:]
	return n, nil
}
