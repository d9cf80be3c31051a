package kahttp

import (
	"net"
	"runtime/debug"
	"strings"
)

// Refusal is an answer the server sent on its own (see Config.OnRefusal).
type Refusal struct {
	// Status is the status sent: 400, 408, 413, 431, 500, 503…
	Status int
	// Reason says why ("missing Host header", "request not received in
	// time", "server busy": as in the response's body; "handler panic",
	// which the body does not tell).
	Reason string
	// Remote is the client's address.
	Remote net.Addr
	// Method and Target are the request's, copies ("" for a request
	// refused before its request line could be trusted).
	Method, Target string
}

// refused tells Config.OnRefusal, if set, of the answer to r. A panic in
// the hook is logged, not let loose on the event loop.
func (s *Server) refused(status int, reason string, r *Request) {
	f := s.cfg.OnRefusal
	if f == nil {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			s.cfg.Logger.Error("kahttp: OnRefusal panic", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	f(Refusal{Status: status, Reason: reason, Remote: r.remote,
		Method: strings.Clone(r.Method()), Target: strings.Clone(r.Target())})
}
