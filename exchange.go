package kahttp

import (
	"errors"
	"runtime/debug"
	"time"

	"github.com/valyala/bytebufferpool"
)

// The exchange: one request and its response, from routing to the verdict
// on the connection, written once for every driver. Its steps, in order:
//
//  1. route: the handler and where it runs (route, head for a request
//     whose body is still arriving);
//  2. admit: the keep-alive policy before the handler runs, the request
//     counted (an item);
//  3. exchange: the response over the driver's sink, the handler run (a
//     panic becomes a 500), a streamed body ended (endStream),
//     the response finished; its verdict: keep the connection or why not.
//
// The loop runs it for inline items (answer), a worker for each item of a
// pooled batch (runPooled), a blocking goroutine for every request it
// serves, a streamed one included (streamHere). The server's own answers
// (a refused request, 503 from a full pool, 500 after a panic, a streamed
// body's 400/408/413) are formed here too: refuse, serveRefused and the
// pool's 503 (dispatch) run the group's error chain (Server.errorChain);
// endStream and run's recovery replace the response (answers.go).

// item is one admitted request with what was decided before its handler.
type item struct {
	req    *Request
	h      Handler
	keep   bool // the keep-alive policy's verdict before the handler runs
	reason closeReason
	left   int
}

// route binds req to raw, the bytes it was parsed from, and picks its
// handler and where it runs.
func (s *session) route(req *Request, raw []byte) (Handler, Mode) {
	req.bind(raw)
	req.remote, req.srv = s.remote, s.srv
	req.ctx.shutdown = s.srv.shuttingDown
	return s.srv.route(req)
}

// admit counts req as the connection's next request and applies the
// keep-alive policy.
func (s *session) admit(req *Request, h Handler) item {
	s.phase, s.sent100 = phaseBusy, false
	keep, reason, left := s.policy(req)
	s.served++
	s.stats().requests.Add(1)
	return item{req: req, h: h, keep: keep, reason: reason, left: left}
}

// serve routes and admits one complete request (raw: its bytes, rest: what
// followed them), then answers it here, or adds it to the connection's
// pooled batch. True: a handler hijacked the connection.
func (s *session) serve(req *Request, raw, rest []byte) (hijacked bool) {
	h, mode := s.route(req, raw)
	it := s.admit(req, h)
	if s.blocking() {
		// This goroutine serves nobody else: every handler runs here, and
		// an upgrade's handler may take the socket over.
		if req.w.ConnUpgrade {
			return s.answerUpgrade(it, rest)
		}
		return s.answer(it)
	}
	if mode == Inline && s.t == nil {
		s.answer(it)
		return false
	}
	if s.t == nil {
		s.t = acquireTask(s)
	}
	s.t.items = append(s.t.items, it) // a batch runs in order, inline routes too
	return false
}

// serveRefused answers a complete request the server refuses once it is
// routed (its body past the route's limit) in its turn among the
// connection's requests: the answer runs in the middleware of the group
// that owns it (Server.errorChain), then the connection closes.
func (s *session) serveRefused(req *Request, raw []byte, status int, reason string) {
	s.route(req, raw)
	req.answer = &RequestError{Status: status, Reason: reason}
	it := s.admit(req, s.srv.errorChain(req))
	it.keep, it.reason = false, reasonBadRequest
	if s.t == nil || s.blocking() {
		s.answer(it)
		return
	}
	s.t.items = append(s.t.items, it) // the batch answers it in order, and stops
}

// answer runs an item on the session's owner, writing into the
// connection's output, and applies its verdict. True: hijacked.
func (s *session) answer(it item) (hijacked bool) {
	keep, reason := s.exchange(it, s)
	if reason == reasonHijacked {
		releaseRequest(it.req)
		return true
	}
	s.verdict(keep, reason)
	releaseRequest(it.req)
	return false
}

// exchange runs the handler of it over a response written to sink, and
// returns the verdict on the connection. The caller releases it.req.
func (s *session) exchange(it item, sink sink) (keep bool, reason closeReason) {
	w := acquireResponse(it.req, s.srv, sink, it.keep, it.reason, it.left)
	body := it.req.stream
	if body != nil {
		body.w = w // 100 Continue only while the response has not begun
	}
	s.run(it.h, w, it.req)
	if body != nil {
		s.endStream(w, body)
		body.w = nil
	}
	w.finish()
	if w.onFinish != nil {
		w.onFinish(w)
	}
	keep, reason = w.keepAlive, w.reason
	releaseResponse(w) // here, where it was taken: sync.Pool is per P
	return keep, reason
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

// verdict applies a response's verdict on the connection: kept, or
// closed once its output has left.
func (s *session) verdict(keep bool, reason closeReason) {
	if !keep {
		s.closeWith(reason)
	}
}

// buffer and flush make the session the sink of the responses its owner
// answers: they write straight into the connection's output.
func (s *session) buffer() *bytebufferpool.ByteBuffer { return s.c.Output() }
func (s *session) flush() error {
	if err := s.c.Flush(); err != nil {
		return ErrConnClosed
	}
	return nil
}

// drainAfterStream is how much unread body is read away after the handler
// to keep the connection; past it the connection closes.
const drainAfterStream = 256 << 10

// endStream ends a streamed body once its handler returned: a body
// that failed (too large, malformed, too slow) with nothing sent yet gets
// that status, whatever the handler wrote; a body not read to its end is
// read away if little is left, else the connection closes after the
// response (the unread-rest rule).
func (s *session) endStream(w *Response, body *bodyStream) {
	var re *RequestError
	switch {
	case errors.As(body.err, &re) && w.frame == framePending:
		w.serverAnswer(re.Status, re.Reason)
		w.closeAfter(reasonBadRequest)
	case body.err != nil || !body.discard(drainAfterStream):
		w.closeAfter(reasonIncomplete) // the rest of the body cannot be skipped cheaply
	}
}

// refuse answers a request the server will not serve (malformed, too
// large, too slow), and closes. req is the request when its head is in,
// routed and bound: its answer then runs in the middleware of the group
// that owns it (Server.errorChain), and OnRefusal hears its method and
// target. Else req is nil: nothing of the request can be trusted, and it
// is answered as a bare HTTP/1.x request, through the server's
// ErrorWriter. refuse releases req, and the pending request.
func (s *session) refuse(req *Request, status int, reason string, why closeReason) {
	if s.pending != nil && s.pending != req {
		releaseRequest(s.pending)
	}
	s.pending = nil
	s.stats().requests.Add(1)
	if req != nil {
		req.answer = &RequestError{Status: status, Reason: reason}
		s.answer(item{req: req, h: s.srv.errorChain(req), reason: why, left: -1})
		s.closeWith(why)
		return
	}
	req = acquireRequest()
	req.w.Reset() // nothing was parsed into it: a request of no method, HTTP/1.0
	req.remote, req.srv = s.remote, s.srv
	w := acquireResponse(req, s.srv, s, false, why, -1)
	w.serverAnswer(status, reason)
	w.finish()
	releaseResponse(w)
	releaseRequest(req)
	s.closeWith(why)
}

// streamHere serves req, whose body is still arriving, on this blocking
// goroutine: the handler reads the body from the socket as it comes
// (Request.BodyReader; backpressure is TCP's), 100 Continue goes out on
// its first read if the response has not begun, and what was read past
// the body is carried to the driver's next turn. buf is the unconsumed
// input, req's head at its start.
func (s *session) streamHere(req *Request, buf []byte, h Handler) {
	o := s.bc
	w := &req.w
	o.until = s.readUntil()
	o.bodyFrom, o.bodyGot = s.started, int64(len(buf)-w.HeadEnd)
	body := newBodyStream(o, buf[w.HeadEnd:], w.ContentLength, w.Chunked, w.Expect100, &req.limits)
	req.stream = body
	it := s.admit(req, h)
	keep, reason := s.exchange(it, s)
	o.until = time.Time{} // the request is in: the next ones have their own timers
	o.carry(body.rest())
	body.release()
	releaseRequest(req)
	s.verdict(keep, reason)
}
