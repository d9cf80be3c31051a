package kahttp

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/bytebufferpool"
)

// A connection's HTTP state is a session. One piece of code serves its
// requests whatever carries the bytes (loop.go parses, exchange.go
// answers); what differs is who drives it: its owner, one at a time.

// owner is who drives a session. It is written under session.mu; the
// owner itself may read it without the lock. The transitions, each made
// by the side that lets go:
//
//	loop → worker         dispatch (loop): a pooled batch goes to the pool
//	worker → returned     runPooled (worker): the batch's responses are complete
//	returned → loop       completePooled (loop): the batch is sent
//	worker → loop         dispatch (loop): the pool was full, 503s answered
//	loop → blocking       leaveLoop (loop): a streamed body or an upgrade; Detach, a goroutine drives a dup of the socket
//	blocking → loop       resumed (loop, from Engine.Resume): nothing buffered between requests
//	worker, returned → blocking   gone (loop): a half-closed client is owed the batch; a dup of its socket (bc) for the worker, or runOrphan, to drive
//	loop → blocking       gone (loop): a half-closed client is owed requests left in the buffer
//	blocking → hijacked   Response.Hijack (the handler, on the blocking goroutine)
//	any → closed          gone (loop), end (blocking goroutine)
//
// While the loop owns a session (loop, worker, returned), lc is its
// connection; while a goroutine does, lc is nil and bc is its blocking
// connection (an orphan's bc is set by gone, before its goroutine takes
// over). c is the one of the two in use: what the exchange writes to.
type owner uint8

const (
	ownerLoop     owner = iota // the event loop (loop.go): it parses, runs inline handlers, writes
	ownerWorker                // a worker runs the pooled batch (batch.go); the loop keeps the socket, parses nothing
	ownerReturned              // the batch is done; the loop sends it on its next turn
	ownerBlocking              // a goroutine with blocking I/O (blocking.go): a listener's, detached or half-closed connection
	ownerHijacked              // a handler took the socket (upgrade.go): the session is over
	ownerClosed                // the connection is gone
)

// conn is what the exchange needs of a transport, whoever drives it: the
// loop's connection (eventloop.Conn; memConn in tests) and the blocking
// one (blockingConn) both are. Owner only.
type conn interface {
	Output() *bytebufferpool.ByteBuffer // where responses are appended
	Flush() error                       // send Output now
	Closing() bool                      // CloseAfterFlush or Abort was called, or the connection failed
	CloseAfterFlush(linger time.Duration)
	Abort()                  // close now, dropping unsent output
	SetDeadline(t time.Time) // the session's one timer: expired runs once it passes
	Loop() int               // the counters' shard (per loop, so no core writes another's)
}

// loopConn is what only an event loop's side of a connection can do
// (eventloop.Conn's methods of the same names say more). Loop only, but
// for Watch, Wake and AsyncWrite, which a pooled worker calls too.
type loopConn interface {
	conn
	Pending() int // output not yet taken by the socket
	Need(n int, extend time.Duration, until time.Time)
	Unread() int
	Watch(on bool)
	Wake()
	AsyncWrite(b []byte, done func(err error)) error
	Detach() (int, error)
	Dup() (int, error)
	Buffered() []byte
}

// phase is where a connection is between two requests; it picks the timer.
type phase uint8

const (
	phaseIdle   phase = iota // nothing buffered: IdleTimeout (HeaderTimeout for a new connection)
	phaseHead                // a request has started: HeaderTimeout from its first byte
	phaseBody                // head done, body arriving: IdleTimeout since the last bytes
	phaseBusy                // a pooled handler runs: no timer
	phasePaused              // output piles up (past MaxOutboundBytes, or a pooled handler waits to write): WriteTimeout for the client to read
	phaseDrain               // idle while the server drains: DrainGrace for a request already on its way
)

// session is the HTTP state of one connection. The fields above owner are
// its owner's (see above); those from owner on are shared with the pooled
// worker (and Shutdown): each says how (under mu, atomic).
//
// An idle connection pays for this struct: keep its fields few and packed
// (the small ones together).
type session struct {
	srv     *Server
	c       conn     // lc or bc: the transport of the owner
	lc      loopConn // the loop's connection; nil while a goroutine drives
	remote  net.Addr
	served  int      // requests answered on this connection
	pending *Request // head parsed, body still arriving
	started int64    // unix ns when the request being received began (ReadTimeout)
	// t is the pooled batch, nil when none: built here, then run by a
	// worker, then sent from here (see batch.go). An idle connection
	// holds none, so it costs no more than its few words.
	t   *task
	upg *upgradeState // an upgrade request runs on a blocking goroutine (upgrade.go): for Hijack

	phase   phase
	sent100 bool
	reason  closeReason // why the connection is closing

	// From owner on: shared by the loop, the pooled worker and a blocking
	// goroutine. owner and waiting sit in the small fields' padding.
	owner   owner       // who drives the session (above); written under mu
	waiting atomic.Bool // a worker waits on drain
	mu      sync.Mutex
	// bc is the blocking connection of the goroutine that drives the
	// session, or (set by gone, under mu) a dup of a half-closed client's
	// socket that the worker will drive once its batch is done.
	bc *blockingConn

	outbound atomic.Int64  // the loop's last look at Pending(), for the worker's backpressure
	unsent   atomic.Int64  // bytes a worker handed to AsyncWrite whose callback has not run
	drain    chan struct{} // signals a worker waiting for output to drain; guarded by mu
}

// newLoopSession starts the session of a connection a loop serves.
func newLoopSession(srv *Server, c loopConn, remote net.Addr) *session {
	s := &session{srv: srv, c: c, lc: c, remote: remote}
	// A new connection must send its first request within HeaderTimeout.
	c.SetDeadline(srv.deadline(srv.cfg.HeaderTimeout))
	return s
}

// blocking reports whether a goroutine drives the session (handlers run
// on it, bodies stream on it, upgrades may be hijacked on it). Owner only:
// lc is the owner's own field, so no lock.
func (s *session) blocking() bool { return s.lc == nil }

// setOwner hands the session over (see owner).
func (s *session) setOwner(o owner) {
	s.mu.Lock()
	s.owner = o
	s.mu.Unlock()
}

// stats is the counters' shard of the connection's loop: its own core's
// (see counters).
func (s *session) stats() *counterShard { return s.srv.stats.at(s.c.Loop()) }

// expired runs when the connection's deadline passed: the phase says which one.
func (s *session) expired() {
	switch s.phase {
	case phaseIdle:
		if s.served == 0 {
			s.closeWith(reasonHeaderTimeout)
		} else {
			s.closeWith(reasonIdleTimeout)
		}
	case phaseBody:
		if !s.bodyOnTime() {
			s.refuse(nil, StatusRequestTimeout, reasonNotInTime, reasonHeaderTimeout)
		}
	case phaseHead:
		s.refuse(nil, StatusRequestTimeout, reasonNotInTime, reasonHeaderTimeout)
	case phasePaused:
		s.abort(reasonWriteTimeout) // the client does not read its responses: drop them
	case phaseDrain:
		s.closeWith(reasonShutdown)
	}
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

// closeWith closes the connection once its output has left.
func (s *session) closeWith(r closeReason) {
	if s.reason == reasonNone {
		s.reason = r
	}
	s.c.CloseAfterFlush(s.srv.cfg.IdleTimeout)
}

// abort closes the connection now, dropping the output its client has not
// read: for a client that writes and does not read.
func (s *session) abort(r closeReason) {
	if s.reason == reasonNone {
		s.reason = r
	}
	s.c.Abort()
}

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

// cancelInflight cancels the context of the pooled request running, if any.
// Any goroutine.
func (s *session) cancelInflight() {
	s.mu.Lock()
	if s.owner == ownerWorker {
		s.t.cancel()
	}
	s.mu.Unlock()
}
