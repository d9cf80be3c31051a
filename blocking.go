package kahttp

import (
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/valyala/bytebufferpool"
)

// Life of a connection on a blocking goroutine, in order (every step on
// that goroutine but the first):
//
//  1. A goroutine takes the connection with the bytes received so far: a
//     listener's connection (listen.go: Serve, after the TLS handshake); a
//     loop connection detached for a streamed body or an upgrade
//     (leaveLoop, on the loop: its output sent, a dup of its socket, its
//     unconsumed input copied); or a half-closed client still owed answers
//     (gone, on the loop; runOrphan, once the pooled batch in flight is out).
//  2. drive: traffic parses and answers every complete request buffered,
//     with the loops' own session code; handlers run here whatever their
//     mode. A pooled route's body still arriving streams here
//     (streamHere): the handler's reads are the socket's reads, and what
//     they read past the body is carried to the next turn. An upgrade's
//     handler may hijack the socket: the goroutine lets it go.
//  3. Otherwise it reads more, the session's timer as the read deadline:
//     once it passes, the session's expired runs as on a loop (408, idle
//     close). Shutdown wakes a listener connection's reader early: an
//     idle connection closes.
//  4. A connection that came from a loop goes back to one as soon as
//     nothing is buffered between requests (resume: Engine.Resume, and the
//     loop's Open finds the session); the others are served here until
//     they close.

// blockingConn is the transport of a session driven by one goroutine with
// blocking reads and writes: the conn of the exchange, and the bodySource
// of a body streamed on it. Owned by that goroutine.
type blockingConn struct {
	sock sock
	// file is the socket when it is a dup of a loop connection's: it may
	// go back to a loop (resume). Nil for a listener's connection.
	file *os.File
	in   *bytebufferpool.ByteBuffer // received and not yet consumed by traffic
	out  *bytebufferpool.ByteBuffer

	srv      *Server
	deadline time.Time // the session's timer (SetDeadline): the driver's reads end there
	// A streamed body's reads: until ReadTimeout's bound (zero: none), and
	// at the minimum rate from bodyFrom (unix ns), bodyGot bytes so far.
	until             time.Time
	bodyFrom, bodyGot int64
	err               error  // the first write error: the connection is done
	shard             uint32 // Loop: off the loops, connections take the counters' shards in turn

	closing  bool
	hijacked bool // a handler took the socket (Response.Hijack): not ours to close
	// orphan: a half-closed client's dup, driven after its loop
	// connection closed (its close is counted already).
	orphan bool
	// redo: output the loop refused after the close, for the orphan to
	// send in order; guarded by session.mu
	redo []*bytebufferpool.ByteBuffer
	// tracked ends the server's tracking of the connection (Shutdown waits
	// for what it tracks): run once, by untrack.
	tracked func()
}

// nextShard deals the counters' shards out to blocking connections.
var nextShard atomic.Uint32

// sock is what a blocking transport needs of its socket: *os.File and
// net.Conn both are.
type sock interface {
	io.ReadWriteCloser
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
}

// newListenerConn is the transport of a connection from a listener.
func newListenerConn(srv *Server, nc net.Conn, shard uint32) *blockingConn {
	return &blockingConn{sock: nc, in: bytebufferpool.Get(), shard: shard, srv: srv}
}

// newDupConn is the transport of a loop connection's socket taken off the
// loop: fd, a dup of it, with in, the input the loop had not consumed.
func newDupConn(srv *Server, fd int, in []byte) *blockingConn {
	// The dup shares the non-blocking flag, so os.NewFile puts it on Go's poller.
	f := os.NewFile(uintptr(fd), "kahttp-conn")
	o := &blockingConn{sock: f, file: f, in: bytebufferpool.Get(), shard: nextShard.Add(1), srv: srv}
	o.in.B = append(o.in.B[:0], in...)
	return o
}

// newBlockingSession starts the session of a connection a goroutine serves
// from its first byte (a listener's).
func newBlockingSession(srv *Server, o *blockingConn, remote net.Addr) *session {
	s := &session{srv: srv, c: o, bc: o, remote: remote, owner: ownerBlocking}
	o.SetDeadline(srv.deadline(srv.cfg.HeaderTimeout))
	return s
}

// drive serves the session on the calling goroutine: steps 2 to 4 of the
// life of a blocking connection. It returns once the connection is closed,
// hijacked, or back on a loop.
func (s *session) drive(o *blockingConn) {
	for {
		n, t := s.traffic(o.in.B)
		o.consume(n)
		_ = o.Flush()
		if t == turnLeft || o.Closing() {
			break
		}
		if n > 0 && len(o.in.B) > 0 {
			continue // what a streamed body read past its end: parse it first
		}
		if o.file != nil && !o.orphan && len(o.in.B) == 0 && s.resume(o) {
			return // the loop owns the session now
		}
		if !s.readMore(o) {
			break
		}
	}
	s.end(o)
}

// readMore reads what the client sends next into o.in; false when the
// connection is done (the client closed, or a timer closed it).
func (s *session) readMore(o *blockingConn) bool {
	for {
		_ = o.sock.SetReadDeadline(o.deadline)
		// Shutdown sets draining, then wakes the readers of listener
		// connections: checked after the deadline is set, one of the two
		// sees the other, and an idle connection gets its DrainGrace.
		if s.srv.draining.Load() && len(o.in.B) == 0 && s.pending == nil && s.phase != phaseDrain {
			s.idle()
			_ = o.sock.SetReadDeadline(o.deadline)
		}
		err := o.fill()
		if err == nil {
			return true
		}
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			return false // the client closed, or the connection failed
		}
		if time.Now().Before(o.deadline) {
			continue // woken early (by Shutdown, mid-request): wait on
		}
		s.expired()
		_ = o.Flush()
		if o.Closing() {
			return false
		}
	}
}

// resume gives a connection that came from a loop back to one (step 4).
// False: no loop takes it (the server drains or stopped); it closes here.
func (s *session) resume(o *blockingConn) bool {
	eng := s.srv.engine()
	if eng == nil || s.srv.draining.Load() {
		if s.reason == reasonNone {
			s.reason = reasonShutdown
		}
		return false
	}
	if s.pending != nil {
		releaseRequest(s.pending)
		s.pending = nil
	}
	o.release()
	s.phase = phaseIdle
	counted := s.stats()
	if err := eng.Resume(o.file, s); err != nil { // closes o.file
		if s.reason == reasonNone {
			s.reason = reasonShutdown
		}
		counted.connClosed(s.reason, s.served)
	}
	return true // either way, nothing is left to close here
}

// end closes the connection the goroutine drove, and counts why (an
// orphan's close was counted when its loop connection closed).
func (s *session) end(o *blockingConn) {
	if s.pending != nil {
		releaseRequest(s.pending)
		s.pending = nil
	}
	reason := s.reason
	switch {
	case o.hijacked:
		reason = reasonHijacked // the handler's now: not ours to close, nor Shutdown's
	case reason == reasonNone && s.srv.draining.Load():
		reason = reasonShutdown
	case reason == reasonNone:
		reason = reasonClientClosed
	}
	if !o.orphan {
		s.stats().connClosed(reason, s.served)
	}
	if o.hijacked {
		o.release() // the socket is the handler's (the owner is hijacked)
		return
	}
	s.setOwner(ownerClosed)
	o.close()
}

// leaveLoop detaches the connection from its loop for a goroutine that
// drives it from here (step 1): its output sent first, a dup of its
// socket, and buf (the unconsumed input) copied for that goroutine. False
// when it cannot leave now: a batch runs, or output waits for the client.
// Loop only.
func (s *session) leaveLoop(buf []byte) bool {
	if s.t != nil || s.lc.Flush() != nil || s.lc.Pending() > 0 {
		return false
	}
	fd, err := s.lc.Detach()
	if err != nil {
		return false
	}
	o := newDupConn(s.srv, fd, buf)
	counted := s.stats() // of the loop it leaves: Shutdown waits for the goroutine
	counted.inflight.Add(1)
	s.mu.Lock()
	s.c, s.lc, s.bc, s.owner = o, nil, o, ownerBlocking
	s.mu.Unlock()
	o.tracked = func() { counted.inflight.Add(-1) }
	go func() {
		defer o.untrack()
		s.drive(o)
	}()
	return true
}

// untrack ends the server's tracking of the connection, once: when its
// goroutine lets it go, or when a handler hijacks it (a hijacked
// connection is the handler's: Shutdown does not wait for it, as net/http
// does not).
func (o *blockingConn) untrack() {
	if f := o.tracked; f != nil {
		o.tracked = nil
		f()
	}
}

// consume drops the n bytes traffic consumed from the input.
func (o *blockingConn) consume(n int) {
	o.in.B = o.in.B[:copy(o.in.B, o.in.B[n:])]
}

// carry keeps what a body stream read past its body (the next requests)
// for the driver's next turn. The streamed request took all of the input
// traffic was given, so they follow it: traffic consumes it all.
func (o *blockingConn) carry(b []byte) { o.in.B = append(o.in.B, b...) }

// fill reads more of the client's bytes into in (the caller set the
// read deadline).
func (o *blockingConn) fill() error {
	if cap(o.in.B)-len(o.in.B) < 4<<10 {
		o.in.B = append(o.in.B, make([]byte, 16<<10)...)[:len(o.in.B)]
	}
	m, err := o.sock.Read(o.in.B[len(o.in.B):cap(o.in.B)])
	o.in.B = o.in.B[:len(o.in.B)+m]
	if m > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// read reads a streamed body from the socket: it waits at most IdleTimeout
// for bytes, never past until (ReadTimeout), nor past the time the body
// is due at the minimum rate (Server.bodyDue). A bodySource.
func (o *blockingConn) read(p []byte) (int, error) {
	d := earliest(time.Now().Add(o.srv.cfg.IdleTimeout), o.until, o.srv.bodyDue(o.bodyFrom, o.bodyGot))
	_ = o.sock.SetReadDeadline(d)
	n, err := o.sock.Read(p)
	o.bodyGot += int64(n)
	return n, err
}

// write writes b, waiting at most the write timeout for the client. A
// bodySource (100 Continue).
func (o *blockingConn) write(b []byte) error {
	if o.hijacked {
		return ErrHijacked // the socket is the handler's: nothing of ours goes out
	}
	if o.err == nil && len(b) > 0 {
		_ = o.sock.SetWriteDeadline(time.Now().Add(o.srv.cfg.WriteTimeout))
		_, o.err = o.sock.Write(b)
	}
	return o.err
}

func (o *blockingConn) Output() *bytebufferpool.ByteBuffer {
	if o.out == nil {
		o.out = bytebufferpool.Get()
	}
	return o.out
}

func (o *blockingConn) Flush() error {
	if o.out == nil {
		return o.err
	}
	err := o.write(o.out.B)
	o.out.Reset()
	return err
}

func (o *blockingConn) CloseAfterFlush(time.Duration) { o.closing = true }
func (o *blockingConn) Abort()                        { o.closing = true }
func (o *blockingConn) Closing() bool                 { return o.closing || o.err != nil }
func (o *blockingConn) SetDeadline(t time.Time)       { o.deadline = t }
func (o *blockingConn) Loop() int                     { return int(o.shard) }

// release lets go of the buffers, leaving the socket open (it goes back
// to a loop, or to a hijacker).
func (o *blockingConn) release() {
	for _, b := range [...]*bytebufferpool.ByteBuffer{o.out, o.in} {
		if b != nil {
			bytebufferpool.Put(b)
		}
	}
	o.out, o.in = nil, nil
}

// close sends what is left and closes the socket.
func (o *blockingConn) close() {
	_ = o.Flush()
	o.release()
	_ = o.sock.Close()
}
