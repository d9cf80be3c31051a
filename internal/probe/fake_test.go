package probe

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// startRaw starts a TCP server on 127.0.0.1:0 that runs handle for every
// connection, and returns its http:// URL. The listener, every connection
// and every goroutine are gone when the test ends.
func startRaw(t *testing.T, handle func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var (
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = struct{}{}
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					mu.Lock()
					delete(conns, c)
					mu.Unlock()
					_ = c.Close()
				}()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("fake server goroutines did not end")
		}
	})
	return "http://" + ln.Addr().String() + "/"
}

// fakeReq is a request as the fake servers see it.
type fakeReq struct {
	method, target, proto string
	header                map[string]string // lower-case names
	leadingBlank          bool              // empty lines came before the request line
}

func (r *fakeReq) hasToken(name, tok string) bool {
	for _, v := range strings.Split(r.header[name], ",") {
		if strings.EqualFold(strings.TrimSpace(v), tok) {
			return true
		}
	}
	return false
}

// readFakeReq reads one request (and discards its body).
func readFakeReq(br *bufio.Reader) (*fakeReq, error) {
	r := &fakeReq{header: map[string]string{}}
	var line string
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		line = strings.TrimRight(l, "\r\n")
		if line != "" {
			break
		}
		r.leadingBlank = true
	}
	parts := strings.Split(line, " ")
	if len(parts) != 3 {
		return nil, fmt.Errorf("bad request line %q", line)
	}
	r.method, r.target, r.proto = parts[0], parts[1], parts[2]
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		l = strings.TrimRight(l, "\r\n")
		if l == "" {
			break
		}
		k, v, _ := strings.Cut(l, ":")
		r.header[strings.ToLower(k)] = strings.TrimSpace(v)
	}
	if cl := r.header["content-length"]; cl != "" {
		n, err := strconv.Atoi(cl)
		if err != nil {
			return nil, err
		}
		if _, err := io.CopyN(io.Discard, br, int64(n)); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// fake is a configurable, mostly well-behaved HTTP/1.x server whose
// misbehaviours are switched on one by one.
type fake struct {
	idle        time.Duration // close a connection idle this long (0: never)
	maxReq      int           // end the connection after this many requests (0: never)
	announce    bool          // ...saying Connection: close on the last response
	closeEach   bool          // close after every response, without notice
	ka10        bool          // honour HTTP/1.0 Connection: keep-alive
	kaHeader    string        // Keep-Alive header sent with 1.0 keep-alive responses
	crlf        string        // a request preceded by empty lines: "" ok, "400", "close"
	pipeline    string        // "" normal, "first-only" (drop the rest of a batch), "reverse"
	chunked10   bool          // send chunked bodies to HTTP/1.0 clients too
	largePath   string        // path answered with a large body of unknown length
	largeBytes  int
	noEcho      bool   // bodies do not carry the request target
	notFound200 bool   // the not-found path is answered 200 (its body still differs)
	answer      string // when set: every request is answered 200 with this body, as nginx's `return 200 "…"`
	http10      bool   // answer with an HTTP/1.0 status line, as python3 -m http.server does
}

func (f fake) start(t *testing.T) string { return startRaw(t, f.serve) }

func (f fake) serve(c net.Conn) {
	br := bufio.NewReader(c)
	n := 0
	for {
		if f.idle > 0 {
			_ = c.SetReadDeadline(time.Now().Add(f.idle))
		}
		req, err := readFakeReq(br)
		if err != nil {
			return
		}
		batch := []*fakeReq{req}
		if f.pipeline != "" {
			time.Sleep(20 * time.Millisecond) // let the whole pipeline arrive
			for br.Buffered() > 0 {
				r, err := readFakeReq(br)
				if err != nil {
					return
				}
				batch = append(batch, r)
			}
		}
		switch f.pipeline {
		case "first-only":
			batch = batch[:1]
		case "reverse":
			for i, j := 0, len(batch)-1; i < j; i, j = i+1, j-1 {
				batch[i], batch[j] = batch[j], batch[i]
			}
		}
		var out []byte
		closeNow := false
		for _, r := range batch {
			n++
			resp, cl := f.respond(r, n)
			out = append(out, resp...)
			if cl {
				closeNow = true
				break
			}
		}
		if _, err := c.Write(out); err != nil || closeNow {
			return
		}
	}
}

func (f fake) respond(r *fakeReq, n int) (out []byte, closeConn bool) {
	if r.leadingBlank {
		switch f.crlf {
		case "400":
			return []byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), true
		case "close":
			return nil, true
		}
	}
	status, body := "200 OK", "ok "+r.target
	if strings.HasPrefix(r.target, "/kaprobe-not-found") {
		status, body = "404 Not Found", "no "+r.target
		if f.notFound200 {
			status = "200 OK"
		}
	}
	if f.noEcho {
		body = body[:2]
	}
	if f.answer != "" {
		status, body = "200 OK", f.answer
	}
	is10 := r.proto == "HTTP/1.0"
	var h strings.Builder
	switch {
	case is10 && f.ka10 && r.hasToken("connection", "keep-alive"):
		h.WriteString("Connection: keep-alive\r\n")
		if f.kaHeader != "" {
			h.WriteString("Keep-Alive: " + f.kaHeader + "\r\n")
		}
	case is10:
		closeConn = true
	case r.hasToken("connection", "close"):
		closeConn = true
		h.WriteString("Connection: close\r\n")
	}
	if f.maxReq > 0 && n >= f.maxReq {
		if f.announce && !closeConn {
			h.WriteString("Connection: close\r\n")
		}
		closeConn = true
	}
	if f.closeEach {
		closeConn = true
	}
	framed := fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
	if f.largePath != "" && strings.HasPrefix(r.target, f.largePath) {
		body = strings.Repeat("x", f.largeBytes)
		switch {
		case !is10 || f.chunked10:
			framed = fmt.Sprintf("Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(body), body)
		default:
			framed, closeConn = "\r\n"+body, true
		}
	}
	proto := "HTTP/1.1 "
	if f.http10 {
		proto = "HTTP/1.0 "
	}
	return []byte(proto + status + "\r\n" + h.String() + framed), closeConn
}

// readAll reads a whole request, then answers with resp (raw bytes), then
// does what after says: "close", "reset", "hang".
func answerRaw(resp string, after string) func(c net.Conn) {
	return func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			if _, err := readFakeReq(br); err != nil {
				return
			}
			if resp != "" {
				if _, err := c.Write([]byte(resp)); err != nil {
					return
				}
			}
			switch after {
			case "close":
				return
			case "reset":
				if tc, ok := c.(*net.TCPConn); ok {
					_ = tc.SetLinger(0)
				}
				return
			case "hang":
				_, _ = io.Copy(io.Discard, c) // until the client or the cleanup closes
				return
			}
		}
	}
}
