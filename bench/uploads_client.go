package main

import (
	"bufio"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The upload scenario's client: a body generator that never holds more
// than one block, and one upload on its own connection.

const (
	uploadBlock = 1 << 20  // the generator's block, repeated to make a body
	uploadChunk = 32 << 10 // chunk size of chunked bodies (what io.Copy into net/http's chunked writer makes)
	uploadWrite = 64 << 10 // bytes per write to the socket
)

// uploadGen makes request bodies of any size: a block of pseudo-random
// bytes (fixed seed), repeated; chunked framing is laid out once for the
// block. It writes straight from the block, so a 1 GiB body costs the
// client one block of memory and no copying.
type uploadGen struct {
	block  []byte
	framed []byte // block as chunks of chunk bytes with their framing
	chunk  int
}

func newUploadGen(blockSize, chunk int, seed uint64) *uploadGen {
	g := &uploadGen{block: make([]byte, blockSize), chunk: chunk}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := 0; i < blockSize; i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8 && i+j < blockSize; j++ {
			g.block[i+j] = byte(v >> (8 * j))
		}
	}
	g.framed = appendChunks(nil, g.block, chunk)
	return g
}

// appendChunks appends p as chunks of at most chunk bytes, with their
// framing (hex size, CRLF, data, CRLF).
func appendChunks(dst, p []byte, chunk int) []byte {
	for off := 0; off < len(p); off += chunk {
		end := min(off+chunk, len(p))
		dst = strconv.AppendInt(dst, int64(end-off), 16)
		dst = append(dst, "\r\n"...)
		dst = append(dst, p[off:end]...)
		dst = append(dst, "\r\n"...)
	}
	return dst
}

// writeBody writes a body of size bytes to w, chunked or not (then as
// exactly size bytes, for a Content-Length), in writes of at most
// uploadWrite bytes. It returns the bytes written, framing included.
func (g *uploadGen) writeBody(w io.Writer, size int64, chunked bool) (int64, error) {
	src := g.block
	if chunked {
		src = g.framed
	}
	var wrote int64
	write := func(p []byte) error {
		for len(p) > 0 {
			n, err := w.Write(p[:min(len(p), uploadWrite)])
			wrote += int64(n)
			if err != nil {
				return err
			}
			p = p[n:]
		}
		return nil
	}
	for i := size / int64(len(g.block)); i > 0; i-- {
		if err := write(src); err != nil {
			return wrote, err
		}
	}
	rest := g.block[:size%int64(len(g.block))]
	if !chunked {
		return wrote, write(rest)
	}
	if err := write(appendChunks(nil, rest, g.chunk)); err != nil {
		return wrote, err
	}
	return wrote, write([]byte("0\r\n\r\n"))
}

// answer is what a server must answer for a body of size bytes: its
// length and SHA-256, computed by hashing the generated body once.
func (g *uploadGen) answer(size int64) string {
	h := sha256.New()
	n, _ := g.writeBody(h, size, false)
	return uploadAnswer(n, h.Sum(nil))
}

// uploadResult is what one upload got back.
type uploadResult struct {
	Status  int
	Body    string
	Elapsed time.Duration // from the dial to the end of the response
	Err     error         // the connection or the request failed
}

// check compares the result with the answer wanted.
func (r uploadResult) check(want string) error {
	switch {
	case r.Err != nil:
		return r.Err
	case r.Status != 200:
		return fmt.Errorf("status %d: %.80q", r.Status, r.Body)
	}
	if got := strings.TrimSpace(r.Body); got != want {
		gn, gh, _ := strings.Cut(got, " ")
		wn, wh, _ := strings.Cut(want, " ")
		switch {
		case gn != wn:
			return fmt.Errorf("answered %.80q: %s bytes, want %s", got, gn, wn)
		case gh != wh:
			return fmt.Errorf("answered the wrong SHA-256 %.16s…", gh)
		}
		return fmt.Errorf("answered %.80q, want %q", got, want)
	}
	return nil
}

// uploadHead is the request head of an upload.
func uploadHead(size int64, chunked bool) string {
	fr := "Content-Length: " + strconv.FormatInt(size, 10)
	if chunked {
		fr = "Transfer-Encoding: chunked"
	}
	return "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n" + fr + "\r\n\r\n"
}

// doUpload makes one upload on a new connection (over TLS with cfg): the
// body is written by one goroutine while this one waits for the answer
// (which a server may send early, to refuse the body), all within timeout.
func doUpload(addr string, cfg *tls.Config, size int64, chunked bool, gen *uploadGen, timeout time.Duration) uploadResult {
	var res uploadResult
	t0 := time.Now()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		res.Err = err
		return res
	}
	if cfg != nil {
		c = tls.Client(c, cfg)
	}
	defer c.Close()
	c.SetDeadline(t0.Add(timeout))
	werr := make(chan error, 1)
	go func() {
		_, err := io.WriteString(c, uploadHead(size, chunked))
		if err == nil {
			_, err = gen.writeBody(c, size, chunked)
		}
		werr <- err
	}()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		c.Close() // stops the writer
		if we := <-werr; we != nil {
			err = fmt.Errorf("%w (writing the body: %v)", err, we)
		}
		res.Err = err
		return res
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	res.Elapsed = time.Since(t0)
	res.Status, res.Body, res.Err = resp.StatusCode, string(body), err
	if res.Status != 200 || err != nil {
		c.Close() // an early answer: the rest of the body is not wanted
		<-werr
		return res
	}
	// A 200 came after the server read the whole body: the writer is done.
	if we := <-werr; we != nil && res.Err == nil {
		res.Err = fmt.Errorf("writing the body: %w", we)
	}
	return res
}
