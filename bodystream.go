package kahttp

import (
	"errors"
	"io"
	"os"
	"sync"

	"github.com/kahttp/kahttp/internal/wire"
	"github.com/valyala/bytebufferpool"
)

// A pooled request whose body is still arriving when its head is parsed
// (more than streamAbove left, chunked, or Expect: 100-continue) is not
// held until the body is in: the connection leaves the event loop for the
// handler's goroutine (blocking.go), and the handler reads the body as it
// arrives, from a bodyStream. Its reads are the socket's reads, so a
// handler slower than its client slows the client down (TCP's window), and
// memory per uploading connection is the one buffer below, whatever the
// speeds.

// streamAbove is how much body may still be missing when the head is
// parsed for the request to be held whole instead of streamed.
const streamAbove = 64 << 10

// bodyReadBuf is the size of a stream's buffer: what is received and not
// yet handed out (chunk-size lines, and the bytes read past the body).
const bodyReadBuf = 16 << 10

// bodySource is where a stream reads more bytes and writes 100 Continue.
type bodySource interface {
	read(p []byte) (int, error)
	write(b []byte) error
}

// Errors a streamed body's Read returns besides those of the chunked
// grammar (wire's, as RequestError: see bodyError). They are *RequestError,
// so WriteError and ErrorStatus answer with their status.
var (
	errStreamCut = &RequestError{Status: StatusBadRequest, Reason: "request body cut short",
		Err: io.ErrUnexpectedEOF}
	errStreamTimeout = &RequestError{Status: StatusRequestTimeout, Reason: reasonNotInTime,
		Err: os.ErrDeadlineExceeded}
)

// reasonNotInTime is the reason of every 408: a head or a body, held or
// streamed, that did not arrive in time.
const reasonNotInTime = "request not received in time"

type streamState uint8

const (
	streamData     streamState = iota // body bytes: left of them (in this chunk)
	streamSize                        // chunked: a chunk-size line next (wire.ChunkLine)
	streamCRLF                        // chunked: the CRLF after a chunk's data next (wire.ChunkDataEnd)
	streamTrailers                    // chunked: the trailer section next (wire.Trailers)
	streamDone                        // the whole body was read
)

// bodyStream is a request body read while it arrives: Content-Length or
// chunked, decoded on the fly by the parser's own chunked grammar, bounded
// by lim (MaxBody, and MaxHeaderBytes/MaxFields for the trailers). Used by
// one goroutine.
type bodyStream struct {
	src     bodySource
	buf     *bytebufferpool.ByteBuffer // received and not handed out: buf.B[off:]
	off     int
	chunked bool
	state   streamState
	left    int64 // body bytes left (Content-Length), or left in this chunk
	total   int64 // body bytes handed out
	lim     *wire.Limits
	err     error // sticky

	// expect100: the client waits for 100 Continue before sending the
	// body: sent on the first read, unless the response has begun.
	expect100, sent100 bool
	w                  *Response
	whole              *bytebufferpool.ByteBuffer // Body(): the body read whole
	trail              *bytebufferpool.ByteBuffer // the chunked trailer section, as received
	trailers           []wire.Field               // its fields: spans into trail
}

// trailer is the value of the trailer field name, once the body is read.
func (b *bodyStream) trailer(name string) string {
	if b.trail == nil {
		return ""
	}
	v, _ := lookupField(b.trail.B, b.trailers, name)
	return v
}

// length is the body's length: its Content-Length, or once a chunked body
// is read, its de-chunked length (-1 before).
func (b *bodyStream) length() int64 {
	if !b.chunked {
		return max(b.left+b.total, 0)
	}
	if b.state == streamDone {
		return b.total
	}
	return -1
}

func newBodyStream(src bodySource, received []byte, cl int64, chunked, expect100 bool, lim *wire.Limits) *bodyStream {
	b := &bodyStream{src: src, buf: bytebufferpool.Get(), chunked: chunked, lim: lim,
		expect100: expect100, left: cl}
	b.buf.B = append(b.buf.B[:0], received...)
	if chunked {
		b.state, b.left = streamSize, 0
	} else if cl <= 0 {
		b.state = streamDone
	}
	return b
}

// Read reads the body; io.EOF at its end. A malformed chunk, a body past
// the limit, a client that went away: a *RequestError (400, 413).
func (b *bodyStream) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.state == streamDone {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if err := b.continue100(); err != nil {
		return 0, b.fail(errStreamCut)
	}
	for {
		switch b.state {
		case streamDone:
			return 0, io.EOF
		case streamData:
			if b.left == 0 {
				b.state = streamDone
				if b.chunked {
					b.state = streamCRLF
				}
				continue
			}
			n, err := b.readData(p[:min(int64(len(p)), b.left)])
			b.left -= int64(n)
			b.total += int64(n)
			if b.total > b.lim.MaxBody {
				return 0, b.fail(wire.ErrBodyTooLarge)
			}
			if n > 0 {
				return n, nil
			}
			return 0, b.fail(err)
		case streamCRLF:
			if err := b.next(func(in []byte) (int, error) { return 2, wire.ChunkDataEnd(in) }); err != nil {
				return 0, b.fail(err)
			}
			b.state = streamSize
		case streamSize:
			var size int64
			err := b.next(func(in []byte) (n int, err error) {
				size, n, err = wire.ChunkLine(in)
				return n, err
			})
			if err != nil {
				return 0, b.fail(err)
			}
			if b.total+size > b.lim.MaxBody {
				return 0, b.fail(wire.ErrBodyTooLarge)
			}
			b.left, b.state = size, streamData
			if size == 0 {
				b.state = streamTrailers
			}
		case streamTrailers:
			err := b.next(func(in []byte) (n int, err error) {
				b.trailers, n, err = wire.Trailers(in, b.trailers[:0], b.lim)
				if err == nil && len(b.trailers) > 0 {
					b.trail = bytebufferpool.Get() // the fields' spans point into it
					b.trail.B = append(b.trail.B[:0], in[:n]...)
				}
				return n, err
			})
			if err != nil {
				return 0, b.fail(err)
			}
			b.state = streamDone
		}
	}
}

// next runs parse, a piece of the chunked grammar, on the bytes received
// and not handed out, reading more while it needs more (wire.ErrNeedMore:
// each piece bounds how much it may need), and consumes what it parsed.
func (b *bodyStream) next(parse func(in []byte) (int, error)) error {
	for {
		n, err := parse(b.buf.B[b.off:])
		if err == nil {
			b.off += n
			return nil
		}
		if err != wire.ErrNeedMore {
			return err
		}
		if err := b.fill(); err != nil {
			return err
		}
	}
}

// bodyBufs are WriteTo's buffers (apart from bytebufferpool, which sizes
// its buffers from what it gets back), 256 KiB: a read takes what the
// socket holds, up to that. Over loopback each read that opens the
// receive window sends an ACK, and the sender's queued segments go out
// in the reader's softirq: with 64 KiB reads, HttpArena's upload profile
// cost 1.15x fasthttp's CPU per request, with 256 KiB 1.00x (medians of 3).
// Held only while a body is copied.
var bodyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// copyBufs are the file server's buffers: it copies from a file into the
// response, which flushes every 64 KiB. 256 KiB was no clearer a gain on
// HttpArena's static profile (1.03 against 1.10x fasthttp's, one run
// each, inside the noise), and every download in progress holds one.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// WriteTo copies the rest of the body to dst through one bodyBufs buffer:
// io.Copy uses it, with an eighth of the reads of its own 32 KiB buffer.
func (b *bodyStream) WriteTo(dst io.Writer) (int64, error) {
	bp := bodyBufs.Get().(*[]byte)
	defer bodyBufs.Put(bp)
	p := *bp
	var total int64
	for {
		n, err := b.Read(p)
		if n > 0 {
			m, werr := dst.Write(p[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// continue100 sends 100 Continue before the first read, if the client
// asked for it and the response has not begun.
func (b *bodyStream) continue100() error {
	if !b.expect100 || b.sent100 {
		return nil
	}
	b.sent100 = true
	if b.w != nil && b.w.frame != framePending {
		return nil // a final response is on its way: too late for 100
	}
	return b.src.write([]byte("HTTP/1.1 100 Continue\r\n\r\n"))
}

// readData hands out body bytes: first those received, then straight from
// the socket into p, which never reaches past the body.
func (b *bodyStream) readData(p []byte) (int, error) {
	if b.off < len(b.buf.B) {
		n := copy(p, b.buf.B[b.off:])
		b.off += n
		return n, nil
	}
	n, err := b.src.read(p)
	if n == 0 && err == nil {
		err = io.ErrNoProgress
	}
	return n, err
}

// fill reads more into buf, after moving what is left to its start.
func (b *bodyStream) fill() error {
	n := copy(b.buf.B, b.buf.B[b.off:])
	b.buf.B, b.off = b.buf.B[:n], 0
	if cap(b.buf.B)-n < bodyReadBuf/2 {
		b.buf.B = append(b.buf.B, make([]byte, bodyReadBuf)...)[:n]
	}
	m, err := b.src.read(b.buf.B[n:cap(b.buf.B)])
	b.buf.B = b.buf.B[:n+m]
	if m > 0 {
		return nil
	}
	if err == nil || err == io.EOF {
		return errStreamCut
	}
	return err // fail classifies it
}

func (b *bodyStream) fail(err error) error {
	switch {
	case err == nil, err == io.EOF, errors.Is(err, io.ErrNoProgress):
		err = errStreamCut
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = errStreamTimeout
	default:
		err = bodyError(err)
	}
	b.err = err
	return err
}

// readWhole reads the rest of the body into memory, for Body and the
// helpers that want it whole.
func (b *bodyStream) readWhole() ([]byte, error) {
	if b.whole != nil {
		return b.whole.B, b.err
	}
	b.whole = bytebufferpool.Get()
	_, err := b.whole.ReadFrom(b)
	if err != nil {
		return nil, err
	}
	return b.whole.B, nil
}

// done reports whether the whole body has been read.
func (b *bodyStream) done() bool { return b.state == streamDone && b.err == nil }

// discard reads the rest of the body away, up to max bytes; false when it
// did not reach the end (too much left, or an error).
func (b *bodyStream) discard(max int64) bool {
	if b.done() {
		return true
	}
	if b.err != nil || b.expect100 && !b.sent100 {
		return false // the client may never send it
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(b, max))
	return b.done()
}

// rest is what was received after the body: the next pipelined requests.
func (b *bodyStream) rest() []byte { return b.buf.B[b.off:] }

func (b *bodyStream) release() {
	bytebufferpool.Put(b.buf)
	for _, bb := range [...]*bytebufferpool.ByteBuffer{b.whole, b.trail} {
		if bb != nil {
			bytebufferpool.Put(bb)
		}
	}
	b.buf, b.whole, b.trail, b.trailers, b.src, b.w = nil, nil, nil, nil, nil, nil
}
