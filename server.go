// Package kahttp is a minimal, fast HTTP/1.x server on gnet/v2 event loops:
// persistent connections done right (HTTP/1.0 and 1.1 keep-alive, idle and
// header timeouts, a per-connection request cap, Keep-Alive: timeout, max),
// pipelined requests answered straight from the connection buffer and written
// back in one go, and a buffered response writer that finds the
// Content-Length for small bodies and falls back to chunked (HTTP/1.1) or
// close-delimited (HTTP/1.0) bodies for large ones.
//
// Requests and responses are views into pooled buffers, valid only until
// the handler returns: copy what you keep.
package kahttp

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kahttp/kahttp/eventloop"
	"github.com/kahttp/kahttp/internal/wire"
)

// Config configures a Server. Zero values mean the defaults in the comments.
type Config struct {
	// Mode is where handlers run unless a route says otherwise: Pooled (the
	// default) or Inline.
	Mode Mode
	// Loops is the number of event loops; 0 means one per CPU.
	Loops int
	// ReusePort sets SO_REUSEPORT so several processes can share the port.
	ReusePort bool

	// IdleTimeout closes a keep-alive connection idle this long (75 s):
	// above the 60 s of common proxies' pools, so the server is not the side
	// that closes a pooled connection as the proxy reuses it.
	IdleTimeout time.Duration
	// HeaderTimeout is how long a request's head (request line and header
	// fields) may take to arrive once started (10 s); past it the client
	// gets 408 and the connection closes. A body has IdleTimeout between
	// its bytes; ReadTimeout bounds the whole request.
	HeaderTimeout time.Duration
	// ReadTimeout, if set, bounds the whole request, body included, from
	// its first byte (0: no bound but HeaderTimeout, IdleTimeout and the
	// body's minimum rate); past it the client gets 408 and the connection
	// closes.
	ReadTimeout time.Duration
	// BodyTimeout and MinBodyRate cut a body that trickles in (mod_reqtimeout's
	// body=20,MinRate=500): a request has BodyTimeout (20 s) from its first
	// byte, plus a second for every MinBodyRate bytes (500) of body
	// received; past that the client gets 408 (if nothing was sent yet)
	// and the connection closes. A client sending a byte a second is cut
	// after about 20 s; one at 10 KiB/s never is. Held or streamed, on the
	// loops or on a listener's goroutine. MinBodyRate -1: no minimum.
	BodyTimeout time.Duration
	MinBodyRate int
	// WriteTimeout is how long a connection's unsent output may wait for
	// its client to read some of it (30 s): while the server has stopped
	// reading the connection's requests (MaxOutboundBytes), and while a
	// pooled handler waits to write more. Past it the connection is closed,
	// its output dropped (the handler's Write fails), counted as
	// write_timeout: a client that stops reading cannot hold a worker or
	// memory for ever. Each byte the client reads restarts it.
	WriteTimeout time.Duration
	// DrainGrace is how long Shutdown (or a restart) leaves open a
	// kept-alive connection that is idle when the drain begins (1 s): a
	// request already on its way (a proxy reusing its pooled connection)
	// is answered, with Connection: close, instead of meeting a close it
	// crossed, which its client sees as a reset. net/http closes idle
	// connections at once. Connections busy when the drain begins answer
	// their next response with Connection: close.
	DrainGrace time.Duration
	// MaxRequestsPerConn closes a connection after that many requests
	// (0 = no limit); the last response says Connection: close.
	MaxRequestsPerConn int

	// ResponseBufferSize is how much body is held to compute Content-Length (4 KiB).
	ResponseBufferSize int
	// MaxRequestLineBytes bounds the request line (8 KiB; 414 beyond).
	MaxRequestLineBytes int
	// MaxHeaderBytes bounds the header section (16 KiB; 431 beyond).
	MaxHeaderBytes int
	// MaxBodyBytes bounds a request body (4 MiB; 413 beyond).
	MaxBodyBytes int64
	// MaxOutboundBytes is how much unsent output a connection may have
	// before the server stops reading its requests (1 MiB).
	MaxOutboundBytes int

	// PoolWorkers bounds the goroutines that run pooled handlers (4096).
	PoolWorkers int
	// PoolQueue bounds the requests waiting for a worker (1024); past it
	// they get 503 with Retry-After.
	PoolQueue int

	// PoisonViews overwrites the bytes a request's views point into (its
	// buffer and decoded values) when the request is released: right after
	// its response for an inline handler, once its batch's responses are
	// sent for a pooled one. A string or slice kept past the handler
	// without a copy then reads as "#####" at once, in every run,
	// instead of silently changing when a later request reuses the buffer.
	// A debugging switch, for tests (kahttptest turns it on) and staging:
	// it costs a memory write per request byte.
	PoisonViews bool

	// OnRefusal, when set, is told of every 4xx or 5xx the server answers
	// on its own, without a handler: a request it refuses (400, 413, 414,
	// 417, 431, 501, 505…), a header timeout (408), a full worker pool
	// (503), a handler panic nothing recovered (500). It runs on the event
	// loop (on the worker for a pooled handler's panic), possibly on several
	// at once: it must be quick, must not block, and must be safe for
	// concurrent use. middleware.LogRefusals logs them as AccessLog logs
	// requests.
	OnRefusal func(Refusal)

	// ErrorWriter, when set, writes every answer the server gives on the
	// application's behalf (400, 404, 405, 408, 413, 414, 431, 500 after a
	// panic, 501, 503 from a full pool) and Response.WriteError's, in the
	// application's shape: JSON, say. A router group's
	// (Group.SetErrorWriter) comes first for the requests it owns. Without
	// one: short plain text.
	ErrorWriter ErrorWriter

	// ServerName is sent in the Server field ("kahttp"); "-" sends none.
	ServerName string
	// Logger receives errors and handler panics (slog.Default()).
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.Mode == Default {
		c.Mode = Pooled
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 75 * time.Second
	}
	if c.HeaderTimeout <= 0 {
		c.HeaderTimeout = 10 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 30 * time.Second
	}
	if c.DrainGrace <= 0 {
		c.DrainGrace = time.Second
	}
	if c.BodyTimeout <= 0 {
		c.BodyTimeout = 20 * time.Second
	}
	if c.MinBodyRate == 0 {
		c.MinBodyRate = 500
	}
	def(&c.ResponseBufferSize, 4<<10)
	def(&c.MaxRequestLineBytes, 8<<10)
	def(&c.MaxHeaderBytes, 16<<10)
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 4 << 20
	}
	def(&c.MaxOutboundBytes, 1<<20)
	def(&c.PoolWorkers, 4096)
	def(&c.PoolQueue, 1024)
	switch c.ServerName {
	case "":
		c.ServerName = "kahttp"
	case "-":
		c.ServerName = ""
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// ErrServerClosed is returned by ListenAndServe after Shutdown.
var ErrServerClosed = errors.New("kahttp: server closed")

// Server serves HTTP/1.x on event loops.
type Server struct {
	cfg      Config
	handler  Handler
	resolver Resolver
	limits   wire.Limits
	// minBodyLimit: bodies up to it need no route check (applyBodyLimits)
	minBodyLimit int64
	pool         *pool

	mu           sync.Mutex
	eng          *eventloop.Engine
	sweep        time.Duration // how often deadlines are checked, and how stale the coarse clock may be
	closing      atomic.Bool   // Shutdown was called
	shuttingDown chan struct{} // closed when Shutdown begins
	draining     atomic.Bool   // set by Shutdown once the listener is closed: connections close after their current request
	stats        counters
	gconns       goConns  // connections from Serve's listeners (listen.go)
	onShutdown   []func() // RegisterOnShutdown's; under mu
	serving      bool     // Serve was called; under mu
}

// NewServer returns a server for h with cfg (zero fields take the defaults).
func NewServer(h Handler, cfg Config) *Server {
	cfg = cfg.withDefaults()
	loops := cfg.Loops
	if loops <= 0 {
		loops = runtime.NumCPU() // as the engine's default
	}
	s := &Server{cfg: cfg, handler: h, shuttingDown: make(chan struct{}), stats: newCounters(loops)}
	s.resolver, _ = h.(Resolver)
	s.limits = wire.Limits{
		MaxRequestLine: cfg.MaxRequestLineBytes,
		MaxHeaderBytes: cfg.MaxHeaderBytes,
		MaxFields:      wire.DefaultLimits.MaxFields,
		MaxBody:        cfg.MaxBodyBytes,
	}
	s.pool = newPool(cfg.PoolWorkers, cfg.PoolQueue)
	s.applyBodyLimits()
	return s
}

// ListenAndServe serves h on addr with the default Config until the process ends.
func ListenAndServe(addr string, h Handler) error {
	return NewServer(h, Config{}).ListenAndServe(addr)
}

// Config is the configuration in effect, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Start listens on addr ("host:port"; port 0 picks one, see Addr) and serves
// in the background. It returns once the server accepts connections.
func (s *Server) Start(addr string) error { return s.start(addr, nil) }

// start runs the event loops on ln, or on a listener of addr when ln is
// nil.
func (s *Server) start(addr string, ln net.Listener) error {
	if v, ok := s.handler.(interface{ Err() error }); ok {
		if err := v.Err(); err != nil {
			return err // e.g. a router with conflicting routes
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.eng != nil {
		return errors.New("kahttp: server already started")
	}
	s.applyBodyLimits()
	s.sweep = max(10*time.Millisecond, min(min(s.cfg.IdleTimeout, s.cfg.HeaderTimeout, s.cfg.WriteTimeout)/10, 250*time.Millisecond))
	eng, err := eventloop.Start(addr, &protocol{s}, eventloop.Options{
		Loops:     s.cfg.Loops,
		ReusePort: s.cfg.ReusePort,
		Sweep:     s.sweep,
		OnTick:    clockTick,
		Logger:    s.cfg.Logger,
		Listener:  ln,
	})
	if err != nil {
		return err
	}
	s.eng = eng
	clockStart()
	go func() { <-eng.Done(); clockStop() }()
	return nil
}

// wait waits until the event loops stop: ErrServerClosed after Shutdown,
// else why they stopped (their listener failed for good).
func (s *Server) wait() error {
	<-s.eng.Done()
	if s.closing.Load() {
		return ErrServerClosed
	}
	return s.eng.Err()
}

// ListenAndServe is Start, then waits until the server stops. After
// Shutdown it returns ErrServerClosed; if the server stops on its own (its
// listener failed for good), it returns why, so that a process does not
// live on serving nothing.
func (s *Server) ListenAndServe(addr string) error {
	if err := s.Start(addr); err != nil {
		return err
	}
	return s.wait()
}

// Addr is the address the server listens on, nil before Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.eng == nil {
		return nil
	}
	return s.eng.Addr()
}

// Shutdown drains the server: the listener closes first, so new
// connections are refused (a client can retry elsewhere) rather than
// accepted and dropped (on Linux, those already in the accept queue of a
// listener the loops serve, established, are accepted and answered
// first); then idle connections are closed, requests in
// progress finished with Connection: close on their response, and pooled
// handlers waited for. Hijacked connections (WebSockets) are not waited
// for: their handlers hear of Shutdown through Request.ShuttingDown and
// RegisterOnShutdown, and end them. It returns when every connection is
// gone, or when ctx ends: then the contexts of the requests still running
// are cancelled and the remaining connections closed, and ctx's error is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	eng, serving := s.eng, s.serving
	s.mu.Unlock()
	if eng == nil && !serving || s.closing.Swap(true) {
		return nil
	}
	if eng != nil {
		eng.StopAccepting() // before draining: a connection opened from here on would be refused by Open
	}
	s.gconns.mu.Lock()
	for _, ln := range s.gconns.listeners {
		_ = ln.Close()
	}
	s.gconns.mu.Unlock()
	s.draining.Store(true)
	close(s.shuttingDown) // long-lived handlers end their streams (Request.ShuttingDown)
	s.mu.Lock()
	for _, f := range s.onShutdown {
		go f()
	}
	s.mu.Unlock()
	if eng != nil {
		eng.Each(func(c *eventloop.Conn) { c.Wake() }) // idle ones close; busy ones close after their response
	}
	// Listener connections: wake each reader, so an idle one closes.
	s.gconns.each(func(c net.Conn) { _ = c.SetReadDeadline(time.Now()) })
	err := s.drainGoConns(ctx)
	if eng == nil {
		return s.waitInflight(ctx, err)
	}
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for eng.Open() > 0 {
		select {
		case <-ctx.Done():
			err = ctx.Err()
			eng.Each(func(c *eventloop.Conn) {
				if ss, ok := c.Session.(*session); ok {
					ss.cancelInflight()
				}
			})
		case <-poll.C:
			continue
		}
		break
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if stopErr := eng.Stop(stopCtx); err == nil {
		err = stopErr
	}
	return s.waitInflight(ctx, err)
}

// RegisterOnShutdown registers f to be called, on a goroutine of its own,
// when Shutdown begins, as net/http's does: for code that holds
// connections Shutdown does not wait for (hijacked ones: WebSockets) and
// should end them, say with a close frame. Handlers can also watch
// Request.ShuttingDown, or ShuttingDown(ctx).
func (s *Server) RegisterOnShutdown(f func()) {
	s.mu.Lock()
	s.onShutdown = append(s.onShutdown, f)
	s.mu.Unlock()
}

// drainGoConns waits for the listener connections to finish, or ctx to
// end (then they are closed).
func (s *Server) drainGoConns(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.gconns.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.gconns.each(func(c net.Conn) { _ = c.Close() })
		return ctx.Err()
	}
}

// waitInflight waits for the pooled and streaming handlers, or ctx to end.
func (s *Server) waitInflight(ctx context.Context, err error) error {
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	for s.stats.inflight() > 0 {
		select {
		case <-poll.C:
			continue
		case <-ctx.Done():
			if err == nil {
				err = ctx.Err()
			}
		}
		break
	}
	s.pool.stop()
	return err
}

// Stats returns a snapshot of the server's counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	eng := s.eng
	s.mu.Unlock()
	st := s.stats.snapshot()
	if eng != nil {
		st.ConnsOpen = eng.Open()
		st.AcceptErrors = eng.AcceptErrors()
		st.ConnsDropped = eng.Dropped()
	}
	st.ConnsOpen += s.gconns.open()
	st.PoolWorkers, st.PoolQueued = s.pool.sizes()
	return st
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// bodyDue is when a request that began at started (unix ns) must have
// received got bytes of body, at the minimum rate (Config.MinBodyRate);
// zero with no minimum.
func (s *Server) bodyDue(started, got int64) time.Time {
	rate := int64(s.cfg.MinBodyRate)
	if rate <= 0 {
		return time.Time{}
	}
	return time.Unix(0, started).Add(s.cfg.BodyTimeout + time.Duration(got*int64(time.Second)/rate))
}

// deadline is d from now, never early: the coarse clock may lag by a sweep,
// and closing before the advertised Keep-Alive timeout races the client.
func (s *Server) deadline(d time.Duration) time.Time { return now().Add(d + s.sweep) }

// applyBodyLimits sizes the parser's body limit by the routes' own
// (WithBodyLimit): the largest may pass the parser, each route's is
// checked once the request is routed (session.head, overLimit).
func (s *Server) applyBodyLimits() {
	s.limits.MaxBody, s.minBodyLimit = s.cfg.MaxBodyBytes, s.cfg.MaxBodyBytes
	if rt, ok := s.handler.(interface{ bodyLimits() (int64, int64) }); ok {
		largest, smallest := rt.bodyLimits()
		s.limits.MaxBody = max(s.limits.MaxBody, largest)
		if smallest > 0 {
			s.minBodyLimit = min(s.minBodyLimit, smallest)
		}
	}
}

// bodyLimit is the largest body req may have: its route's, or the server's.
func (s *Server) bodyLimit(req *Request) int64 {
	if req.bodyLimit > 0 {
		return req.bodyLimit
	}
	return s.cfg.MaxBodyBytes
}

// engine is the running engine, nil before Start.
func (s *Server) engine() *eventloop.Engine {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.eng
}

// errorChain is the handler that gives the server's answer to a routed
// request whose own handler does not run (req.answer): in the middleware
// of the router group that owns its path, so CORS and a request id reach
// it too.
func (s *Server) errorChain(req *Request) Handler {
	if rt, ok := s.handler.(*Router); ok {
		return rt.answersFor(req.path).answer.h
	}
	return HandlerFunc(answerRequestError)
}

// route picks the handler and where it runs.
func (s *Server) route(r *Request) (Handler, Mode) {
	if s.resolver != nil {
		h, m := s.resolver.Resolve(r)
		if m == Default {
			m = s.cfg.Mode
		}
		return h, m
	}
	return s.handler, s.cfg.Mode
}
