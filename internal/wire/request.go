// Package wire parses HTTP/1.x requests in place.
//
// The parser works on the bytes the event loop peeked from a connection: every
// field it finds is a Span (two offsets) into that buffer, so nothing is copied
// and a request can be moved to another buffer by copying its bytes and keeping
// its spans (what the worker pool does). A partial request consumes nothing and
// asks for more bytes; a malformed one returns an *Error carrying the status to
// answer with (RFC 9112 and RFC 9110 say which).
package wire

// Span is the half-open range [Off, End) of the request buffer.
type Span struct{ Off, End int32 }

// Len is the length of the span.
func (s Span) Len() int { return int(s.End - s.Off) }

// Of returns the bytes of buf the span covers.
func (s Span) Of(buf []byte) []byte { return buf[s.Off:s.End] }

// Field is one header or trailer field: name and value (OWS trimmed).
type Field struct{ Name, Value Span }

// Request is a parsed request: spans into the buffer it was parsed from, plus
// the facts the server needs to frame the exchange. Reset it before reuse.
type Request struct {
	Method Span
	Target Span // the request-target as sent
	Path   Span // the path part of Target (origin-form or absolute-form), "*" for asterisk-form
	Query  Span // after '?', without it; empty when absent
	Minor  uint8

	Fields   []Field // header fields in order
	Trailers []Field // chunked trailer fields in order
	Host     Span

	ContentLength int64 // -1 when the request had no Content-Length
	Chunked       bool
	Body          Span // the body, de-chunked in place when Chunked

	ConnClose     bool // Connection has the "close" token
	ConnKeepAlive bool // Connection has the "keep-alive" token
	ConnUpgrade   bool // Connection has the "upgrade" token: the client asks to switch protocols
	Expect100     bool // Expect: 100-continue
	PathEscaped   bool // Path holds '%' escapes that need decoding

	// HeadEnd is the offset of the first byte after the header section: known
	// once the head is complete, even while the body is still arriving.
	HeadEnd int

	hostSeen int
	clSeen   bool
	resume   bool  // the last Parse was ErrNeedMore with the head known
	scanOff  int   // chunked: the next chunk-size line to read
	want     int   // after ErrNeedMore: see Want
	decoded  int64 // chunked: body bytes seen so far
}

// Reset clears r for reuse, keeping the capacity of its field slices.
func (r *Request) Reset() {
	fields, trailers := r.Fields[:0], r.Trailers[:0]
	*r = Request{Fields: fields, Trailers: trailers, ContentLength: -1}
}

// Restart makes the next Parse start afresh instead of resuming: all a
// reused r needs when Parse comes next, since Parse resets a request it
// does not resume (Reset would clear it twice). Until then the other
// fields keep their old values.
func (r *Request) Restart() { r.resume = false }

// Want is, after ErrNeedMore with the head known, how long the buffer must
// be before parsing can get any further: the end of a Content-Length body,
// or the end of the chunk whose data is arriving (its CRLF included); 0
// when any new byte may help (a chunk-size line, trailers). A caller may
// wait for that much instead of parsing again on every read.
func (r *Request) Want() int { return r.want }

// Limits bound what the parser accepts; each has its own status code.
type Limits struct {
	MaxRequestLine int   // 414 beyond
	MaxHeaderBytes int   // 431 beyond (the header section, and the trailer section)
	MaxFields      int   // 431 beyond
	MaxBody        int64 // 413 beyond
}

// DefaultLimits are the server's defaults (kahttp.Config's
// MaxRequestLineBytes, MaxHeaderBytes and MaxBodyBytes), plus MaxFields.
var DefaultLimits = Limits{MaxRequestLine: 8 << 10, MaxHeaderBytes: 16 << 10, MaxFields: 128, MaxBody: 4 << 20}
