package kahttp_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Large streamed responses arrive whole and in order, byte for byte, on
// pooled and inline connections, while other connections load the same
// loops with pipelined requests (the load is what delays the loop's queued
// writes behind its wake-ups).
func TestStreamIntegrityUnderLoad(t *testing.T) {
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		const size = 200_000
		piece := bytes.Repeat([]byte("x"), 1024)
		_, addr := startServer(t, kahttp.Config{Mode: mode, Loops: 1},
			func(w *kahttp.Response, r *kahttp.Request) {
				if r.Path() != "/stream" {
					_, _ = w.WriteString("Hello, World!")
					return
				}
				for left := size; left > 0; left -= len(piece) {
					if _, err := w.Write(piece[:min(left, len(piece))]); err != nil {
						return
					}
				}
			})

		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		var loaded atomic.Int64
		for range 4 { // the load: pipelines of 16, read back in full
			wg.Add(1)
			go func() {
				defer wg.Done()
				loaded.Add(int64(pipelineLoad(ctx, addr, 16)))
			}()
		}
		type result struct {
			checked int
			err     error
		}
		results := make(chan result, 4)
		for i := range 4 { // the checks: two keep-alive HTTP/1.1, two HTTP/1.0
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := checkStreams(ctx, addr, i%2 == 0, size)
				results <- result{n, err}
			}()
		}
		wg.Wait()
		close(results)
		checked := 0
		for r := range results {
			assert.NoError(t, r.err)
			checked += r.checked
		}
		t.Logf("%s: %d streamed responses checked beside %d pipelined requests", mode, checked, loaded.Load())
		require.Positive(t, checked)
	})
}

// checkStreams requests /stream until ctx ends and checks every byte of
// every response: HTTP/1.1 on one keep-alive connection (chunked; the
// next response must parse right after the last chunk), or HTTP/1.0 one
// connection per request (close-delimited).
func checkStreams(ctx context.Context, addr string, http11 bool, size int) (int, error) {
	want := strings.Repeat("x", size)
	var c net.Conn
	var br *bufio.Reader
	defer func() {
		if c != nil {
			_ = c.Close()
		}
	}()
	for n := 0; ; n++ {
		if ctx.Err() != nil {
			return n, nil
		}
		if c == nil || !http11 {
			if c != nil {
				_ = c.Close()
			}
			var err error
			if c, err = net.DialTimeout("tcp", addr, ioTimeout); err != nil {
				return n, err
			}
			br = bufio.NewReaderSize(c, 64<<10)
		}
		_ = c.SetDeadline(time.Now().Add(ioTimeout))
		req := "GET /stream HTTP/1.0\r\n\r\n"
		if http11 {
			req = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"
		}
		if _, err := c.Write([]byte(req)); err != nil {
			return n, err
		}
		r, err := parseResponse(br, false)
		if err != nil {
			return n, fmt.Errorf("response %d: %w", n, err)
		}
		wantFraming := map[bool]string{true: "chunked", false: "close"}[http11]
		if r.Status != 200 || r.Framing != wantFraming || string(r.Body) != want {
			return n, fmt.Errorf("response %d: status %d, framing %s, %d bytes, first difference at %d",
				n, r.Status, r.Framing, len(r.Body), firstDiff(r.Body, want))
		}
		if !http11 {
			if extra, _ := br.Peek(1); len(extra) > 0 {
				return n, fmt.Errorf("response %d: bytes after a close-delimited body", n)
			}
		}
	}
}

func firstDiff(got []byte, want string) int {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return i
		}
	}
	return min(len(got), len(want))
}

// pipelineLoad sends pipelines of depth requests on one connection and
// reads every answer back, until ctx ends; it returns the requests answered.
func pipelineLoad(ctx context.Context, addr string, depth int) int {
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return 0
	}
	defer c.Close()
	batch := []byte(strings.Repeat("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n", depth))
	br := bufio.NewReader(c)
	answered := 0
	for ctx.Err() == nil {
		_ = c.SetDeadline(time.Now().Add(ioTimeout))
		if _, err := c.Write(batch); err != nil {
			return answered
		}
		for range depth {
			if _, err := parseResponse(br, false); err != nil {
				return answered
			}
			answered++
		}
	}
	return answered
}

// Every response of every pipelined request comes back whole, on its own
// connection and in order, while eight connections pipeline at once into
// one loop: the batch buffer, the wake-up queue and (pooled) the worker
// hand-off and the tasks' buffers are shared by these connections in turn.
// Each request names its connection and its place, and its answer repeats
// that name, from a few bytes to past the response buffer (chunked) and past
// a pooled flush (a piece handed to the loop while the handler runs).
func TestPipelinesAnswerEachRequestUnderLoad(t *testing.T) {
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		_, addr := startServer(t, kahttp.Config{Mode: mode, Loops: 1},
			func(w *kahttp.Response, r *kahttp.Request) {
				body := pipelineAnswer(r.Path())
				for len(body) > 0 { // in pieces, as a handler that streams
					n := min(len(body), 3000)
					if _, err := w.Write(body[:n]); err != nil {
						return
					}
					body = body[n:]
				}
			})
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		var checked atomic.Int64
		for conn := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := checkPipelines(ctx, addr, conn)
				checked.Add(int64(n))
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			assert.NoError(t, err)
		}
		t.Logf("%s: %d pipelined responses checked", mode, checked.Load())
		require.Positive(t, checked.Load())
	})
}

// pipelineAnswer is the body /c<conn>/r<seq> gets: its path repeated, the
// count varying with seq from one to past 64 KiB.
func pipelineAnswer(path string) []byte {
	seq := 0
	if i := strings.LastIndex(path, "/r"); i >= 0 {
		_, _ = fmt.Sscan(path[i+2:], &seq)
	}
	reps := []int{1, 3, 40, 300, 1, 9000}[seq%6] // 9000 × ~10 B: past a 64 KiB flush
	return bytes.Repeat([]byte(path+";"), reps)
}

// checkPipelines sends batches of 12 distinct requests on one connection
// until ctx ends and checks each answer's status, body and order.
func checkPipelines(ctx context.Context, addr string, conn int) (int, error) {
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	br := bufio.NewReader(c)
	checked, seq := 0, 0
	for ctx.Err() == nil {
		var batch bytes.Buffer
		first := seq
		for range 12 {
			fmt.Fprintf(&batch, "GET /c%d/r%d HTTP/1.1\r\nHost: x\r\n\r\n", conn, seq)
			seq++
		}
		_ = c.SetDeadline(time.Now().Add(ioTimeout))
		if _, err := c.Write(batch.Bytes()); err != nil {
			return checked, err
		}
		for i := first; i < seq; i++ {
			r, err := parseResponse(br, false)
			if err != nil {
				return checked, fmt.Errorf("connection %d, request %d: %w", conn, i, err)
			}
			path := fmt.Sprintf("/c%d/r%d", conn, i)
			if r.Status != 200 || !bytes.Equal(r.Body, pipelineAnswer(path)) {
				return checked, fmt.Errorf("connection %d, request %d: status %d, %d body bytes starting %q, want %d bytes of %q",
					conn, i, r.Status, len(r.Body), r.Body[:min(len(r.Body), 40)], len(pipelineAnswer(path)), path)
			}
			checked++
		}
	}
	return checked, nil
}

// New connections arriving in waves while the loop is busy with pipelined
// load are each served whole: the accept loop's concurrent hand-overs
// (several connections opened in one batch of the loop's events) and the
// busy loop's assist are on this path. Each wave dials 32 connections at
// once; each sends one request naming itself, with Connection: close, and
// checks its status, body and the close.
func TestNewConnectionWavesUnderLoad(t *testing.T) {
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		_, addr := startServer(t, kahttp.Config{Mode: mode, Loops: 1},
			func(w *kahttp.Response, r *kahttp.Request) { _, _ = w.Write(pipelineAnswer(r.Path())) })
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		defer cancel()
		var load sync.WaitGroup
		loadErrs := make(chan error, 4)
		for conn := range 4 {
			load.Add(1)
			go func() {
				defer load.Done()
				_, err := checkPipelines(ctx, addr, 100+conn)
				loadErrs <- err
			}()
		}
		waves, served := 0, atomic.Int64{}
		for ; ctx.Err() == nil && waves < 40; waves++ {
			var wave sync.WaitGroup
			errs := make(chan error, 32)
			for i := range 32 {
				wave.Add(1)
				go func() {
					defer wave.Done()
					errs <- checkOneOnNewConnection(addr, fmt.Sprintf("/w%d/c%d/r%d", waves, i, i))
				}()
			}
			wave.Wait()
			close(errs)
			for err := range errs {
				if !assert.NoError(t, err) {
					cancel()
				} else {
					served.Add(1)
				}
			}
		}
		cancel()
		load.Wait()
		close(loadErrs)
		for err := range loadErrs {
			assert.NoError(t, err)
		}
		t.Logf("%s: %d waves, %d new connections checked", mode, waves, served.Load())
		require.Positive(t, served.Load())
	})
}

// checkOneOnNewConnection dials, sends GET path with Connection: close and
// checks the answer's status and body, and that the server then closes.
func checkOneOnNewConnection(addr, path string) error {
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path); err != nil {
		return err
	}
	br := bufio.NewReader(c)
	r, err := parseResponse(br, false)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if want := pipelineAnswer(path); r.Status != 200 || !bytes.Equal(r.Body, want) {
		return fmt.Errorf("%s: status %d, %d body bytes, want %d", path, r.Status, len(r.Body), len(want))
	}
	if extra, err := br.ReadByte(); err != io.EOF {
		return fmt.Errorf("%s: after the answer %q, %v: want the close", path, extra, err)
	}
	return nil
}
