package kahttp

import (
	"errors"
	"io"
	"time"

	"github.com/kahttp/kahttp/eventloop"
	"github.com/kahttp/kahttp/internal/wire"
	"github.com/valyala/bytebufferpool"
)

// protocol is the HTTP/1.x eventloop.Handler: one session per connection.
type protocol struct{ srv *Server }

func (p *protocol) Open(c *eventloop.Conn) bool {
	srv := p.srv
	if s, ok := c.Session.(*session); ok { // back from a blocking goroutine (blocking.go: resume)
		s.resumed(c) // the loop's now, even to close it: Closed runs next if not kept
		if srv.draining.Load() {
			s.reason = reasonShutdown
			return false
		}
		return true
	}
	st := srv.stats.at(c.Loop())
	st.accepted.Add(1)
	if srv.draining.Load() {
		st.connClosed(reasonShutdown, 0)
		return false
	}
	c.Session = newLoopSession(srv, c, c.RemoteAddr())
	return true
}

func (p *protocol) Traffic(c *eventloop.Conn, in []byte) int {
	n, _ := c.Session.(*session).traffic(in)
	return n // a connection that left the loop is detached: the loop drops it whatever n says
}

func (p *protocol) Expired(c *eventloop.Conn) { c.Session.(*session).expired() }

func (p *protocol) Closed(c *eventloop.Conn, err error) {
	if s, _ := c.Session.(*session); s != nil {
		s.gone(err)
	}
}

// turn is what a call of traffic left the connection in.
type turn uint8

const (
	turnOpen    turn = iota // open: waits for more bytes, or for its pooled batch
	turnClosing             // closes once its output has left
	turnLeft                // this owner let it go (to a blocking goroutine, or a hijacker): touch nothing more
)

// traffic answers every complete request in `in`, in order, and returns
// how many bytes it consumed and what became of the connection. Each
// complete request goes through the exchange (exchange.go): inline
// requests are answered on the spot; from the first pooled one on, the
// complete requests that follow join its batch, which one worker runs in
// order (batch.go). A head whose body is still arriving is routed at
// once (head), so that its route's limit applies and a pooled route gets
// its body as a stream. The blocking driver calls it too (blocking.go),
// with the bytes it read.
func (s *session) traffic(in []byte) (int, turn) {
	if s.t != nil && !s.completePooled() {
		return 0, s.awaitBatch(in)
	}
	return s.parse(in)
}

// awaitBatch is a turn of the loop while a pooled batch is out: the input
// waits in the buffer (within bounds), the output drains.
func (s *session) awaitBatch(in []byte) turn {
	if s.overInbound(in) {
		s.abort(reasonOverloaded)
		return turnClosing
	}
	s.stalled(s.waiting.Load())
	s.watchOutput()
	return turnOpen
}

// parse answers the complete requests at the start of in, in order (see
// traffic).
func (s *session) parse(in []byte) (int, turn) {
	consumed, batchStart := 0, 0
	for !s.c.Closing() && !(s.t != nil && s.t.full(consumed-batchStart)) {
		buf := in[consumed:]
		if len(buf) == 0 {
			if s.t == nil {
				s.idle()
			}
			break
		}
		if s.lc != nil && s.lc.Pending() > s.srv.cfg.MaxOutboundBytes {
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
			lim = &req.limits // the route's body limit (head)
		}
		n, err := wire.Parse(buf, &req.w, lim)
		if err != nil && s.t != nil {
			releaseRequest(req) // parsed again, with its 100 Continue or refusal, after the batch
			break
		}
		if err == wire.ErrNeedMore {
			if req.w.HeadEnd > 0 && !req.routed {
				switch s.head(req, buf) {
				case headLeft:
					return len(in), turnLeft
				case headStreamed:
					consumed = len(in) // the stream took the rest (blocking.go: carry)
					continue
				case headRefused:
					continue // the connection is closing
				}
			}
			s.incomplete(req, len(buf))
			break
		}
		s.pending = nil
		if err != nil {
			releaseRequest(req)
			var we *wire.Error
			errors.As(err, &we)
			s.refuse(nil, we.Status, we.Reason, reasonBadRequest)
			break
		}
		if req.w.ConnUpgrade && s.lc != nil && s.upgrade(req, buf, n) {
			return len(in), turnLeft
		}
		if s.t == nil {
			batchStart = consumed
		}
		consumed += n
		if s.overLimit(req, buf[:n]) {
			// Answered in its turn (its chunked body is decoded in place:
			// it could not be parsed again), then the connection closes.
			s.serveRefused(req, buf[:n], StatusRequestEntityTooLarge, wire.ErrBodyTooLarge.Reason)
			continue
		}
		if s.serve(req, buf[:n], buf[n:]) {
			return consumed, turnLeft // hijacked
		}
	}
	if s.t != nil && !s.t.submitted {
		s.dispatch(in[batchStart:consumed])
	}
	s.watchOutput()
	if s.c.Closing() {
		return consumed, turnClosing
	}
	return consumed, turnOpen
}

// idle is between requests with nothing buffered.
func (s *session) idle() {
	if s.srv.draining.Load() {
		// Not closed at once: a request may be on its way (a proxy reusing
		// its pooled connection as the drain begins), and a close would
		// meet it: the idle-close race. It gets DrainGrace, and is
		// answered with Connection: close if it comes.
		if s.phase != phaseDrain {
			s.phase = phaseDrain
			s.c.SetDeadline(time.Now().Add(s.srv.cfg.DrainGrace))
		}
		return
	}
	if s.phase != phaseIdle {
		s.phase = phaseIdle
		s.c.SetDeadline(s.srv.deadline(s.srv.cfg.IdleTimeout))
	}
}

// incomplete keeps a partial request waiting for its bytes; buffered is
// how many of them are in.
func (s *session) incomplete(req *Request, buffered int) {
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
	// The body has IdleTimeout between its bytes; it is due, with what came
	// so far, at the minimum rate; with ReadTimeout the whole request is
	// bounded from its first byte.
	req.bodyGot = int64(buffered - req.w.HeadEnd)
	until := earliest(s.readUntil(), s.srv.bodyDue(s.started, req.bodyGot))
	s.c.SetDeadline(earliest(s.srv.deadline(s.srv.cfg.IdleTimeout), until))
	if want := req.w.Want(); want > 0 && s.lc != nil {
		// Parse it again only once it can get further: the end of a
		// Content-Length body, or of the chunk arriving (offsets count
		// from the start of the unconsumed input, as the loop's buffer
		// will once this call returns). Meanwhile the loop does not look
		// at the bytes: when the deadline passes, expired looks at how
		// many came (bodyOnTime).
		s.lc.Need(want, s.srv.cfg.IdleTimeout, until)
	}
	if req.w.Expect100 && !s.sent100 {
		// The client waits for this before it sends the body (RFC 9110 §10.1.1).
		s.sent100 = true
		out := s.c.Output()
		out.B = append(out.B, continue100...)
	}
}

// bodyOnTime reports whether a body whose deadline passed on a loop is
// still on time, and then arms its timer anew. The deadline was set for
// the bytes in when it was armed (incomplete) while the loop waited for
// more without looking (Conn.Need): if more came since, at the minimum
// rate, and within ReadTimeout, the body goes on. No byte since is the
// idle timeout. A blocking goroutine parses at every read, so its
// deadline is always current.
func (s *session) bodyOnTime() bool {
	req := s.pending
	if req == nil || s.lc == nil {
		return false
	}
	buffered := len(s.lc.Buffered())
	got := int64(buffered - req.w.HeadEnd)
	t := time.Now()
	due := s.srv.bodyDue(s.started, got)
	if got <= req.bodyGot || due.IsZero() || !t.Before(due) {
		return false
	}
	if until := s.readUntil(); !until.IsZero() && !t.Before(until) {
		return false
	}
	s.incomplete(req, buffered)
	return true
}

// earliest is the earliest of ts that is not zero (zero if all are).
func earliest(ts ...time.Time) time.Time {
	var e time.Time
	for _, t := range ts {
		if !t.IsZero() && (e.IsZero() || t.Before(e)) {
			e = t
		}
	}
	return e
}

// continue100 is the interim response a client that sent
// Expect: 100-continue waits for before it sends the body.
const continue100 = "HTTP/1.1 100 Continue\r\n\r\n"

// readUntil is when the request being received must be in (ReadTimeout
// from its first byte), zero without ReadTimeout.
func (s *session) readUntil() time.Time {
	if rt := s.srv.cfg.ReadTimeout; rt > 0 {
		return time.Unix(0, s.started).Add(rt)
	}
	return time.Time{}
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
// has no timer: a handler may take its time. Loop only.
func (s *session) stalled(on bool) {
	switch {
	case on && (s.phase != phasePaused || int64(s.lc.Pending()) < s.outbound.Load()):
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

// watchOutput asks the loop to look at this connection on every fast tick while
// the output has to drain (paused, or a pooled handler waits), and tells a
// waiting worker how far it has drained. Loop only; nothing off the loop.
func (s *session) watchOutput() {
	if s.lc == nil {
		return
	}
	pending := int64(s.lc.Pending())
	s.outbound.Store(pending)
	if s.waiting.Load() && s.mayFlush() {
		s.signalDrain()
	}
	s.lc.Watch(s.phase == phasePaused || s.waiting.Load())
}

// headTurn is what head did with a request whose body is still arriving.
type headTurn uint8

const (
	headWait     headTurn = iota // routed; it waits for its body as usual
	headRefused                  // refused (over the route's limit): the connection closes
	headLeft                     // the connection left the loop for a goroutine that streams it
	headStreamed                 // served here, its body streamed (a blocking goroutine only)
)

// head runs once for a request whose head is in and whose body is not:
// it routes the request now, so that its route's body limit applies from
// here (413 at once for a declared length past it, before any 100
// Continue; the parser bounds the rest), and a pooled route gets its body
// as a stream: on a blocking goroutine right here, from a loop by
// detaching the connection to one. buf is the unconsumed input, the
// request at its start.
func (s *session) head(req *Request, buf []byte) headTurn {
	h, mode := s.route(req, buf[:req.w.HeadEnd])
	limit := s.srv.bodyLimit(req)
	req.routed, req.limits = true, s.srv.limits
	req.limits.MaxBody = limit
	if req.w.ContentLength > limit {
		s.refuse(req, StatusRequestEntityTooLarge, wire.ErrBodyTooLarge.Reason, reasonBadRequest)
		return headRefused
	}
	if s.phase != phaseHead && s.phase != phaseBody {
		s.started = now().UnixNano() // the request began with this read
	}
	if mode == Pooled && s.wantsStream(req, buf) {
		if s.blocking() {
			s.streamHere(req, buf, h)
			return headStreamed
		}
		if s.leaveLoop(buf) {
			releaseRequest(req) // the goroutine parses it again from the bytes
			return headLeft
		}
		// It cannot leave the loop now (output still queued for a client
		// that is not reading it): held whole, so within MaxBodyBytes.
		if req.limits.MaxBody = min(limit, s.srv.cfg.MaxBodyBytes); req.w.ContentLength > req.limits.MaxBody {
			s.refuse(req, StatusRequestEntityTooLarge, "request body too large to hold while earlier answers are unread", reasonBadRequest)
			return headRefused
		}
	}
	req.unbind() // bound again when complete
	return headWait
}

// wantsStream reports whether req's body should stream: more than
// streamAbove of it still missing, chunked, or after 100 Continue.
func (s *session) wantsStream(req *Request, buf []byte) bool {
	w := &req.w
	missing := w.ContentLength - int64(len(buf)-w.HeadEnd)
	return w.Chunked || w.Expect100 || missing > streamAbove
}

// overLimit reports whether a complete request's body is past its route's
// limit (WithBodyLimit below Config.MaxBodyBytes); bodies no route limits
// cost no lookup.
func (s *session) overLimit(req *Request, raw []byte) bool {
	n := int64(req.w.Body.Len())
	if n <= s.srv.minBodyLimit || req.routed {
		return req.routed && n > req.limits.MaxBody
	}
	s.route(req, raw)
	over := n > s.srv.bodyLimit(req)
	req.unbind()
	return over
}

// upgrade hands a request with Connection: upgrade (raw: its n bytes at
// the start of buf, the rest what followed it) to a goroutine that owns
// the connection, so its handler may take the socket over (Hijack), if
// its route is pooled and the connection can leave the loop now. False:
// serve it as any request (Hijack will refuse).
func (s *session) upgrade(req *Request, buf []byte, n int) bool {
	if s.t != nil {
		return false
	}
	_, mode := s.route(req, buf[:n])
	req.unbind()
	if mode != Pooled || !s.leaveLoop(buf) {
		return false
	}
	releaseRequest(req) // the goroutine parses it again from the bytes
	return true
}

// gone runs once when the loop's connection is gone; err is nil when this
// side closed it.
func (s *session) gone(err error) {
	if errors.Is(err, eventloop.ErrDetached) {
		return // a goroutine drives the session now (blocking.go): not ours to touch
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
		leftover = s.lc.Buffered()
	}
	var orphan *blockingConn
	s.mu.Lock()
	own := s.owner
	batch := own == ownerWorker || own == ownerReturned
	s.owner = ownerClosed
	if owed && (batch || len(leftover) > 0) {
		if fd, err := s.lc.Dup(); err == nil {
			orphan = newDupConn(s.srv, fd, leftover)
			orphan.orphan = true
			s.bc, s.owner = orphan, ownerBlocking
		}
	}
	if own == ownerWorker {
		s.t.cancel() // as net/http, on EOF: a handler waiting on I/O may stop
	}
	s.mu.Unlock()
	switch {
	case own == ownerWorker:
		// the worker finishes: runPooled sees the new owner
	case orphan != nil:
		go s.runOrphan()
	case own == ownerReturned:
		s.dropPooled()
	}
	s.signalDrain()
}

// resumed attaches a session back from a blocking goroutine to its new
// loop connection. Loop only.
func (s *session) resumed(c *eventloop.Conn) {
	s.mu.Lock()
	s.c, s.lc, s.bc, s.owner = c, c, nil, ownerLoop
	s.mu.Unlock()
	c.SetDeadline(s.srv.deadline(s.srv.cfg.IdleTimeout))
}
