package kahttp

import (
	"net"
	"runtime/debug"
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
}

// refused tells Config.OnRefusal, if set. A panic in the hook is logged,
// not let loose on the event loop.
func (s *Server) refused(status int, reason string, remote net.Addr) {
	f := s.cfg.OnRefusal
	if f == nil {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			s.cfg.Logger.Error("kahttp: OnRefusal panic", "panic", v, "stack", string(debug.Stack()))
		}
	}()
	f(Refusal{Status: status, Reason: reason, Remote: remote})
}
