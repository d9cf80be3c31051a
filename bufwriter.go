package kahttp

import (
	"strconv"
)

// framing is how a response body is delimited on the wire.
type framing uint8

const (
	framePending framing = iota // body held; framing not decided, head not sent
	frameLength                 // Content-Length: computed from the held body, or declared
	frameChunked                // HTTP/1.1 chunked: the body outgrew the buffer, or was flushed
	frameClose                  // HTTP/1.0 past the buffer: the body ends when the connection closes
	frameNone                   // no body: 1xx, 204, 304 (HEAD keeps the GET's framing, minus the bytes)
)

// maxKeptHold is the largest held-body buffer a pooled Response keeps for
// its next use: the default threshold's fits, a large configured one's is
// let go.
const maxKeptHold = 64 << 10

// flushAt is how much a response may pile up in its sink before it is
// pushed to the connection: it bounds memory for large streamed bodies.
const flushAt = 64 << 10

// Write writes body bytes. Held while they fit in the response buffer;
// past it the head goes out and the body streams. A body filter
// (Response.Filter) sees them first.
func (w *Response) Write(p []byte) (int, error) {
	if w.filter != nil && w.err == nil {
		return w.filter.Write(p)
	}
	return w.write(p)
}

// write is Write past the filter: the threshold writer itself.
func (w *Response) write(p []byte) (int, error) {
	if w.srv == nil { // a zero Response: ErrNoServer (unbound.go), not a nil dereference
		return 0, ErrNoServer
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.status == 0 {
		w.status = 200
	}
	if w.frame == framePending {
		if !bodyAllowed(w.status) {
			return 0, ErrBodyNotAllowed
		}
		if !w.declaredLength() && int(w.written)+len(p) <= w.srv.cfg.ResponseBufferSize {
			if !w.isHead {
				w.hold = append(w.hold, p...)
			}
			w.written += int64(len(p))
			return len(p), nil
		}
		w.frameNow(false) // past the buffer, or a declared length: the head goes out
	}
	return w.writeFramed(p)
}

// WriteString is Write for a string, without a copy.
func (w *Response) WriteString(s string) (int, error) {
	return w.Write(s2b(s))
}

// Flush sends the head and everything written so far now. The body can no
// longer get a computed Content-Length: it continues chunked (HTTP/1.1) or
// close-delimited (HTTP/1.0), unless the handler set Content-Length.
func (w *Response) Flush() error {
	if w.srv == nil { // a zero Response: see Write
		return ErrNoServer
	}
	if f, ok := w.filter.(interface{ Flush() error }); ok && w.err == nil {
		if err := f.Flush(); err != nil {
			return err
		}
	}
	if w.err != nil {
		return w.err
	}
	if w.frame == framePending {
		if w.status == 0 {
			w.status = 200
		}
		w.frameNow(false)
	}
	return w.push()
}

// writeFramed writes p once the head is out.
func (w *Response) writeFramed(p []byte) (int, error) {
	switch w.frame {
	case frameNone:
		return 0, ErrBodyNotAllowed
	case frameLength:
		if w.written+int64(len(p)) > w.declared {
			return 0, ErrContentLength
		}
		w.appendBody(p)
	case frameChunked:
		if len(p) == 0 || w.isHead {
			break
		}
		w.out.B = strconv.AppendInt(w.out.B, int64(len(p)), 16)
		w.out.B = append(w.out.B, "\r\n"...)
		w.out.B = append(w.out.B, p...)
		w.out.B = append(w.out.B, "\r\n"...)
	case frameClose:
		w.appendBody(p)
	}
	w.written += int64(len(p))
	if len(w.out.B) >= flushAt {
		if err := w.push(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (w *Response) appendBody(p []byte) {
	if !w.isHead {
		w.out.B = append(w.out.B, p...)
	}
}

// declaredLength reports whether the handler set a valid Content-Length,
// and records it.
func (w *Response) declaredLength() bool {
	if w.declared >= 0 {
		return true
	}
	v := w.header.get(kindContentLength)
	if v == "" {
		return false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		w.header.Del("Content-Length") // not a length: ignore it and frame the body ourselves
		return false
	}
	w.declared = n
	return true
}

// frameNow decides the body's framing, the one place that does, and sends
// the head: when the handler flushes or writes past the buffer (end false),
// or when it returns with the head not sent yet (end true: the whole body
// is held, so its length is known).
func (w *Response) frameNow(end bool) {
	switch {
	case !bodyAllowed(w.status):
		w.commit(frameNone, 0)
	case w.declaredLength():
		if end && w.declared > w.written && !w.isHead {
			w.closeAfter(reasonIncomplete) // a declared body that never came
		}
		w.commit(frameLength, w.declared)
	case end:
		w.commit(frameLength, w.written)
	case w.req.w.Minor == 1:
		w.commit(frameChunked, 0)
	default:
		// RFC 9112 forbids chunked to an HTTP/1.0 client: the close marks the end.
		w.closeAfter(reasonUnknownLength)
		w.commit(frameClose, 0)
	}
}

// commit decides the connection's fate, sends the head, then the held body.
func (w *Response) commit(frame framing, length int64) {
	if w.userWantsClose() {
		w.closeAfter(reasonHandlerClose)
	}
	if w.srv.draining.Load() {
		w.closeAfter(reasonShutdown) // the next response of every connection says close
	}
	w.frame = frame
	if frame == frameLength {
		w.declared = length
	}
	w.out.B = w.appendHead(w.out.B, frame, length)
	if len(w.hold) > 0 {
		held := w.hold
		w.hold = nil // so writeFramed does not see it twice
		w.written -= int64(len(held))
		_, _ = w.writeFramed(held)
		w.hold = held[:0] // kept for the Response's next use
	}
}

// finish completes the response after the handler returned.
func (w *Response) finish() {
	if w.aborted || w.err == ErrHijacked {
		return // no terminating chunk: the client must see the body is cut off
	}
	if f := w.filter; f != nil {
		w.filter = nil
		if err := f.Close(); err != nil && w.err == nil {
			w.err = err
		}
	}
	if w.status == 0 {
		w.status = 200
	}
	switch w.frame {
	case framePending:
		w.frameNow(true)
	case frameChunked:
		if !w.isHead {
			w.out.B = append(w.out.B, "0\r\n\r\n"...)
		}
	}
	if w.frame == frameLength && w.written < w.declared && !w.isHead {
		w.closeAfter(reasonIncomplete) // the client is owed bytes it will never get
	}
}

// push hands the sink's bytes to the connection.
func (w *Response) push() error {
	err := w.sink.flush()
	w.out = w.sink.buffer()
	if err != nil && w.err == nil {
		w.err = err
		w.closeAfter(reasonWriteError)
	}
	return err
}

func (w *Response) closeAfter(r closeReason) {
	if w.keepAlive {
		w.keepAlive, w.reason = false, r
	}
}

func bodyAllowed(status int) bool {
	return status >= 200 && status != 204 && status != 304
}

// appendStatusLine appends "HTTP/1.1 200 OK\r\n". Responses are HTTP/1.1
// whatever the request's minor version (RFC 9110 §6.2).
func appendStatusLine(b []byte, code int) []byte {
	if int(code) < len(statusLines) && statusLines[code] != "" {
		return append(b, statusLines[code]...)
	}
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	b = append(b, StatusText(code)...)
	return append(b, "\r\n"...)
}

var statusLines = func() []string {
	lines := make([]string, 512)
	for code := range lines {
		if t := StatusText(code); t != "" {
			lines[code] = "HTTP/1.1 " + strconv.Itoa(code) + " " + t + "\r\n"
		}
	}
	return lines
}()
