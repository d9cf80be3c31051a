package kahttp

import (
	"errors"
	"io"
	"iter"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/kahttp/kahttp/internal/wire"
	"github.com/valyala/bytebufferpool"
)

// Errors a handler's Write may return.
var (
	// ErrBodyNotAllowed: the status (1xx, 204, 304) has no body.
	ErrBodyNotAllowed = errors.New("kahttp: response status does not allow a body")
	// ErrContentLength: more bytes than the Content-Length the handler set.
	ErrContentLength = errors.New("kahttp: wrote more than the declared Content-Length")
	// ErrConnClosed: the connection is gone; the rest of the response is dropped.
	ErrConnClosed = errors.New("kahttp: connection closed")
)

// Response is what a handler writes to: status, header fields and body.
//
// The body is held up to Config.ResponseBufferSize so that the server can
// send Content-Length and keep the connection open; past that (or after
// Flush) it goes out chunked on HTTP/1.1, or close-delimited on HTTP/1.0.
// A handler that sets Content-Length itself has its body streamed as is,
// and held to that length. A Response must not be used after the handler returns.
type Response struct {
	// Kept from use to use (the pool's reason to exist): the header's
	// capacity and name memo, and the hold buffer.
	header ResponseHeader
	hold   []byte // body held until the framing is decided

	responseState // one use's; releaseResponse zeroes it in one store
}

// responseState is a Response's state for one exchange.
type responseState struct {
	status int

	req  *Request
	srv  *Server
	sink sink
	out  *bytebufferpool.ByteBuffer // the sink's buffer, where the wire bytes go

	frame    framing
	declared int64 // Content-Length set by the handler, or -1
	written  int64 // body bytes the handler wrote
	isHead   bool
	aborted  bool // a handler panicked after the head was sent
	// inErrorWriter: an ErrorWriter runs (answers.go); its own
	// WriteError writes text instead of calling it again
	inErrorWriter bool
	onFinish      func(*Response) // OnFinish's, run once the response is complete
	err           error

	filter io.WriteCloser // Filter: what the body goes through first, nil for none

	keepAlive bool        // the connection stays open after this response
	reason    closeReason // why not, when it does not
	left      int         // requests left on the connection after this one; -1 = no limit
}

// sink is where a response's bytes go: the connection's output for the
// handlers its owner runs (session), a worker's own buffer for a pooled
// batch's (pooledSink).
type sink interface {
	buffer() *bytebufferpool.ByteBuffer
	flush() error // push the buffer's bytes to the connection now
}

var responsePool = sync.Pool{New: func() any { return &Response{} }}

func acquireResponse(req *Request, srv *Server, s sink, keep bool, reason closeReason, left int) *Response {
	w := responsePool.Get().(*Response)
	w.req, w.srv, w.sink = req, srv, s
	w.out = s.buffer()
	w.declared = -1
	w.isHead = req.Method() == "HEAD"
	w.keepAlive, w.reason, w.left = keep, reason, left
	req.poison = srv.cfg.PoisonViews // the request's views are overwritten when it is released
	return w
}

func releaseResponse(w *Response) {
	w.header.reset()
	if cap(w.hold) > maxKeptHold {
		w.hold = nil
	} else {
		w.hold = w.hold[:0]
	}
	w.responseState = responseState{}
	responsePool.Put(w)
}

// Header is the response's header fields; change them before the first
// Write or Flush (the head is sent then, or when the handler returns).
func (w *Response) Header() *ResponseHeader { return &w.header }

// WriteHeader sets the status code. It takes effect when the head is sent;
// calls after that are ignored.
func (w *Response) WriteHeader(code int) {
	if w.frame != framePending || code < 100 || code > 999 {
		return
	}
	w.status = code
}

// Filter makes the body go through the writer wrap returns, which writes
// the transformed body to dst (the response's own writer, with its
// threshold: a transformed body that fits still gets Content-Length) and
// is closed when the handler returns. For middleware that transforms
// bodies (compression); set it before the handler writes. The writer may
// also have Flush() error, which Response.Flush calls first.
func (w *Response) Filter(wrap func(dst io.Writer) io.WriteCloser) {
	w.filter = wrap(rawWriter{w})
}

// rawWriter is the response's writer past its filter.
type rawWriter struct{ w *Response }

func (r rawWriter) Write(p []byte) (int, error) { return r.w.write(p) }

// Status is the status code set so far (200 once the body has started).
func (w *Response) Status() int {
	if w.status == 0 {
		return 200
	}
	return w.status
}

// Written is the number of body bytes the handler has written.
func (w *Response) Written() int64 { return w.written }

// Sent is the number of body bytes that go out: Written, but 0 for a HEAD
// request, and the server's answer's when it replaced the handler's.
func (w *Response) Sent() int64 {
	if w.isHead {
		return 0
	}
	return w.written
}

// OnFinish makes f run once the response is complete, as the client gets
// it: after the handler returned and after any answer the server gave
// instead (413 of a body that failed, 500 after a panic); after a Hijack,
// when the handler returns (status 101). For middleware that reports what was sent (AccessLog):
// Status and Sent then say it. It runs where the handler ran; several
// run in the reverse order of their calls.
func (w *Response) OnFinish(f func(*Response)) {
	if prev := w.onFinish; prev != nil {
		w.onFinish = func(w *Response) { f(w); prev(w) }
		return
	}
	w.onFinish = f
}

// HeadSent reports whether the status line and header fields have been sent
// (after which the status and header can no longer change).
func (w *Response) HeadSent() bool { return w.frame != framePending }

// KeepAlive reports whether the connection is to stay open after this
// response, as far as is known now.
func (w *Response) KeepAlive() bool { return w.keepAlive }

// ResponseHeader holds a response's header fields, in the order set.
// Names compare case-insensitively and are sent as given.
type ResponseHeader struct {
	kv   []field
	have kinds // which fields the server itself reads are set
	// names are the last names Add found valid, by the address and length
	// of their bytes, with their kind: a handler sets the same literal
	// names on every response, and a string's bytes never change (the
	// pointer held keeps them from being reused). reset keeps them, so a
	// pooled Response validates a name once, not on every response.
	names [4]nameMemo
	next  uint8 // the entry of names the next new name replaces
}

type nameMemo struct {
	p    *byte
	n    int
	kind kinds
}

type field struct {
	key, value string
	kind       kinds
}

// kinds marks the fields the server reads or writes itself, found once
// when a field is added instead of by comparing names on every response.
type kinds uint8

const (
	kindContentLength kinds = 1 << iota
	kindTransferEncoding
	kindConnection
	kindKeepAlive
	kindDate
	kindServer

	kindFraming = kindContentLength | kindTransferEncoding | kindConnection | kindKeepAlive
)

func kindOf(key string) kinds {
	switch len(key) {
	case 4:
		if strings.EqualFold(key, "Date") {
			return kindDate
		}
	case 6:
		if strings.EqualFold(key, "Server") {
			return kindServer
		}
	case 10:
		if strings.EqualFold(key, "Connection") {
			return kindConnection
		}
		if strings.EqualFold(key, "Keep-Alive") {
			return kindKeepAlive
		}
	case 14:
		if strings.EqualFold(key, "Content-Length") {
			return kindContentLength
		}
	case 17:
		if strings.EqualFold(key, "Transfer-Encoding") {
			return kindTransferEncoding
		}
	}
	return 0
}

// Set replaces the values of key with value.
func (h *ResponseHeader) Set(key, value string) {
	if len(h.kv) > 0 {
		h.Del(key)
	}
	h.Add(key, value)
}

// Add adds a value for key. Fields whose name is not a valid token are
// dropped, and CR or LF in a value become spaces (no response splitting).
func (h *ResponseHeader) Add(key, value string) {
	k, ok := h.name(key)
	if !ok {
		return
	}
	if wire.HasLineBreak(value) {
		value = strings.NewReplacer("\r", " ", "\n", " ").Replace(value)
	}
	h.have |= k
	h.kv = append(h.kv, field{key, value, k})
}

// name is key's kind, and whether key is a valid field name: remembered
// (names), else validFieldName and kindOf.
func (h *ResponseHeader) name(key string) (kinds, bool) {
	p := unsafe.StringData(key)
	for _, m := range h.names {
		if m.p == p && m.n == len(key) && p != nil {
			return m.kind, true
		}
	}
	if !validFieldName(key) {
		return 0, false
	}
	k := kindOf(key)
	h.names[h.next%uint8(len(h.names))] = nameMemo{p, len(key), k}
	h.next++
	return k, true
}

// Get returns the first value of key, or "".
func (h *ResponseHeader) Get(key string) string {
	v, _ := h.lookup(key)
	return v
}

// Has reports whether key is set.
func (h *ResponseHeader) Has(key string) bool {
	_, ok := h.lookup(key)
	return ok
}

func (h *ResponseHeader) lookup(key string) (string, bool) {
	for _, f := range h.kv {
		if strings.EqualFold(f.key, key) {
			return f.value, true
		}
	}
	return "", false
}

// get returns the first value of a field the server reads, by its kind.
func (h *ResponseHeader) get(k kinds) string {
	if h.have&k == 0 {
		return ""
	}
	for _, f := range h.kv {
		if f.kind == k {
			return f.value
		}
	}
	return ""
}

// Del removes every value of key.
func (h *ResponseHeader) Del(key string) {
	i := 0
	for i < len(h.kv) && !strings.EqualFold(h.kv[i].key, key) {
		i++
	}
	if i == len(h.kv) {
		return // the usual case (Set of a new name): nothing moves
	}
	kv := h.kv[:i]
	h.have = 0
	for _, f := range h.kv[:i] {
		h.have |= f.kind
	}
	for _, f := range h.kv[i+1:] {
		if !strings.EqualFold(f.key, key) {
			kv = append(kv, f)
			h.have |= f.kind
		}
	}
	clear(h.kv[len(kv):])
	h.kv = kv
}

// All yields every field in order.
func (h *ResponseHeader) All() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, f := range h.kv {
			if !yield(f.key, f.value) {
				return
			}
		}
	}
}

func (h *ResponseHeader) reset() {
	clear(h.kv)
	h.kv, h.have = h.kv[:0], 0
}

func validFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenByte(s[i]) {
			return false
		}
	}
	return true
}

// appendHead appends the status line and header section for the framing
// chosen; length is the Content-Length for frameLength.
func (w *Response) appendHead(b []byte, frame framing, length int64) []byte {
	b = appendStatusLine(b, w.status)
	for i := range w.header.kv {
		f := &w.header.kv[i]
		if f.kind&kindFraming != 0 && !(w.status == StatusSwitchingProtocols && f.kind == kindConnection) {
			continue // the server frames the message and decides the connection's fate
		}
		b = append(b, f.key...)
		b = append(b, ": "...)
		b = append(b, f.value...)
		b = append(b, "\r\n"...)
	}
	if w.header.have&kindDate == 0 {
		b = appendDate(b)
	}
	if w.header.have&kindServer == 0 && w.srv.cfg.ServerName != "" {
		b = append(b, "Server: "...)
		b = append(b, w.srv.cfg.ServerName...)
		b = append(b, "\r\n"...)
	}
	switch frame {
	case frameLength:
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, length, 10)
		b = append(b, "\r\n"...)
	case frameChunked:
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	}
	return w.appendConnection(b)
}

// appendConnection appends the Connection (and Keep-Alive) fields and the
// empty line that ends the head.
func (w *Response) appendConnection(b []byte) []byte {
	switch {
	case w.status == StatusSwitchingProtocols:
		b = append(b, "\r\n"...) // the handler's Connection: Upgrade went out with its fields
	case !w.keepAlive:
		b = append(b, "Connection: close\r\n\r\n"...)
	case w.req.w.Minor == 0:
		// HTTP/1.0 keep-alive must be confirmed, or the client assumes a close.
		b = append(b, "Connection: keep-alive\r\nKeep-Alive: timeout="...)
		b = strconv.AppendInt(b, int64(w.srv.cfg.IdleTimeout.Seconds()), 10)
		if w.left >= 0 {
			b = append(b, ", max="...)
			b = strconv.AppendInt(b, int64(w.left), 10)
		}
		b = append(b, "\r\n\r\n"...)
	default:
		b = append(b, "\r\n"...)
	}
	return b
}

// userWantsClose reports whether the handler set "Connection: close".
func (w *Response) userWantsClose() bool {
	if w.header.have&kindConnection == 0 {
		return false
	}
	for _, f := range w.header.kv {
		if f.kind == kindConnection && strings.Contains(strings.ToLower(f.value), "close") {
			return true
		}
	}
	return false
}

func isTokenByte(c byte) bool { return wire.IsToken(c) }
