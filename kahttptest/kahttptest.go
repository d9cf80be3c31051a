// Package kahttptest runs kahttp handlers and routers in process, without
// sockets, and records their responses: what net/http/httptest's
// ResponseRecorder is for net/http.
//
// A Conn is one client connection served by the server's own session code
// over memory (kahttp.Server.ServeInMemory): the request is parsed by the
// server's parser, routed, answered where its Mode says (pooled handlers on
// the worker pool), framed and kept alive or closed exactly as on a real
// connection. The bytes the server sends are then read back with net/http's
// client-side parser (http.ReadResponse) into a Response: status, header
// fields, body, framing, and whether the connection stays open.
//
// Config.PoisonViews is on unless WithoutPoison is given: when a request is
// released, its bytes are overwritten, so a handler that keeps a view of a
// request (r.Query, r.Header, r.Body without a copy) past its return reads
// "#####" in every test run instead of another request's bytes now and then.
package kahttptest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kahttp/kahttp"
)

// Option configures a Conn.
type Option func(*options)

type options struct {
	cfg       kahttp.Config
	keepViews bool
	remote    net.Addr
	timeout   time.Duration
}

// WithConfig serves with cfg (zero fields take the server's defaults).
// PoisonViews is turned on whatever cfg says, unless WithoutPoison is given
// too. cfg.Logger defaults to one that discards, so expected panics do not
// clutter the test output.
func WithConfig(cfg kahttp.Config) Option { return func(o *options) { o.cfg = cfg } }

// WithoutPoison leaves a request's bytes as they are after its handler
// returns, as the server does by default.
func WithoutPoison() Option { return func(o *options) { o.keepViews = true } }

// WithRemoteAddr is the client's address, as Request.RemoteAddr reports it
// (127.0.0.1:1234 by default).
func WithRemoteAddr(a net.Addr) Option { return func(o *options) { o.remote = a } }

// WithTimeout bounds how long a pooled handler may run (10 s).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// Conn is one client connection to h, served in memory. Not safe for
// concurrent use; a test may open as many as it likes.
type Conn struct {
	mc *kahttp.MemConn
	// methods of the requests sent and not yet answered, oldest first:
	// a response to HEAD has no body whatever its framing says.
	methods []string
	unread  []byte // what the client sent past the last complete request
	pending []byte // output not yet parsed into responses
}

// NewConn opens a connection to a fresh server for h (a Handler or a
// *kahttp.Router).
func NewConn(h kahttp.Handler, opts ...Option) *Conn {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	cfg := o.cfg
	cfg.PoisonViews = cfg.PoisonViews || !o.keepViews
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	mc := kahttp.NewServer(h, cfg).ServeInMemory(o.remote)
	if o.timeout > 0 {
		mc.SetTimeout(o.timeout)
	}
	return &Conn{mc: mc}
}

// Do serves req with h on a fresh connection and returns the response.
// Build req with net/http/httptest.NewRequest (or http.NewRequest): it is
// sent as net/http's client writes it (req.Write).
func Do(h kahttp.Handler, req *http.Request, opts ...Option) (*Response, error) {
	c := NewConn(h, opts...)
	defer c.Close()
	return c.Do(req)
}

// Do sends req on the connection and returns its response.
func (c *Conn) Do(req *http.Request) (*Response, error) {
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		return nil, fmt.Errorf("kahttptest: writing the request: %w", err)
	}
	resps, err := c.Send(buf.Bytes())
	switch {
	case err != nil:
		return nil, err
	case len(resps) == 0:
		return nil, errors.New("kahttptest: no response (the request is incomplete?)")
	}
	return resps[len(resps)-1], nil
}

// Send sends raw bytes as the client would (one or more requests,
// pipelined, or part of one) and returns the responses they completed, in
// order. The bytes of an incomplete request wait for the next Send. After
// kahttp.ErrHandlerTimeout, Send(nil) waits for the handler again.
func (c *Conn) Send(raw []byte) ([]*Response, error) {
	c.unread = append(c.unread, raw...)
	ms, n := requestMethods(c.unread)
	c.methods = append(c.methods, ms...)
	c.unread = c.unread[:copy(c.unread, c.unread[n:])]
	_, err := c.mc.Write(raw)
	c.pending = append(c.pending, c.mc.TakeOutput()...)
	resps, perr := c.parse()
	if err == nil {
		err = perr
	}
	return resps, err
}

// SendString is Send for a string.
func (c *Conn) SendString(raw string) ([]*Response, error) { return c.Send([]byte(raw)) }

// Closed reports whether the server has closed the connection.
func (c *Conn) Closed() bool { return c.mc.Closed() }

// Expire fires the connection's timer now (the idle or header timeout):
// an idle connection closes, one with a request half sent gets 408. It
// returns what the server sent then.
func (c *Conn) Expire() ([]*Response, error) {
	c.mc.Expire()
	c.pending = append(c.pending, c.mc.TakeOutput()...)
	return c.parse()
}

// Close is the client closing the connection.
func (c *Conn) Close() error { return c.mc.Close() }

// Server is the server behind the connection: its Stats and Config.
func (c *Conn) Server() *kahttp.Server { return c.mc.Server() }

// Framing is how a response's body was delimited on the wire.
type Framing string

const (
	FramingLength  Framing = "content-length" // Content-Length
	FramingChunked Framing = "chunked"        // Transfer-Encoding: chunked
	FramingClose   Framing = "close"          // until the connection closes (HTTP/1.0)
	FramingNone    Framing = "none"           // no body by its status (1xx, 204, 304)
)

// Response is a response as the client received it.
type Response struct {
	Status int    // 200
	Proto  string // "HTTP/1.1"
	// Header is the header fields as received (Connection and
	// Content-Length too, which net/http's client takes out).
	Header  http.Header
	Body    []byte
	Trailer http.Header
	Framing Framing
	// ContentLength is the Content-Length sent, or -1.
	ContentLength int64
	// KeepAlive reports whether the connection stayed open after this
	// response: false when the server closed it after sending it.
	KeepAlive bool
	// Raw is the response's bytes as sent: status line, header, framed body.
	Raw []byte
}

// Text is the body as a string.
func (r *Response) Text() string { return string(r.Body) }

// Cookies parses the Set-Cookie fields, as net/http's Response.Cookies does.
func (r *Response) Cookies() []*http.Cookie {
	return (&http.Response{Header: r.Header}).Cookies()
}

// parse reads every complete response in c.pending.
func (c *Conn) parse() ([]*Response, error) {
	var out []*Response
	for len(c.pending) > 0 {
		method := "GET"
		if len(c.methods) > 0 {
			method = c.methods[0]
		}
		rd := bytes.NewReader(c.pending)
		br := bufio.NewReader(rd)
		hr, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			return out, fmt.Errorf("kahttptest: reading the response: %w", err)
		}
		body, err := io.ReadAll(hr.Body)
		hr.Body.Close()
		if err != nil {
			return out, fmt.Errorf("kahttptest: reading the response body: %w", err)
		}
		n := len(c.pending) - rd.Len() - br.Buffered()
		raw := slices.Clone(c.pending[:n])
		c.pending = c.pending[n:]
		if hr.StatusCode >= 100 && hr.StatusCode < 200 {
			continue // an interim response (100 Continue): the final one follows
		}
		if len(c.methods) > 0 {
			c.methods = c.methods[1:]
		}
		out = append(out, record(hr, body, raw))
	}
	if len(out) > 0 && c.mc.Closed() && len(c.pending) == 0 {
		out[len(out)-1].KeepAlive = false
	}
	return out, nil
}

func record(hr *http.Response, body, raw []byte) *Response {
	r := &Response{
		Status:        hr.StatusCode,
		Proto:         hr.Proto,
		Header:        hr.Header,
		Body:          body,
		Trailer:       hr.Trailer,
		ContentLength: -1,
		KeepAlive:     true,
		Raw:           raw,
	}
	// The fields from the raw head: net/http's reader drops some
	// (Connection: close, Content-Length) from hr.Header.
	r.Header = http.Header{}
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	for _, line := range strings.Split(string(head), "\r\n")[1:] {
		k, v, _ := strings.Cut(line, ":")
		r.Header.Add(k, strings.TrimSpace(v))
	}
	cl := r.Header.Get("Content-Length")
	switch {
	case slices.Contains(hr.TransferEncoding, "chunked"):
		r.Framing = FramingChunked
	case cl != "":
		r.Framing = FramingLength
		r.ContentLength, _ = strconv.ParseInt(cl, 10, 64)
	case hr.StatusCode == 204 || hr.StatusCode == 304:
		r.Framing = FramingNone
	default:
		r.Framing = FramingClose
	}
	return r
}

// requestMethods are the methods of the complete requests in raw, in
// order, as far as net/http's server-side parser can read them (enough to
// know which responses answer HEAD), and the bytes they take.
func requestMethods(raw []byte) (ms []string, n int) {
	rd := bytes.NewReader(raw)
	br := bufio.NewReader(rd)
	for {
		// skip the empty lines a client may send between requests
		for {
			b, err := br.Peek(1)
			if err != nil || (b[0] != '\r' && b[0] != '\n') {
				break
			}
			_, _ = br.ReadByte()
		}
		req, err := http.ReadRequest(br)
		if err != nil {
			return ms, n
		}
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return ms, n
		}
		ms = append(ms, req.Method)
		n = len(raw) - rd.Len() - br.Buffered()
	}
}
