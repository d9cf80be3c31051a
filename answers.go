package kahttp

import (
	"runtime/debug"
	"strconv"
)

// The answers the server gives on the application's behalf — a request it
// refuses (400, 413, 414, 431, 501…), one too slow (408), a full worker pool
// (503), a handler that panicked (500), the router's 404 and 405, and a
// handler's own Response.WriteError — all leave through errorAnswer, so
// an application that shapes its errors (JSON, CORS headers) has one place
// to do it: an ErrorWriter.

// ErrorWriter writes an answer the server gives on the application's
// behalf. e.Status is the status to send; e.Reason says why, fit for the
// client ("" after a panic: the details are for the logs). Nothing of the
// body is written yet, and w keeps the header fields that middleware (or
// the handler, before it failed) set, but for those that describe a body
// (CORS and a request id stay; Content-Type, Content-Length and
// Content-Encoding go). Write the answer in the application's shape, its
// status included; an ErrorWriter that writes nothing leaves the server's
// plain-text answer, and one that panics is logged and does the same.
//
// It runs where the answer is given, the event loop included (inline
// routes, requests refused before a handler ran, 503 from a full pool):
// it must not block, and must be safe for concurrent use.
//
// Set one for the server (Config.ErrorWriter), or for a router group
// (Group.SetErrorWriter): a group's answers for its routes and for the
// paths it owns, those the server gives once a request is routed included
// (413 past the route's limit, 503 from a full pool, 500 after a panic),
// through the group's middleware. A request refused before its head could
// be trusted gets the server's.
type ErrorWriter func(w *Response, r *Request, e *RequestError)

// errorWriter is the ErrorWriter in effect for w's request.
func (w *Response) errorWriter() ErrorWriter {
	if w.req.errw != nil {
		return w.req.errw
	}
	return w.srv.cfg.ErrorWriter
}

// errorAnswer writes e through the ErrorWriter in effect, or with plain
// when there is none (or it wrote nothing, or panicked).
func (w *Response) errorAnswer(e *RequestError, plain func()) {
	if ew := w.errorWriter(); ew != nil && !w.inErrorWriter && w.runErrorWriter(ew, e) {
		return
	}
	plain()
}

// runErrorWriter calls ew; true when it wrote the answer.
func (w *Response) runErrorWriter(ew ErrorWriter, e *RequestError) (wrote bool) {
	w.inErrorWriter = true // its own WriteError writes text: no loop
	defer func() {
		w.inErrorWriter = false
		if v := recover(); v != nil {
			w.srv.cfg.Logger.Error("kahttp: ErrorWriter panic", "panic", v, "request", w.req.String(),
				"stack", string(debug.Stack()))
			wrote = false
			if w.frame == framePending {
				w.clearBody()
			}
		}
	}()
	ew(w, w.req, e)
	return w.status != 0 || w.written > 0 || w.frame != framePending
}

// serverAnswer replaces what w holds (nothing is sent yet) with the
// server's own answer: status and reason, in the application's shape
// (errorAnswer), by default as "413 Content Too Large: reason" text.
// Config.OnRefusal hears of it.
func (w *Response) serverAnswer(status int, reason string) {
	w.srv.refused(status, reason, w.req)
	w.clearBody()
	w.errorAnswer(&RequestError{Status: status, Reason: reason}, func() {
		w.plainAnswer(status, strconv.Itoa(status)+" "+StatusText(status)+": "+reason+"\n")
	})
}

// recovered turns the response of a panicking handler into a 500 when
// nothing was sent yet; otherwise the response is cut off and the
// connection closed, so the client cannot take it for a whole one.
func (w *Response) recovered() {
	w.keepAlive, w.reason = false, reasonHandlerPanic
	if w.frame != framePending {
		w.aborted = true
		return
	}
	w.srv.refused(StatusInternalServerError, "handler panic", w.req)
	w.clearBody()
	w.errorAnswer(&RequestError{Status: StatusInternalServerError}, func() {
		w.plainAnswer(StatusInternalServerError, "500 Internal Server Error\n")
	})
}

// plainAnswer is the server's plain-text answer.
func (w *Response) plainAnswer(status int, text string) {
	w.header.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.WriteString(text)
}

// bodyFields are the header fields that describe a body: an answer that
// replaces the body drops them.
var bodyFields = [...]string{"Content-Type", "Content-Length", "Content-Encoding", "Content-Range",
	"Content-Disposition", "Content-Language", "ETag", "Last-Modified", "Transfer-Encoding"}

// clearBody drops what the handler wrote (only while nothing is sent) and
// the header fields that described it, keeping the others (CORS, a request
// id): the server's answer goes out instead.
func (w *Response) clearBody() {
	w.filter = nil // the answer goes out as it is
	for _, k := range bodyFields {
		w.header.Del(k)
	}
	w.hold = w.hold[:0]
	w.written, w.declared, w.err, w.status = 0, -1, nil, 0
}

// answerRequestError answers r.answer, the server's answer to a routed
// request whose handler does not run (413 past the route's limit before
// the body, 503 from a full pool): the router runs it in the middleware
// of the group that owns the path (errorChain).
func answerRequestError(w *Response, r *Request) {
	e := r.answer
	w.serverAnswer(e.Status, e.Reason)
	if e.Status == StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
}
