package kahttp

import (
	"bytes"
	"errors"
	"net"

	"github.com/valyala/bytebufferpool"
)

// A request with Connection: upgrade (WebSocket) to a pooled route is run
// off the event loop, as a streamed body is (stream.go): the loop detaches
// the connection, and the handler runs on a goroutine that owns the socket,
// so it can take it over (Response.Hijack) for the new protocol. A handler
// that does not hijack answers as usual, and the connection goes back to a
// loop afterwards.

var (
	// ErrNotHijackable is Hijack's error for a request the server did not
	// run off the event loop: only a pooled handler of a request with
	// Connection: upgrade can take its connection over.
	ErrNotHijackable = errors.New("kahttp: Hijack needs a pooled route and a request with Connection: upgrade")
	// ErrHijacked is the error of a Response after Hijack.
	ErrHijacked = errors.New("kahttp: connection hijacked")
)

// upgrade hands req (raw: its n bytes at the start of buf, the rest what
// followed it) to a goroutine that owns the connection, if its route is
// pooled and nothing is pending on the loop's side. False: serve it as any
// request (Hijack will refuse).
func (s *session) upgrade(req *Request, buf []byte, n int) bool {
	if s.t != nil || s.inlineOnly {
		return false
	}
	req.bind(buf[:n])
	req.remote, req.srv = s.remote, s.srv
	h, mode := s.srv.route(req)
	fd, in, ok := -1, (*bytebufferpool.ByteBuffer)(nil), false
	if mode == Pooled {
		fd, in, ok = s.leaveLoop(req, buf, n)
	}
	if !ok {
		req.unbind()
		return false
	}
	go s.serveUpgrade(fd, in, n, req, h)
	return true
}

// upgradeState is a session's while its upgrade request runs: what
// Hijack needs. Owned by that goroutine.
type upgradeState struct {
	o        *blockingConn
	rest     []byte // received after the request: the new protocol's first bytes
	hijacked bool
}

// serveUpgrade runs an upgrade request's handler on the goroutine that
// owns the connection; unless the handler hijacks it, the connection goes
// on as after a streamed request.
func (s *session) serveUpgrade(fd int, in *bytebufferpool.ByteBuffer, n int, req *Request, h Handler) {
	counted := s.stats() // of the loop it left: leaveLoop counted it there
	defer counted.inflight.Add(-1)
	o := s.offLoop(fd)
	up := &upgradeState{o: o, rest: in.B[n:]}
	s.upg = up
	resp := s.begin(req)
	s.run(h, resp, req)
	s.upg = nil
	if up.hijacked {
		releaseResponse(resp) // what it held and did not flush is dropped
		releaseRequest(req)
		bytebufferpool.Put(in)
		s.stats().connClosed(reasonHijacked, s.served)
		return
	}
	resp.finish()
	s.settle(resp)
	_ = o.Flush()
	releaseResponse(resp)
	releaseRequest(req)
	rest := bytebufferpool.Get()
	rest.B = append(rest.B[:0], in.B[n:]...)
	bytebufferpool.Put(in)
	s.serveRest(o, rest)
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
// closed as "hijacked"), and Shutdown leaves it to the handler, as
// net/http does; serve it from any goroutine, and close it. What was
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
	if w.frame != framePending {
		if err := w.push(); err != nil {
			return nil, nil, err
		}
	}
	_ = up.o.Flush()
	var nc net.Conn
	if up.o.f == nil { // a listener's connection (serve.go): it is the socket
		nc = up.o.s.(net.Conn)
		up.o.closing = true
	} else {
		var err error
		if nc, err = net.FileConn(up.o.f); err != nil { // a dup: the server's own fd closes below
			return nil, nil, err
		}
		_ = up.o.f.Close()
	}
	up.o.release()
	up.hijacked, up.o.hijacked = true, true
	w.err = ErrHijacked
	w.keepAlive, w.reason = false, reasonHijacked
	return nc, bytes.Clone(up.rest), nil
}
