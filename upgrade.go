package kahttp

import (
	"bytes"
	"errors"
	"net"
	"time"
)

// A request with Connection: upgrade (WebSocket) to a pooled route runs on
// a blocking goroutine that owns the socket (blocking.go: a loop detaches
// the connection to one, a listener's connection has one already), so its
// handler can take the socket over (Response.Hijack) for the new protocol.
// A handler that does not hijack answers as usual, and the connection goes
// on as after any request.

var (
	// ErrNotHijackable is Hijack's error for a request the server did not
	// run off the event loop: only a pooled handler of a request with
	// Connection: upgrade can take its connection over.
	ErrNotHijackable = errors.New("kahttp: Hijack needs a pooled route and a request with Connection: upgrade")
	// ErrHijacked is the error of a Response after Hijack.
	ErrHijacked = errors.New("kahttp: connection hijacked")
)

// upgradeState is a session's while its upgrade request runs on a
// blocking goroutine: what Hijack needs. Owned by that goroutine.
type upgradeState struct {
	rest     []byte // received after the request: the new protocol's first bytes
	hijacked bool
}

// answerUpgrade answers an upgrade request on a blocking goroutine, where
// its handler may hijack the connection; rest is what the client sent
// after the request. True: hijacked.
func (s *session) answerUpgrade(it item, rest []byte) bool {
	s.upg = &upgradeState{rest: rest}
	hijacked := s.answer(it)
	s.upg = nil
	return hijacked
}

// Hijack takes the connection over from the server, for a protocol of the
// handler's own after an Upgrade (WebSocket): it returns the socket and
// the bytes the client sent after the request (the new protocol's first
// ones: read them before the socket). Write the 101 Switching Protocols
// yourself on the socket, or with WriteHeader(101) before Hijack (its
// head goes out first, with the Connection and Upgrade fields as set).
//
// Only a pooled handler of a request with Connection: upgrade can hijack
// (ErrNotHijackable otherwise): the server runs it on a goroutine of its
// own, off the event loop. From Hijack on the connection is the
// handler's: no timer, no Stats as an open connection (it is counted
// closed as "hijacked"), and Shutdown neither waits for it nor closes it,
// as net/http does: end it when Request.ShuttingDown (or ShuttingDown of
// its context, or a Server.RegisterOnShutdown hook) says so. Serve it
// from any goroutine, and close it. What was
// written to w and not flushed is dropped, and w fails with ErrHijacked.
func (w *Response) Hijack() (net.Conn, []byte, error) {
	s, ok := w.sink.(*session)
	if !ok || s.upg == nil {
		return nil, nil, ErrNotHijackable
	}
	up := s.upg
	if up.hijacked {
		return nil, nil, ErrHijacked
	}
	if w.frame == framePending && w.status != 0 {
		w.frameNow(false) // a status set (the 101): its head goes out first
	}
	if w.status == 0 {
		w.status = StatusSwitchingProtocols // the handler writes its 101 on the socket: what OnFinish reports
	}
	if w.frame != framePending {
		if err := w.push(); err != nil {
			return nil, nil, err
		}
	}
	o := s.bc
	_ = o.Flush()
	var nc net.Conn
	if o.file == nil { // a listener's connection (listen.go): it is the socket
		nc = o.sock.(net.Conn)
	} else {
		var err error
		if nc, err = net.FileConn(o.file); err != nil { // a dup: the server's own fd closes below
			return nil, nil, err
		}
		_ = o.file.Close()
	}
	_ = nc.SetDeadline(time.Time{}) // the server's timers are not the handler's
	o.closing = true
	up.hijacked, o.hijacked = true, true
	s.setOwner(ownerHijacked)
	o.untrack() // the handler's now: Shutdown does not wait for it
	w.err = ErrHijacked
	w.keepAlive, w.reason = false, reasonHijacked
	return nc, bytes.Clone(up.rest), nil
}
