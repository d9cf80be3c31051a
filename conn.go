package kahttp

import (
	"errors"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kahttp/kahttp/eventloop"
	"github.com/kahttp/kahttp/internal/wire"
	"github.com/valyala/bytebufferpool"
)

// protocol is the HTTP/1.x eventloop.Handler: one session per connection.
type protocol struct{ srv *Server }

// phase is where a connection is between two requests; it picks the timer.
type phase uint8

const (
	phaseIdle   phase = iota // nothing buffered: IdleTimeout (HeaderTimeout for a new connection)
	phaseHead                // a request has started: HeaderTimeout from its first byte
	phaseBody                // head done, body arriving: IdleTimeout since the last bytes
	phaseBusy                // a pooled handler runs: no timer
	phasePaused              // output piles up (past MaxOutboundBytes, or a pooled handler waits to write): WriteTimeout for the client to read
)

// transport is what a session needs of its connection: *eventloop.Conn in
// the server, an in-memory fake in tests and benchmarks, so the HTTP layer
// runs without sockets. Methods are loop-only unless eventloop.Conn says otherwise.
type transport interface {
	Output() *bytebufferpool.ByteBuffer
	Flush() error
	Pending() int
	CloseAfterFlush(linger time.Duration)
	Abort()
	Need(n int, extend time.Duration, until time.Time)
	Unread() int
	Closing() bool
	SetDeadline(t time.Time)
	Watch(on bool)
	Wake()
	AsyncWrite(b []byte, done func(err error)) error
	Dup() (int, error)
	Detach() (int, error)
	Buffered() []byte
	Loop() int // the event loop serving it (for per-loop state), or any number off the loops
}

// session is the HTTP state of one connection. It has one owner at a
// time, which alone uses the fields above mu: the connection's loop; or,
// while the connection is off the loop, the goroutine serving it (a
// streamed body, stream.go, from Detach to Resume; a half-closed client,
// orphan.go, to the end). The fields from mu on are shared with the pooled
// worker (and Shutdown): each says how (under mu, atomic).
//
// An idle connection pays for this struct: keep its fields few and packed
// (the small ones together).
type session struct {
	srv     *Server
	c       transport
	remote  net.Addr
	served  int      // requests answered on this connection
	pending *Request // head parsed, body still arriving
	started int64    // unix ns when the request being received began (ReadTimeout)
	// t is the pooled batch, nil when none: built here, then run by a
	// worker, then sent from here (see pooled.go). An idle connection
	// holds none, so it costs no more than its few words.
	t   *task
	upg *upgradeState // an upgrade request runs (upgrade.go): for Hijack

	phase   phase
	sent100 bool
	reason  closeReason // why the connection is closing
	// inlineOnly: the session runs on its own goroutine (see orphan.go)
	inlineOnly bool
	listener   bool // served from a net.Listener on its own goroutine (serve.go)

	// From mu on: shared by the loop, the pooled worker and an orphan.
	batch  batchState // where the pooled batch t is; under mu
	closed bool       // the connection is gone; under mu
	mu     sync.Mutex
	orphan *blockingConn // a dup of the socket, to finish what a half-closed client is owed; under mu

	outbound atomic.Int64  // the loop's last look at Pending(), for the worker's backpressure
	unsent   atomic.Int64  // bytes a worker handed to AsyncWrite not yet written
	drain    chan struct{} // signals a worker waiting for output to drain; guarded by mu
	waiting  atomic.Bool   // a worker waits on drain
}

func (p *protocol) Open(c *eventloop.Conn) bool {
	srv := p.srv
	if s, ok := c.Session.(*session); ok { // back from a streamed request (stream.go)
		if srv.draining.Load() {
			s.reason = reasonShutdown
			return false
		}
		s.resumed(c)
		return true
	}
	st := srv.stats.at(c.Loop())
	st.accepted.Add(1)
	if srv.draining.Load() {
		st.connClosed(reasonShutdown, 0)
		return false
	}
	c.Session = newSession(srv, c, c.RemoteAddr())
	return true
}

func newSession(srv *Server, c transport, remote net.Addr) *session {
	s := &session{srv: srv, c: c, remote: remote}
	// A new connection must send its first request within HeaderTimeout.
	c.SetDeadline(srv.deadline(srv.cfg.HeaderTimeout))
	return s
}

func (p *protocol) Traffic(c *eventloop.Conn, in []byte) int {
	return c.Session.(*session).traffic(in)
}

func (p *protocol) Expired(c *eventloop.Conn) { c.Session.(*session).expired() }

// expired runs when the connection's deadline passed: the phase says which one.
func (s *session) expired() {
	switch s.phase {
	case phaseIdle:
		if s.served == 0 {
			s.closeWith(reasonHeaderTimeout)
		} else {
			s.closeWith(reasonIdleTimeout)
		}
	case phaseHead, phaseBody:
		s.refuse(StatusRequestTimeout, "request not received in time", reasonHeaderTimeout)
	case phasePaused:
		s.abort(reasonWriteTimeout) // the client does not read its responses: drop them
	}
}

func (p *protocol) Closed(c *eventloop.Conn, err error) {
	if s, _ := c.Session.(*session); s != nil {
		s.gone(err)
	}
}

// gone runs once when the connection is gone; err is nil when this side closed it.
func (s *session) gone(err error) {
	if errors.Is(err, eventloop.ErrDetached) {
		return // a goroutine serves the session now (stream.go): not ours to touch
	}
	if s.pending != nil {
		releaseRequest(s.pending)
		s.pending = nil
	}
	reason := s.reason
	if reason == reasonNone {
		reason = reasonClientClosed
		if err == nil {
			reason = reasonShutdown // closed by the engine's stop
		}
	}
	s.stats().connClosed(reason, s.served)

	// A clean EOF may be a half-close: the client may still wait for answers.
	var leftover []byte
	owed := errors.Is(err, io.EOF)
	if owed {
		leftover = s.c.Buffered()
	}
	s.mu.Lock()
	s.closed = true
	inflight, done := s.batch != batchNone, s.batch == batchDone
	if owed && (inflight || len(leftover) > 0) {
		if fd, err := s.c.Dup(); err == nil {
			s.orphan = newBlockingConn(fd, s.srv.cfg.IdleTimeout)
			if len(leftover) > 0 {
				s.orphan.leftover = bytebufferpool.Get()
				s.orphan.leftover.B = append(s.orphan.leftover.B[:0], leftover...)
			}
		}
	}
	if inflight && !done {
		s.t.cancel() // as net/http, on EOF: a handler waiting on I/O may stop
	}
	orphan := s.orphan
	s.mu.Unlock()
	switch {
	case inflight && !done:
		// the worker finishes (runPooled sees closed)
	case orphan != nil:
		go s.runOrphan()
	case inflight:
		s.dropPooled()
	}
	s.signalDrain()
}

// stats is the counters' shard of the connection's loop: its own core's
// (see counters).
func (s *session) stats() *counterShard { return s.srv.stats.at(s.c.Loop()) }

// signalDrain wakes a pooled worker waiting for the output to drain.
// The channel is made by the first worker that waits: an idle connection
// should not pay for it. Any goroutine.
func (s *session) signalDrain() {
	s.mu.Lock()
	ch := s.drain
	s.mu.Unlock()
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// traffic answers every complete request in `in`, in order, and returns
// how many bytes it consumed. Inline requests are answered on the spot; from
// the first pooled one on, the complete requests that follow join its batch,
// which one worker runs in order (see dispatch).
func (s *session) traffic(in []byte) int {
	if s.t != nil && !s.completePooled() {
		if s.overInbound(in) {
			s.abort(reasonOverloaded)
			return 0
		}
		s.stalled(s.waiting.Load())
		s.watch()
		return 0 // the pooled batch still runs; the rest waits in the buffer
	}
	consumed, batchStart := 0, 0
	for !s.c.Closing() && !(s.t != nil && s.t.full(consumed-batchStart)) {
		buf := in[consumed:]
		if len(buf) == 0 {
			if s.t == nil {
				s.idle()
			}
			break
		}
		if s.c.Pending() > s.srv.cfg.MaxOutboundBytes {
			if s.t == nil {
				s.pause(buf)
			}
			break
		}
		req := s.pending
		if req == nil {
			req = acquireRequest()
		}
		lim := &s.srv.limits
		if req.routed {
			lim = &req.limits // the route's body limit (session.head)
		}
		n, err := wire.Parse(buf, &req.w, lim)
		if err != nil && s.t != nil {
			releaseRequest(req) // parsed again, with its 100 Continue or refusal, after the batch
			break
		}
		if err == wire.ErrNeedMore {
			if req.w.HeadEnd > 0 && !req.routed {
				if streamed := s.head(req, buf); streamed {
					// The connection left the loop with its input; the
					// session is the stream's goroutine's now: touch nothing.
					return len(in)
				}
				if s.c.Closing() {
					break // refused: over the route's body limit
				}
			}
			s.incomplete(req)
			break
		}
		s.pending = nil
		if err != nil {
			releaseRequest(req)
			var we *wire.Error
			errors.As(err, &we)
			s.refuse(we.Status, we.Reason, reasonBadRequest)
			break
		}
		if req.w.ConnUpgrade && s.upgrade(req, buf, n) {
			// The connection left the loop with its input; the session is
			// the upgrade's goroutine's now: touch nothing more.
			return len(in)
		}
		if s.overLimit(req, buf[:n]) {
			releaseRequest(req)
			if s.t == nil {
				s.refuse(StatusRequestEntityTooLarge, "request body larger than the route takes", reasonBadRequest)
			} // else refused after the batch, when parsed again
			break
		}
		if s.t == nil {
			batchStart = consumed
		}
		consumed += n
		if req.w.ConnUpgrade && s.listener {
			// A listener connection's goroutine owns its socket already:
			// the handler may take it over (Hijack) with what follows.
			s.upg = &upgradeState{o: s.c.(*blockingConn), rest: buf[n:]}
			s.serve(req, buf[:n])
			hijacked := s.upg.hijacked
			s.upg = nil
			if hijacked {
				return consumed
			}
			continue
		}
		s.serve(req, buf[:n])
	}
	if s.t != nil && !s.t.submitted {
		s.dispatch(in[batchStart:consumed])
	}
	s.watch()
	return consumed
}

// idle is between requests with nothing buffered.
func (s *session) idle() {
	if s.srv.draining.Load() {
		if s.c.Unread() > 0 {
			// Not idle: a request is in the socket, not yet read (a Wake
			// can run before the read event). Closing now would reset the
			// connection with the request unanswered; its read event
			// comes next, and it is answered with Connection: close.
			return
		}
		s.closeWith(reasonShutdown)
		return
	}
	if s.phase != phaseIdle {
		s.phase = phaseIdle
		s.c.SetDeadline(s.srv.deadline(s.srv.cfg.IdleTimeout))
	}
}

// incomplete keeps a partial request waiting for its bytes.
func (s *session) incomplete(req *Request) {
	if s.phase != phaseHead && s.phase != phaseBody {
		s.started = now().UnixNano() // a new request begins
	}
	if req.w.HeadEnd == 0 {
		releaseRequest(req)
		if s.phase != phaseHead {
			s.phase = phaseHead
			s.c.SetDeadline(s.srv.deadline(s.srv.cfg.HeaderTimeout))
		}
		return
	}
	s.pending = req
	s.phase = phaseBody
	// The body has IdleTimeout between its bytes, and with ReadTimeout the
	// whole request is bounded from its first byte.
	var until time.Time
	if rt := s.srv.cfg.ReadTimeout; rt > 0 {
		until = time.Unix(0, s.started).Add(rt)
	}
	d := s.srv.deadline(s.srv.cfg.IdleTimeout)
	if !until.IsZero() && until.Before(d) {
		d = until
	}
	s.c.SetDeadline(d)
	if want := req.w.Want(); want > 0 {
		// Parse it again only once it can get further: the end of a
		// Content-Length body, or of the chunk arriving (offsets count
		// from the start of the unconsumed input, as the loop's buffer
		// will once this call returns).
		s.c.Need(want, s.srv.cfg.IdleTimeout, until)
	}
	if req.w.Expect100 && !s.sent100 {
		// The client waits for this before it sends the body (RFC 9110 §10.1.1).
		s.sent100 = true
		out := s.c.Output()
		out.B = append(out.B, "HTTP/1.1 100 Continue\r\n\r\n"...)
	}
}

// pause stops reading requests while the connection's output is past its
// limit: a client that pipelines without reading cannot grow server memory.
func (s *session) pause(in []byte) {
	if s.overInbound(in) {
		s.abort(reasonOverloaded)
		return
	}
	s.stalled(true)
}

// stalled keeps the write timer while output waits for the client (on,
// phasePaused): the client has WriteTimeout to take some of it, and the
// timer restarts whenever the pending output shrinks. Off (a pooled
// handler no longer waits to write) goes back to the busy phase, which
// has no timer: a handler may take its time.
func (s *session) stalled(on bool) {
	switch {
	case on && (s.phase != phasePaused || int64(s.c.Pending()) < s.outbound.Load()):
		s.phase = phasePaused
		s.c.SetDeadline(s.srv.deadline(s.srv.cfg.WriteTimeout))
	case !on && s.phase == phasePaused && s.t != nil:
		s.phase = phaseBusy
		s.c.SetDeadline(time.Time{})
	}
}

// inboundMargin is what a connection may hold unconsumed beyond its next
// request while the server is not consuming its input: room for a client
// that pipelines a few thousand small requests ahead.
const inboundMargin = 128 << 10

// overInbound reports whether in, the input the server is not consuming
// now (output paused, or a pooled batch runs), is more than the next
// request (its head, and its body up to its length or MaxBodyBytes) plus
// inboundMargin. gnet cannot stop reading a connection, so past that a
// client that keeps writing would grow server memory without bound.
func (s *session) overInbound(in []byte) bool {
	cfg := &s.srv.cfg
	headMax := cfg.MaxRequestLineBytes + cfg.MaxHeaderBytes
	if len(in) <= headMax+inboundMargin {
		return false
	}
	// Parse a copy of the next head: a body is decoded in place, and in
	// must stay as it came for the real parse.
	scratch := bytebufferpool.Get()
	scratch.B = append(scratch.B[:0], in[:headMax]...)
	req := acquireRequest()
	_, err := wire.Parse(scratch.B, &req.w, &s.srv.limits)
	limit := headMax + inboundMargin
	if err == wire.ErrNeedMore && req.w.HeadEnd > 0 {
		body := req.w.ContentLength
		if req.w.Chunked {
			body = cfg.MaxBodyBytes + cfg.MaxBodyBytes/16 // room for the chunks' framing
		}
		limit = req.w.HeadEnd + int(body) + inboundMargin
	}
	releaseRequest(req)
	bytebufferpool.Put(scratch)
	return len(in) > limit
}

// abort closes the connection now, dropping the output its client has not
// read: for a client that writes and does not read.
func (s *session) abort(r closeReason) {
	if s.reason == reasonNone {
		s.reason = r
	}
	s.c.Abort()
}

// watch asks the loop to look at this connection on every fast tick while
// the output has to drain (paused, or a pooled handler waits), and tells a
// waiting worker how far it has drained.
func (s *session) watch() {
	pending := int64(s.c.Pending())
	s.outbound.Store(pending)
	if s.waiting.Load() && s.mayFlush() {
		s.signalDrain()
	}
	s.c.Watch(s.phase == phasePaused || s.waiting.Load())
}

// serve answers one complete request inline on the loop, or adds it to the
// connection's pooled batch.
func (s *session) serve(req *Request, raw []byte) {
	s.phase = phaseBusy
	s.sent100 = false
	req.bind(raw)
	req.remote = s.remote
	req.srv = s.srv
	keep, reason, left := s.policy(req)
	h, mode := s.srv.route(req)
	if s.inlineOnly {
		mode = Inline
	}
	s.served++
	s.stats().requests.Add(1)
	it := item{req: req, h: h, keep: keep, reason: reason, left: left}
	if mode == Inline && s.t == nil {
		s.answer(it, nil)
		return
	}
	if s.t == nil {
		s.t = acquireTask(s)
	}
	s.t.items = append(s.t.items, it) // a batch runs in order, inline routes too
}

// answer runs an item on the loop; with note, it answers with that 503
// instead of running the handler.
func (s *session) answer(it item, note *string) {
	w := acquireResponse(it.req, s.srv, s, it.keep, it.reason, it.left)
	if note == nil {
		s.run(it.h, w, it.req)
	} else {
		s.srv.refused(StatusServiceUnavailable, "server busy", s.remote) // Config.OnRefusal hears it (refusal.go)
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(StatusServiceUnavailable)
		_, _ = w.WriteString(*note)
	}
	w.finish()
	s.settle(w)
	releaseResponse(w)
	releaseRequest(it.req)
}

// policy is the keep-alive decision for a request, before the handler runs
// (the response can still turn it into a close). left is the number of
// requests the connection may still take after this one, -1 for no limit.
func (s *session) policy(r *Request) (keep bool, reason closeReason, left int) {
	left = -1
	if max := s.srv.cfg.MaxRequestsPerConn; max > 0 {
		left = max - s.served - 1
	}
	switch {
	case r.w.ConnClose:
		return false, reasonClientAsked, left
	case r.w.Minor == 0 && !r.w.ConnKeepAlive:
		return false, reasonHTTP10, left
	case left == 0:
		return false, reasonMaxRequests, 0
	case s.srv.draining.Load():
		return false, reasonShutdown, left
	}
	return true, reasonNone, left
}

// run calls the handler, turning a panic into a 500 (or an aborted
// response if the head is already out) so the server keeps serving.
func (s *session) run(h Handler, w *Response, r *Request) {
	defer func() {
		if v := recover(); v != nil {
			s.srv.cfg.Logger.Error("kahttp: handler panic", "panic", v, "request", r.String(),
				"stack", string(debug.Stack()))
			w.recovered()
		}
	}()
	h.Serve(w, r)
}

// settle applies the response's verdict on the connection.
func (s *session) settle(w *Response) {
	if !w.keepAlive {
		s.closeWith(w.reason)
	}
}

func (s *session) closeWith(r closeReason) {
	if s.reason == reasonNone {
		s.reason = r
	}
	s.c.CloseAfterFlush(s.srv.cfg.IdleTimeout)
}

// refuse answers a request the server will not serve, and closes.
func (s *session) refuse(status int, reason string, why closeReason) {
	if s.pending != nil {
		releaseRequest(s.pending)
		s.pending = nil
	}
	s.stats().requests.Add(1)
	s.srv.refused(status, reason, s.remote) // Config.OnRefusal hears it (refusal.go)
	out := s.c.Output()
	out.B = appendRefusal(out.B, &s.srv.cfg, status, reason)
	s.closeWith(why)
}

// buffer and flush make the session the sink of inline responses: they
// write straight into the loop's batch.
func (s *session) buffer() *bytebufferpool.ByteBuffer { return s.c.Output() }
func (s *session) flush() error {
	if err := s.c.Flush(); err != nil {
		return ErrConnClosed
	}
	return nil
}

// cancelInflight cancels the context of the pooled request running, if any.
// Any goroutine.
func (s *session) cancelInflight() {
	s.mu.Lock()
	if s.batch == batchRunning {
		s.t.cancel()
	}
	s.mu.Unlock()
}
