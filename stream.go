package kahttp

import (
	"errors"
	"strconv"
	"time"

	"github.com/kahttp/kahttp/eventloop"
	"github.com/valyala/bytebufferpool"
)

// Life of a streamed request, in order (who runs each step in brackets):
//
//  1. [loop] traffic parses a head whose body is still arriving: more than
//     streamAbove left, chunked, or Expect: 100-continue. stream routes it;
//     a pooled route, no batch in flight and no output pending, and the
//     connection is detached: the loop lets it go, a dup of its socket
//     and the bytes received so far go to a new goroutine.
//  2. [goroutine] serveStream runs the handler there, the session on a
//     blocking transport over the dup (blockingConn). The handler reads the
//     body as it arrives (Request.BodyReader; Body reads it whole), each
//     read a read of the socket: backpressure is TCP's. 100 Continue goes
//     out on the first read, if the response has not begun.
//  3. [goroutine] After the handler: a body not read to its end is read
//     away if little is left, else the connection closes after the
//     response. A body past its limit with nothing answered yet gets 413.
//  4. [goroutine] What the client sent after the body is served on this
//     goroutine, one request after another, until nothing is buffered.
//  5. [goroutine → loop] The socket goes back to a loop (Engine.Resume),
//     which finds this session in Open and serves it as before. A
//     connection that closes, or a server that drains, ends here instead.

// drainAfterStream is how much unread body is read away after the handler
// to keep the connection; past it the connection closes.
const drainAfterStream = 256 << 10

// head runs once for a request whose head is in and whose body is not:
// it routes the request now, so that its route's body limit applies from
// here (413 at once for a declared length past it, before any 100
// Continue; the parser bounds the rest), and a pooled route gets its body
// as a stream. buf is the unconsumed input, the request at its start. True:
// the connection left the loop (stream). Otherwise the request waits for
// its body as usual, or was refused (the connection is closing).
func (s *session) head(req *Request, buf []byte) bool {
	req.bind(buf[:req.w.HeadEnd])
	req.remote, req.srv = s.remote, s.srv
	h, mode := s.srv.route(req)
	if s.inlineOnly {
		mode = Inline
	}
	limit := s.srv.bodyLimit(req)
	req.routed, req.limits = true, s.srv.limits
	req.limits.MaxBody = limit
	if req.w.ContentLength > limit {
		releaseRequest(req) // a new request: never s.pending (that one is routed)
		s.refuse(StatusRequestEntityTooLarge, "request body larger than the route takes", reasonBadRequest)
		return false
	}
	if s.phase != phaseHead && s.phase != phaseBody {
		s.started = now().UnixNano() // the request began with this read
	}
	if mode == Pooled && s.wantsStream(req, buf) {
		if s.stream(req, buf, h) {
			return true
		}
		// It cannot leave the loop now (output still queued for a client
		// that is not reading it): held whole, so within MaxBodyBytes.
		if req.limits.MaxBody = min(limit, s.srv.cfg.MaxBodyBytes); req.w.ContentLength > req.limits.MaxBody {
			releaseRequest(req)
			s.refuse(StatusRequestEntityTooLarge, "request body too large to hold while earlier answers are unread", reasonBadRequest)
			return false
		}
	}
	req.unbind() // bound again when complete
	return false
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
	req.bind(raw)
	s.srv.route(req)
	over := n > s.srv.bodyLimit(req)
	req.unbind()
	return over
}

// stream hands req, a pooled request whose body is still arriving, to a
// goroutine that runs h while the body streams (the life of a streamed
// request, above). False: serve it as usual, its body held whole.
func (s *session) stream(req *Request, buf []byte, h Handler) bool {
	fd, in, ok := s.leaveLoop(req, buf, req.w.HeadEnd)
	if !ok {
		return false
	}
	s.pending = nil
	go s.serveStream(fd, in, req, h)
	return true
}

// leaveLoop detaches the connection from its loop for a goroutine that
// will own it (a streamed body, an upgrade): its batch written first, a
// dup of its socket, and buf (the unconsumed input, req's n bytes at its
// start) copied for that goroutine, req moved onto the copy. False when
// it cannot leave now: a batch runs, or output waits for the client.
func (s *session) leaveLoop(req *Request, buf []byte, n int) (int, *bytebufferpool.ByteBuffer, bool) {
	if s.t != nil || s.c.Flush() != nil || s.c.Pending() > 0 {
		return -1, nil, false
	}
	fd, err := s.c.Detach()
	if err != nil {
		return -1, nil, false
	}
	in := bytebufferpool.Get()
	in.B = append(in.B[:0], buf...)
	req.move(in.B[:n])
	s.stats().inflight.Add(1) // ended by the goroutine's endOffLoop
	return fd, in, true
}

// offLoop makes the calling goroutine the session's owner, over a dup of
// its socket: blocking I/O, handlers run here.
func (s *session) offLoop(fd int) *blockingConn {
	o := newBlockingConn(fd, s.srv.cfg.IdleTimeout)
	s.mu.Lock()
	s.c = o
	s.mu.Unlock()
	s.inlineOnly = true // blocking is fine here: this goroutine serves nobody else
	return o
}

// begin counts req as this connection's next request and returns its
// Response, written through the session (the off-loop transport).
func (s *session) begin(req *Request) *Response {
	s.phase, s.sent100 = phaseBusy, false
	keep, reason, left := s.policy(req)
	s.served++
	s.stats().requests.Add(1)
	return acquireResponse(req, s.srv, s, keep, reason, left)
}

// serveStream runs on the goroutine that owns the connection from here:
// steps 2 to 5 of the life of a streamed request.
func (s *session) serveStream(fd int, in *bytebufferpool.ByteBuffer, req *Request, h Handler) {
	counted := s.stats() // of the loop it left: leaveLoop counted it there
	defer counted.inflight.Add(-1)
	o := s.offLoop(fd)
	if rt := s.srv.cfg.ReadTimeout; rt > 0 {
		o.until = time.Unix(0, s.started).Add(rt)
	}

	w := &req.w
	body := newBodyStream(o, in.B[w.HeadEnd:], w.ContentLength, w.Chunked, w.Expect100, &req.limits)
	req.stream = body
	resp := s.begin(req)
	body.w = resp
	s.run(h, resp, req)
	var re *RequestError
	switch {
	case errors.As(body.err, &re) && resp.frame == framePending:
		// The body failed (too large, malformed, too slow) and nothing is
		// sent yet: the client gets that status, whatever the handler wrote.
		s.srv.refused(re.Status, re.Reason, s.remote)
		resp.replace(re.Status, strconv.Itoa(re.Status)+" "+StatusText(re.Status)+": "+re.Reason+"\n")
		resp.closeAfter(reasonBadRequest)
	case body.err != nil || !body.discard(drainAfterStream):
		resp.closeAfter(reasonIncomplete) // the rest of the body cannot be skipped cheaply
	}
	o.until = time.Time{} // the request is in: the next ones have their own timers
	resp.finish()
	s.settle(resp)
	_ = o.Flush()
	releaseResponse(resp)

	rest := bytebufferpool.Get()
	rest.B = append(rest.B[:0], body.rest()...)
	body.release()
	releaseRequest(req)
	bytebufferpool.Put(in)
	s.serveRest(o, rest)
}

// serveRest serves, on this goroutine, what the client sent after the
// request that took the connection off the loop (steps 4 and 5), then
// gives the connection back to a loop or closes it. It releases rest.
func (s *session) serveRest(o *blockingConn, rest *bytebufferpool.ByteBuffer) {
	defer func() { bytebufferpool.Put(rest) }()
	for !o.Closing() && len(rest.B) > 0 {
		n := s.traffic(rest.B)
		_ = o.Flush()
		if n > 0 {
			rest.B = rest.B[:copy(rest.B, rest.B[n:])]
			continue
		}
		if o.Closing() || !s.readMore(o, rest) {
			break
		}
	}
	s.resume(o)
}

// readMore appends what the socket has to buf; false when it has nothing
// within the timeout or failed (the connection then closes).
func (s *session) readMore(o *blockingConn, buf *bytebufferpool.ByteBuffer) bool {
	if len(buf.B) > s.srv.cfg.MaxRequestLineBytes+s.srv.cfg.MaxHeaderBytes+int(s.srv.cfg.MaxBodyBytes) {
		return false
	}
	n := len(buf.B)
	buf.B = append(buf.B, make([]byte, bodyReadBuf)...)
	m, _ := o.read(buf.B[n:])
	buf.B = buf.B[:n+m]
	return m > 0
}

// resume gives the connection back to a loop (step 5), or closes it when
// it is closing, the server drains, or no loop takes it.
func (s *session) resume(o *blockingConn) {
	if s.pending != nil {
		releaseRequest(s.pending)
		s.pending = nil
	}
	eng := s.srv.engine()
	if !o.Closing() && eng != nil && !s.srv.draining.Load() {
		_ = o.Flush()
		o.release()
		s.inlineOnly, s.phase = false, phaseIdle
		f := o.f
		if err := eng.Resume(f, s); err == nil {
			return // the loop owns the session now
		}
		if s.reason == reasonNone {
			s.reason = reasonShutdown
		}
		s.stats().connClosed(s.reason, s.served)
		return
	}
	if s.reason == reasonNone {
		s.reason = reasonShutdown
		if !s.srv.draining.Load() {
			s.reason = reasonClientClosed
		}
	}
	s.stats().connClosed(s.reason, s.served)
	o.close()
}

// resumed attaches a session back from serveStream to its new loop
// connection. Loop only.
func (s *session) resumed(c *eventloop.Conn) {
	s.mu.Lock()
	s.c = c
	s.mu.Unlock()
	c.SetDeadline(s.srv.deadline(s.srv.cfg.IdleTimeout))
}
