package kahttp

import (
	"bytes"
	"context"
	"io"
	"iter"
	"net"
	"strings"
	"sync"
	"unsafe"

	"github.com/kahttp/kahttp/internal/tree"
	"github.com/kahttp/kahttp/internal/wire"
)

// Request is one parsed HTTP/1.x request.
//
// Everything it returns — strings and byte slices alike — is a view into the
// connection's input buffer (or, for a pooled handler, a pooled copy of it),
// valid only until the handler returns. The strings are not copies: keep one
// past the handler with strings.Clone. A Request must not be used after the
// handler returns.
type Request struct {
	w     wire.Request
	buf   []byte // the raw request; views point into it
	arena []byte // decoded path and query values

	path    string // decoded path
	params  []Param
	scratch tree.Params // the router's lookup positions, reused
	remote  net.Addr
	ctx     reqContext
	srv     *Server         // for ShuttingDown
	uctx    context.Context // set by SetContext (values.go): what Context returns instead of &ctx
	poison  bool            // overwrite buf and arena on release (Config.PoisonViews; poison.go)
	stream  *bodyStream     // the body, when it streams (exchange.go: streamHere); nil when held whole
	// bodyLimit: the route's (WithBodyLimit), set by the router; 0: the
	// server's. limits: the parser's limits with it, once routed early.
	bodyLimit int64
	limits    wire.Limits
	routed    bool
	bodyGot   int64        // bytes of body in when its timer was last armed (session.incomplete)
	bodyRd    bytes.Reader // BodyReader over a body held whole
	// errw is the ErrorWriter of the group that owns the request (set by
	// the router); answer, the server's answer to it when its handler does
	// not run (answerRequestError).
	errw   ErrorWriter
	answer *RequestError
}

// Param is one router parameter: Value is a view into the request path.
type Param struct {
	Key, Value string
}

var requestPool = sync.Pool{New: func() any { return &Request{} }}

// acquireRequest takes a Request whose parsed fields the next wire.Parse
// sets: a caller that reads them without parsing resets r.w first.
func acquireRequest() *Request {
	r := requestPool.Get().(*Request)
	r.w.Restart()
	return r
}

func releaseRequest(r *Request) {
	if r.poison {
		r.poisonViews()
	}
	r.buf, r.arena, r.path, r.params, r.remote, r.srv = nil, r.arena[:0], "", r.params[:0], nil, nil
	r.stream = nil
	r.bodyRd.Reset(nil)
	r.bodyLimit, r.routed, r.bodyGot = 0, false, 0
	r.errw, r.answer = nil, nil
	r.poison = false
	r.ctx.reset()
	r.uctx = nil
	requestPool.Put(r)
}

// bind makes r's views point into buf (the bytes the request was parsed
// from) and decodes the path.
func (r *Request) bind(buf []byte) {
	r.buf = buf
	p := r.w.Path.Of(buf)
	if !r.w.PathEscaped {
		r.path = b2s(p)
		return
	}
	start := len(r.arena)
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '%' { // validated by the parser
			c = byte(wire.HexValue(p[i+1])<<4 | wire.HexValue(p[i+2]))
			i += 2
		}
		r.arena = append(r.arena, c)
	}
	r.path = b2s(r.arena[start:])
}

// move re-points the request at raw, a copy of the bytes it was parsed
// from, so it stays valid while a pooled handler runs and the loop moves
// on; the path and the router's parameters follow.
func (r *Request) move(raw []byte) {
	old := r.path
	r.buf = raw
	if r.w.PathEscaped {
		return // the decoded path, and so the parameters, live in the arena
	}
	r.path = b2s(r.w.Path.Of(r.buf))
	for i := range r.params {
		r.params[i].Value = rebase(r.params[i].Value, old, r.path)
	}
}

// rebase returns the substring of now at the place v has in old.
func rebase(v, old, now string) string {
	if v == "" {
		return ""
	}
	off := int(uintptr(unsafe.Pointer(unsafe.StringData(v))) - uintptr(unsafe.Pointer(unsafe.StringData(old))))
	return now[off : off+len(v)]
}

// Method is the request method, e.g. "GET".
func (r *Request) Method() string { return method(r.w.Method.Of(r.buf)) }

// Target is the request-target as sent, e.g. "/search?q=go".
func (r *Request) Target() string { return b2s(r.w.Target.Of(r.buf)) }

// Path is the decoded path of the target ("/a b" for "/a%20b").
func (r *Request) Path() string { return r.path }

// RawPath is the path as sent, still percent-encoded.
func (r *Request) RawPath() string { return b2s(r.w.Path.Of(r.buf)) }

// RawQuery is the query string as sent, without the '?'.
func (r *Request) RawQuery() string { return b2s(r.w.Query.Of(r.buf)) }

// Query returns the decoded value of the first query parameter named name,
// or "" if there is none.
func (r *Request) Query(name string) string {
	v, _ := r.LookupQuery(name)
	return v
}

// LookupQuery is Query that also reports whether the parameter is present.
func (r *Request) LookupQuery(name string) (string, bool) {
	for key, val := range pairs(r.w.Query.Of(r.buf)) {
		if r.unescapeEqual(key, name) {
			return r.unescape(val), true
		}
	}
	return "", false
}

// Proto is "HTTP/1.1" or "HTTP/1.0".
func (r *Request) Proto() string {
	if r.w.Minor == 0 {
		return "HTTP/1.0"
	}
	return "HTTP/1.1"
}

// ProtoMinor is 1 for HTTP/1.1 and 0 for HTTP/1.0.
func (r *Request) ProtoMinor() int { return int(r.w.Minor) }

// Host is the Host header.
func (r *Request) Host() string { return b2s(r.w.Host.Of(r.buf)) }

// Header returns the first value of the header field name (case-insensitive), or "".
func (r *Request) Header(name string) string {
	v, _ := r.LookupHeader(name)
	return v
}

// LookupHeader is Header that also reports whether the field is present.
func (r *Request) LookupHeader(name string) (string, bool) {
	return lookupField(r.buf, r.w.Fields, name)
}

// Headers yields every header field in the order received.
func (r *Request) Headers() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for _, f := range r.w.Fields {
			if !yield(b2s(f.Name.Of(r.buf)), b2s(f.Value.Of(r.buf))) {
				return
			}
		}
	}
}

// Trailer returns the first value of the chunked-body trailer field name, or "".
// A body that streams (see BodyReader) has its trailers once it has been read.
func (r *Request) Trailer(name string) string {
	if r.stream != nil {
		return r.stream.trailer(name)
	}
	v, _ := lookupField(r.buf, r.w.Trailers, name)
	return v
}

// ContentLength is the body's length: the Content-Length sent, or the
// de-chunked length of a chunked body; 0 without a body. For a chunked body
// that streams (BodyReader) it is -1 until the body has been read.
func (r *Request) ContentLength() int64 {
	if r.stream != nil {
		return r.stream.length()
	}
	return int64(r.w.Body.Len())
}

// Body is the whole request body (de-chunked), read before the handler runs.
//
// A large body that was still arriving when a pooled handler started is
// not held: Body reads it whole then (up to Config.MaxBodyBytes; nil if it
// cannot), so prefer BodyReader for bodies that may be large.
func (r *Request) Body() []byte {
	if r.stream != nil {
		b, _ := r.stream.readWhole()
		return b
	}
	return r.w.Body.Of(r.buf)
}

// BodyReader reads the body. For a pooled handler whose request body was
// still arriving (more than 64 KiB of it, chunked, or sent after
// Expect: 100-continue), it reads from the connection as the body arrives:
// the client is slowed down to the handler's pace, and memory stays small
// whatever the size. 100 Continue, if asked for, is sent on the first read.
// Its errors are *RequestError (400 malformed, 413 too large, the client
// gone). Otherwise the body is already whole, and BodyReader reads it.
func (r *Request) BodyReader() io.Reader {
	if r.stream != nil {
		return r.stream
	}
	r.bodyRd.Reset(r.w.Body.Of(r.buf))
	return &r.bodyRd
}

// unbind undoes bind, for a request parsed again later.
func (r *Request) unbind() {
	r.buf, r.arena, r.path, r.params = nil, r.arena[:0], "", r.params[:0]
}

// RemoteAddr is the client's address: the socket's peer, unless
// middleware that knows better (middleware.RealIP, behind a proxy) set it.
func (r *Request) RemoteAddr() net.Addr { return r.remote }

// SetRemoteAddr sets what RemoteAddr returns for this request: for
// middleware that learns the client's address from a trusted proxy.
func (r *Request) SetRemoteAddr(a net.Addr) { r.remote = a }

// Context is cancelled when the client goes away or the server's Shutdown
// deadline passes, so a handler waiting on I/O can stop. Its Value returns
// the request's values (SetValue). Middleware may replace it with one
// derived from it (SetContext).
func (r *Request) Context() context.Context {
	if r.uctx != nil {
		return r.uctx
	}
	return &r.ctx
}

// ShuttingDown is closed when the server's Shutdown begins. A long-lived
// handler (server-sent events, a stream) should end its response then:
// Shutdown waits for handlers until its context ends, and only then
// cancels their Context. Nil (never closed) outside a server.
func (r *Request) ShuttingDown() <-chan struct{} {
	if r.srv == nil {
		return nil
	}
	return r.srv.shuttingDown
}

// Param returns the router parameter key ("" if absent), a view into the path.
func (r *Request) Param(key string) string {
	for i := range r.params {
		if r.params[i].Key == key {
			return r.params[i].Value
		}
	}
	return ""
}

// Params are the router parameters in pattern order.
func (r *Request) Params() []Param { return r.params }

// String is a short description for logs: "GET /path HTTP/1.1".
func (r *Request) String() string {
	return r.Method() + " " + r.Target() + " " + r.Proto()
}

func lookupField(buf []byte, fields []wire.Field, name string) (string, bool) {
	for _, f := range fields {
		if strings.EqualFold(b2s(f.Name.Of(buf)), name) {
			return b2s(f.Value.Of(buf)), true
		}
	}
	return "", false
}

// unescape decodes a query component (%XX and '+'), into the arena when it must change.
func (r *Request) unescape(v []byte) string {
	if bytes.IndexByte(v, '%') < 0 && bytes.IndexByte(v, '+') < 0 {
		return b2s(v)
	}
	start := len(r.arena)
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '+':
			c = ' '
		case c == '%' && i+2 < len(v) && wire.HexValue(v[i+1]) >= 0 && wire.HexValue(v[i+2]) >= 0:
			c = byte(wire.HexValue(v[i+1])<<4 | wire.HexValue(v[i+2]))
			i += 2
		}
		r.arena = append(r.arena, c)
	}
	return b2s(r.arena[start:])
}

// unescapeEqual reports whether the encoded query key k decodes to name.
func (r *Request) unescapeEqual(k []byte, name string) bool {
	if bytes.IndexByte(k, '%') < 0 && bytes.IndexByte(k, '+') < 0 {
		return string(k) == name
	}
	mark := len(r.arena)
	eq := r.unescape(k) == name
	r.arena = r.arena[:mark]
	return eq
}

// method interns the common methods so Method never points into the buffer for them.
func method(m []byte) string {
	switch string(m) {
	case "GET":
		return "GET"
	case "POST":
		return "POST"
	case "HEAD":
		return "HEAD"
	case "PUT":
		return "PUT"
	case "DELETE":
		return "DELETE"
	case "PATCH":
		return "PATCH"
	case "OPTIONS":
		return "OPTIONS"
	}
	return b2s(m)
}

// b2s views b as a string without copying. The caller guarantees b is not
// modified while the string is in use (until the handler returns).
func b2s(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// s2b views s as bytes without copying; the bytes must not be modified.
func s2b(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
