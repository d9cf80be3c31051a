package kahttp_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hashBody answers "<bytes> <sha256>" of the body read as a stream, or the
// read's error with its status.
func hashBody(w *kahttp.Response, r *kahttp.Request) {
	if r.Method() == "GET" {
		_, _ = w.WriteString("get " + r.Path())
		return
	}
	h := sha256.New()
	n, err := io.Copy(h, r.BodyReader())
	if err != nil {
		w.WriteError(err)
		return
	}
	_, _ = w.WriteString(strconv.FormatInt(n, 10) + " " + hex.EncodeToString(h.Sum(nil)))
}

func sumOf(b []byte) string {
	s := sha256.Sum256(b)
	return strconv.Itoa(len(b)) + " " + hex.EncodeToString(s[:])
}

// A large body streams to a pooled handler; the request pipelined after
// it is answered, and the connection goes on (back on the event loop).
func TestIntegrationStreamedBody(t *testing.T) {
	srv, addr := startServer(t, kahttp.Config{MaxBodyBytes: 64 << 20}, hashBody)
	body := bytes.Repeat([]byte("0123456789abcdef"), (8<<20)/16)
	c := dial(t, addr)
	c.send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
	c.send(string(body) + getReq("/after"))
	assert.Equal(t, sumOf(body), string(c.readResponse(false).Body))
	assert.Equal(t, "get /after", string(c.readResponse(false).Body))
	for i := range 3 { // the same connection, back on a loop, streams again
		small := body[:1<<20+i]
		c.send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(len(small)) + "\r\n\r\n")
		c.send(string(small))
		assert.Equal(t, sumOf(small), string(c.readResponse(false).Body))
	}
	assert.EqualValues(t, 1, srv.Stats().ConnsAccepted)
}

// Go's client with a chunked body of unknown length, and with
// Expect: 100-continue: the body streams; 100 Continue comes on the first read.
func TestIntegrationStreamedBodyFromGoClient(t *testing.T) {
	_, addr := startServer(t, kahttp.Config{MaxBodyBytes: 64 << 20}, hashBody)
	piece := bytes.Repeat([]byte("z"), 100_000)
	want := bytes.Repeat(piece, 50)
	for _, expect := range []bool{false, true} {
		pr, pw := io.Pipe()
		go func() {
			for range 50 {
				_, _ = pw.Write(piece)
			}
			_ = pw.Close()
		}()
		req, err := http.NewRequest("POST", "http://"+addr+"/up", pr)
		require.NoError(t, err)
		if expect {
			req.Header.Set("Expect", "100-continue")
		}
		resp, err := (&http.Client{Transport: &http.Transport{ExpectContinueTimeout: 5 * time.Second}}).Do(req)
		require.NoError(t, err)
		got, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		assert.Equal(t, sumOf(want), string(got), "expect %v", expect)
	}
}

// Expect: 100-continue to a handler that answers without reading: no
// 100 Continue is sent, and the connection closes after the answer (the
// body may or may not follow).
func TestIntegrationStreamedBodyNotReadAfterExpect(t *testing.T) {
	_, addr := startServer(t, kahttp.Config{}, func(w *kahttp.Response, r *kahttp.Request) {
		w.Error(kahttp.StatusUnauthorized, "log in first")
	})
	c := dial(t, addr)
	c.send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n")
	r := c.readResponse(false)
	assert.Equal(t, 401, r.Status, "a final answer, not 100 Continue")
	assert.Equal(t, "close", r.header(t, "Connection"))
	c.expectClosed()
}

// A chunked body past MaxBodyBytes: the handler's read fails with 413, and
// the client gets 413 even from a handler that ignores the error.
func TestIntegrationStreamedBodyTooLarge(t *testing.T) {
	_, addr := startServer(t, kahttp.Config{MaxBodyBytes: 1 << 20}, func(w *kahttp.Response, r *kahttp.Request) {
		_, err := io.Copy(io.Discard, r.BodyReader())
		var re *kahttp.RequestError
		if assert.True(t, errors.As(err, &re), "%v", err) {
			assert.Equal(t, 413, re.Status)
		}
	})
	c := dial(t, addr)
	c.send("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
	chunk := "10000\r\n" + strings.Repeat("x", 0x10000) + "\r\n"
	for range 20 { // 1.25 MiB
		if _, err := c.conn.Write([]byte(chunk)); err != nil {
			break // closed once the limit was passed
		}
	}
	r := c.readResponse(false)
	assert.Equal(t, 413, r.Status)
	assert.Equal(t, "close", r.header(t, "Connection"))
}

// A handler slower than its client slows the client down: the server does
// not buffer the body (its heap stays small while 64 MiB go through), and a
// client that vanishes mid-body makes the handler's read fail, leaving no
// goroutine behind.
func TestIntegrationStreamedBodyBackpressureAndAbort(t *testing.T) {
	readErr := make(chan error, 1)
	_, addr := startServer(t, kahttp.Config{MaxBodyBytes: 1 << 30}, countBody(readErr))
	runtime.GC()
	before := heapInUse()
	goroutines := runtime.NumGoroutine()

	const size = 64 << 20
	c := dial(t, addr)
	c.send("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(size) + "\r\n\r\n")
	piece := bytes.Repeat([]byte("b"), 1<<20)
	var peak int64
	for range size / len(piece) {
		c.send(string(piece))
		peak = max(peak, heapInUse())
	}
	assert.Equal(t, strconv.Itoa(size), string(c.readResponse(false).Body))
	t.Logf("heap in use grew by at most %d KiB while %d MiB streamed to a slow handler", (peak-before)>>10, size>>20)
	assert.Less(t, peak-before, int64(16<<20), "the body must not be buffered")

	// A client that vanishes mid-body.
	a := dial(t, addr)
	a.send("POST /abort HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n" + strings.Repeat("a", 200_000))
	_ = a.conn.Close()
	select {
	case err := <-readErr:
		assert.Error(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the handler's read did not fail")
	}
	_ = c.conn.Close()
	assert.Eventually(t, func() bool { return runtime.NumGoroutine() <= goroutines+1 }, 5*time.Second, 10*time.Millisecond,
		"goroutines %d, before %d", runtime.NumGoroutine(), goroutines)
}

// countBody answers the number of body bytes it read, pausing now and
// then on /slow; a failed read goes to readErr.
func countBody(readErr chan<- error) kahttp.HandlerFunc {
	return func(w *kahttp.Response, r *kahttp.Request) {
		buf := make([]byte, 64<<10)
		var n int64
		for {
			m, err := r.BodyReader().Read(buf)
			n += int64(m)
			if err == io.EOF {
				_, _ = w.WriteString(strconv.FormatInt(n, 10))
				return
			}
			if err != nil {
				readErr <- err
				return
			}
			if r.Path() == "/slow" && n%(4<<20) < 64<<10 {
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
}

func heapInUse() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// Per-route body limits: a streaming route takes bodies far past
// Config.MaxBodyBytes while the others keep it, and a route may take less.
func TestIntegrationRouteBodyLimit(t *testing.T) {
	rt := kahttp.NewRouter()
	rt.POST("/upload", kahttp.HandlerFunc(hashBody), kahttp.WithBodyLimit(64<<20))
	rt.POST("/small", kahttp.HandlerFunc(hashBody))
	rt.POST("/inline", kahttp.HandlerFunc(hashBody), kahttp.WithMode(kahttp.Inline))
	rt.POST("/tiny", kahttp.HandlerFunc(hashBody), kahttp.WithBodyLimit(1<<10))
	srv := kahttp.NewServer(rt, kahttp.Config{MaxBodyBytes: 1 << 20})
	require.NoError(t, srv.Start("127.0.0.1:0"))
	t.Cleanup(func() { shutdown(t, srv) })
	addr := srv.Addr().String()

	big := bytes.Repeat([]byte("u"), 8<<20)
	c := dial(t, addr)
	c.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(len(big)) + "\r\n\r\n" + string(big))
	assert.Equal(t, sumOf(big), string(c.readResponse(false).Body), "past MaxBodyBytes on the route that takes it")

	tests := []struct {
		name, req string
	}{
		{"declared length past the default, refused before the body",
			"POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\nExpect: 100-continue\r\n\r\n"},
		{"chunked past the default on an inline route",
			"POST /inline HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
				strings.Repeat("8000\r\n"+strings.Repeat("c", 0x8000)+"\r\n", 40)},
		{"a whole body past a smaller route limit",
			"POST /tiny HTTP/1.1\r\nHost: x\r\nContent-Length: 2048\r\n\r\n" + strings.Repeat("t", 2048)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, addr)
			_ = c.conn.SetWriteDeadline(time.Now().Add(ioTimeout))
			_, _ = c.conn.Write([]byte(tt.req)) // may fail once the server closed
			r := c.readResponse(false)
			assert.Equal(t, 413, r.Status)
			assert.Equal(t, "close", r.header(t, "Connection"))
		})
	}
	ok := dial(t, addr)
	ok.send("POST /tiny HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\n\r\n" + strings.Repeat("t", 1024))
	assert.Equal(t, 200, ok.readResponse(false).Status, "up to its limit")
}

// The loop ↔ goroutine hand-off under load: several connections each
// stream uploads (Content-Length and chunked), each followed by a
// pipelined request, while other connections load the same loops with
// pipelined requests; every upload's hash and every answer is checked,
// and each connection goes on after its goroutine gives it back.
func TestIntegrationStreamedBodiesUnderLoad(t *testing.T) {
	_, addr := startServer(t, kahttp.Config{Loops: 2, MaxBodyBytes: 16 << 20}, hashBody)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); pipelineLoad(ctx, addr, 16) }()
	}
	errs := make(chan error, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- uploadLoop(ctx, addr, i)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	t.Logf("%d uploads streamed beside the load", uploadsDone.Load())
	assert.Positive(t, uploadsDone.Load())
}

var uploadsDone atomic.Int64

// uploadLoop uploads bodies of 200 KB to 2 MB on one connection until ctx
// ends, each with a GET pipelined behind it, checking both answers.
func uploadLoop(ctx context.Context, addr string, seed int) error {
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return err
	}
	defer c.Close()
	br := bufio.NewReader(c)
	n := 0
	defer func() { uploadsDone.Add(int64(n)) }()
	for ; ctx.Err() == nil; n++ {
		size := 200_000 + (seed*7919+n*104729)%1_800_000
		body := bytes.Repeat([]byte{byte('a' + (seed+n)%26)}, size)
		var req bytes.Buffer
		if n%2 == 0 {
			fmt.Fprintf(&req, "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", size)
			req.Write(body)
		} else {
			req.WriteString("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
			for off := 0; off < size; off += 65536 {
				piece := body[off:min(off+65536, size)]
				fmt.Fprintf(&req, "%x\r\n%s\r\n", len(piece), piece)
			}
			req.WriteString("0\r\n\r\n")
		}
		req.WriteString("GET /after HTTP/1.1\r\nHost: x\r\n\r\n")
		_ = c.SetDeadline(time.Now().Add(ioTimeout))
		if _, err := c.Write(req.Bytes()); err != nil {
			return fmt.Errorf("upload %d: %w", n, err)
		}
		r, err := parseResponse(br, false)
		if err != nil {
			return fmt.Errorf("upload %d: %w", n, err)
		}
		if string(r.Body) != sumOf(body) {
			return fmt.Errorf("upload %d of %d bytes: answer %q", n, size, r.Body)
		}
		if r, err = parseResponse(br, false); err != nil || string(r.Body) != "get /after" {
			return fmt.Errorf("upload %d: the request after it: %v %q", n, err, r)
		}
	}
	return nil
}
