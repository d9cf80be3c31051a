// Package nethttp runs net/http handlers on kahttp: Wrap turns any
// http.Handler into a kahttp.Handler. It lives apart from package kahttp so
// that the core API stays free of net/http types.
//
// The request maps to an *http.Request: method, URL (Path decoded, RawPath
// when the encoding differs, RawQuery), Proto, Header (canonical keys, in
// order, Host moved to Request.Host and Transfer-Encoding dropped: the body
// arrives whole and de-chunked), Body and ContentLength, Host, RemoteAddr,
// RequestURI, Close, the request's context (cancelled when the client goes
// away), and the router's parameters as PathValue. The http.ResponseWriter
// maps back: Header (copied into the response at the first WriteHeader,
// Write or Flush, as net/http does; later changes are ignored), WriteHeader,
// Write (with net/http's Content-Type sniffing of the first write when none
// is set), http.Flusher (Flush and FlushError send what was written so far),
// and io.ReaderFrom (copies through a pooled buffer).
//
// http.Hijacker works for a request with Connection: upgrade (WebSocket
// libraries such as gorilla/websocket's Upgrader) on a pooled route: see
// kahttp.Response.Hijack. The request body is r.BodyReader: it streams
// when kahttp streams it.
//
// Not supported: informational (1xx) responses, which are dropped;
// trailers; http.Pusher.
//
// Run wrapped handlers Pooled (the server default; mount them with
// kahttp.WithMode(kahttp.Pooled) on a router of an Inline server): net/http
// handlers expect to block, as http.FileServer does on disk I/O.
//
// As with every kahttp handler, the request's strings are copied out of the
// connection buffer (so the http.Request is safe to keep), but the body
// reader is a view of the buffer, valid until ServeHTTP returns.
//
// # Cost
//
// Measured with BenchmarkAdapter (one keep-alive connection over loopback,
// a client that allocates nothing, so allocs/op are the server's): a
// native handler 2 allocs/op (40 B, the worker's wake-up of the loop); the
// same handler written for net/http and wrapped 13 allocs/op (1.8 KB) on
// a static route, 16 (2.2 KB) on a route with one parameter. Of those, 3
// are the net/http handler's own (Header().Set and a []byte conversion),
// so the adapter costs 8 allocations per request: the per-call state
// (URL, body reader, writer) in one, one arena for every string, the
// header map (2) and its values, the *http.Request that WithContext
// returns, and the response header map when the handler asks for it; plus
// 3 when the route has parameters (PathValue's map and copies). A native
// handler on the hot path allocates nothing.
package nethttp

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"unsafe"

	"github.com/kahttp/kahttp"
)

// Wrap returns a kahttp.Handler that runs h.
func Wrap(h http.Handler) kahttp.Handler { return handler{h} }

// WrapFunc is Wrap for a function.
func WrapFunc(f func(http.ResponseWriter, *http.Request)) kahttp.Handler {
	return handler{http.HandlerFunc(f)}
}

type handler struct{ h http.Handler }

// call is the state of one request, allocated once.
type call struct {
	url  url.URL
	body body
	rw   responseWriter
}

// body is the http.Request's Body: the kahttp request's BodyReader (the
// body held whole, or streaming as it arrives).
type body struct{ r io.Reader }

func (b *body) Read(p []byte) (int, error) { return b.r.Read(p) }
func (*body) Close() error                 { return nil }

// Serve converts the request, runs the http.Handler and completes the response.
func (a handler) Serve(w *kahttp.Response, r *kahttp.Request) {
	c := new(call)
	c.rw.w = w
	req := c.request(r, w)
	a.h.ServeHTTP(&c.rw, req)
	c.rw.finish()
}

func (c *call) request(r *kahttp.Request, w *kahttp.Response) *http.Request {
	// One arena for every string the http.Request holds.
	size := len(r.Target()) + len(r.Path()) + len(r.Host()) + 64 // 64: the remote address
	nfields := 0
	for k, v := range r.Headers() {
		size += len(k) + len(v)
		nfields++
	}
	a := arena{buf: make([]byte, 0, size)}

	target := a.str(r.Target())
	if r.RawPath() != r.Path() {
		c.url.Path = a.str(r.Path())
		c.url.RawPath = target[:len(r.RawPath())]
	} else {
		c.url.Path = target[:len(r.Path())]
	}
	if len(target) > 0 && target[0] == '/' {
		if q := r.RawQuery(); q != "" {
			c.url.RawQuery = target[len(target)-len(q):]
		}
	} else if target != "*" {
		if u, err := url.ParseRequestURI(target); err == nil { // absolute-form
			c.url = *u
		}
	}

	header := make(http.Header, nfields)
	fillHeader(r, &a, header, make([]string, nfields))

	var remote string
	switch ra := r.RemoteAddr().(type) {
	case *net.TCPAddr:
		remote = a.bytes(ra.AddrPort().AppendTo)
	case nil:
	default:
		remote = ra.String()
	}

	req := http.Request{
		Method:        method(r.Method(), &a),
		URL:           &c.url,
		Proto:         r.Proto(),
		ProtoMajor:    1,
		ProtoMinor:    r.ProtoMinor(),
		Header:        header,
		Body:          http.NoBody,
		ContentLength: r.ContentLength(),
		Close:         !w.KeepAlive(),
		Host:          a.str(r.Host()),
		RemoteAddr:    remote,
		RequestURI:    target,
	}
	if r.ContentLength() != 0 { // -1: a chunked body that streams
		c.body.r = r.BodyReader()
		req.Body = &c.body
	}
	hr := req.WithContext(r.Context())
	for _, p := range r.Params() {
		hr.SetPathValue(p.Key, strings.Clone(p.Value)) // a copy: p.Value is a view
	}
	return hr
}

// fillHeader copies the request's fields into header, net/http style: keys
// canonical, values in order, Host and Transfer-Encoding left out. vals
// has room for every value.
func fillHeader(r *kahttp.Request, a *arena, header http.Header, vals []string) {
	i := 0
	for k, v := range r.Headers() {
		key := a.canonical(k)
		if key == "Host" || key == "Transfer-Encoding" {
			continue
		}
		vals[i] = a.str(v)
		if old := header[key]; old != nil {
			header[key] = append(old, vals[i])
		} else {
			header[key] = vals[i : i+1 : i+1]
		}
		i++
	}
}

func method(m string, a *arena) string {
	switch m {
	case "GET", "POST", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS":
		return m // interned by kahttp
	}
	return a.str(m)
}

// arena copies strings into one buffer, allocated with its final capacity.
type arena struct{ buf []byte }

func (a *arena) str(s string) string {
	if s == "" {
		return ""
	}
	if cap(a.buf)-len(a.buf) < len(s) {
		return string([]byte(s))
	}
	start := len(a.buf)
	a.buf = append(a.buf, s...)
	return unsafe.String(&a.buf[start], len(s))
}

func (a *arena) bytes(appendTo func([]byte) []byte) string {
	start := len(a.buf)
	b := appendTo(a.buf)
	if cap(b) != cap(a.buf) { // did not fit: b is its own allocation
		return string(b[start:])
	}
	a.buf = b
	if len(b) == start {
		return ""
	}
	return unsafe.String(&b[start], len(b)-start)
}

// canonical copies a header name in its canonical form
// (textproto.CanonicalMIMEHeaderKey), "content-type" → "Content-Type".
func (a *arena) canonical(k string) string {
	for i := 0; i < len(k); i++ {
		if !validHeaderByte(k[i]) {
			return a.str(k)
		}
	}
	if cap(a.buf)-len(a.buf) < len(k) {
		return http.CanonicalHeaderKey(k)
	}
	start := len(a.buf)
	upper := true
	for i := 0; i < len(k); i++ {
		c := k[i]
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		a.buf = append(a.buf, c)
		upper = c == '-'
	}
	return unsafe.String(&a.buf[start], len(k))
}

func validHeaderByte(c byte) bool {
	// token characters (RFC 9110); textproto leaves other names as they are.
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// responseWriter is the http.ResponseWriter over a kahttp.Response.
type responseWriter struct {
	w        *kahttp.Response
	header   http.Header
	wrote    bool // the header was copied into w and the status set
	hijacked bool // the handler took the connection (Hijack): nothing more to write
}

var (
	_ http.ResponseWriter = (*responseWriter)(nil)
	_ http.Flusher        = (*responseWriter)(nil)
	_ io.ReaderFrom       = (*responseWriter)(nil)
	_ io.StringWriter     = (*responseWriter)(nil)
	_ http.Hijacker       = (*responseWriter)(nil)
)

// Hijack hands the connection to the handler (kahttp.Response.Hijack); the
// reader starts with the bytes the client sent after the request.
func (rw *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, rest, err := rw.w.Hijack()
	if err != nil {
		return nil, nil, err
	}
	rw.hijacked = true
	var rd io.Reader = nc
	if len(rest) > 0 {
		rd = io.MultiReader(bytes.NewReader(rest), nc)
	}
	return nc, bufio.NewReadWriter(bufio.NewReader(rd), bufio.NewWriter(nc)), nil
}

func (rw *responseWriter) Header() http.Header {
	if rw.header == nil {
		rw.header = make(http.Header)
	}
	return rw.header
}

// WriteHeader sets the status; the first call wins, as in net/http.
// Informational codes (1xx) are dropped.
func (rw *responseWriter) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code)) // as net/http
	}
	if rw.wrote || code < 200 {
		return
	}
	rw.commit(code, nil)
}

// commit copies the header into the response and sets the status. sniff
// is the first body bytes, for Content-Type detection.
func (rw *responseWriter) commit(code int, sniff []byte) {
	rw.wrote = true
	h := rw.w.Header()
	for k, vs := range rw.header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	if _, set := rw.header["Content-Type"]; !set && len(sniff) > 0 && bodyAllowed(code) {
		h.Set("Content-Type", http.DetectContentType(sniff))
	}
	rw.w.WriteHeader(code)
}

func bodyAllowed(code int) bool { return code >= 200 && code != 204 && code != 304 }

func (rw *responseWriter) Write(p []byte) (int, error) {
	if !rw.wrote {
		rw.commit(http.StatusOK, p)
	}
	n, err := rw.w.Write(p)
	return n, mapErr(err)
}

func (rw *responseWriter) WriteString(s string) (int, error) {
	if !rw.wrote {
		rw.commit(http.StatusOK, []byte(s[:min(len(s), 512)]))
	}
	n, err := rw.w.WriteString(s)
	return n, mapErr(err)
}

func mapErr(err error) error {
	switch err {
	case kahttp.ErrBodyNotAllowed:
		return http.ErrBodyNotAllowed
	case kahttp.ErrContentLength:
		return http.ErrContentLength
	}
	return err
}

// Flush sends the head and the body written so far (http.Flusher).
func (rw *responseWriter) Flush() { _ = rw.FlushError() }

// FlushError is Flush that reports the error (used by http.ResponseController).
func (rw *responseWriter) FlushError() error {
	if !rw.wrote {
		rw.commit(http.StatusOK, nil)
	}
	return rw.w.Flush()
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// ReadFrom copies src into the body through a pooled buffer, sparing
// io.Copy's 32 KiB allocation (http.ServeContent copies files this way).
func (rw *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	return io.CopyBuffer(writerOnly{rw}, readerOnly{src}, *bp)
}

// writerOnly and readerOnly hide ReadFrom and WriteTo, so that CopyBuffer
// uses the buffer it is given.
type writerOnly struct{ io.Writer }
type readerOnly struct{ io.Reader }

// finish completes a response the handler left without a status.
func (rw *responseWriter) finish() {
	if !rw.wrote && !rw.hijacked {
		rw.commit(http.StatusOK, nil)
	}
}
