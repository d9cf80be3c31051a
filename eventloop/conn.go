package eventloop

import (
	"net"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/bytebufferpool"
)

// Conn is one connection's state in the loop. It costs a few words: no
// goroutine and no buffer while idle (Output is borrowed for one batch).
//
// Concurrency: methods marked "loop only" may be called only from the
// Handler callbacks (which run on the connection's loop); the others from
// any goroutine.
//
// An idle connection pays for this struct: keep it packed.
type Conn struct {
	gc  gnet.Conn
	eng *Engine
	out *bytebufferpool.ByteBuffer

	need      int   // loop only: Traffic waits for this many buffered bytes (see Need)
	needUntil int64 // loop only: reads move the deadline, never past this, unix ns (0: no cap)

	deadline atomic.Int64 // unix nanoseconds; 0 = none
	expired  atomic.Bool
	needMs   int32 // loop only: how far (ms) each read moves the deadline while waiting
	// watched: written only under eng.watchMu, together with the engine's
	// watching map (so the two never disagree); read without it as a fast
	// path. unwatchable: under eng.watchMu: the connection is gone and may
	// not enter the map again (a worker's late Watch(true) would leak it).
	watched     atomic.Bool
	unwatchable bool
	loop        uint16 // the index of the connection's loop (loop.go)

	fd   int32
	gone bool // loop only: gnet has closed the conn
	// closing: loop only: close once the output has left. gnet's Close
	// drops unsent output, so a Connection: close response must be flushed first.
	closing bool
	aborted bool // loop only: close at the end of the batch, dropping unsent output
	// detached: loop only: the socket lives on in a dup the Handler took
	// (Detach); closing this connection only leaves the loop.
	detached bool

	// Session is the protocol's per-connection state.
	Session any
}

// Output is the batch buffer: everything appended to it during Traffic is
// written with one Write when Traffic returns. It is the loop's own
// buffer, lent for this callback. Loop only.
func (c *Conn) Output() *bytebufferpool.ByteBuffer {
	if c.out == nil {
		c.out = &c.eng.loopState(c.loop).out
	}
	return c.out
}

// releaseOutput ends the loan of the loop's buffer: it is reset, and let
// go when a large batch grew it. Loop only.
func (c *Conn) releaseOutput() {
	if out := c.out; out != nil {
		c.out = nil
		if cap(out.B) > maxLoopOutput {
			out.B = nil
		}
		out.B = out.B[:0]
	}
}

// Loop is the index of the connection's event loop, from 0 to the number
// of loops less one: state kept per loop is touched by one goroutine only.
func (c *Conn) Loop() int { return int(c.loop) }

// Flush writes Output now instead of at the end of the batch. Loop only.
func (c *Conn) Flush() error {
	if c.out == nil || len(c.out.B) == 0 || c.gone {
		return nil
	}
	out := c.out
	_, err := c.gc.Write(out.B) // copies what the socket does not take; on error gnet closes c
	out.Reset()
	return err
}

// Pending is the output not yet taken by the socket: the batch so far plus
// gnet's outbound buffer. Loop only.
func (c *Conn) Pending() int {
	n := c.Outbound()
	if c.out != nil {
		n += len(c.out.B)
	}
	return n
}

// CloseAfterFlush closes the connection once everything written so far has
// reached the socket; further input is discarded. If the peer has not taken
// it all within linger, the connection is closed anyway. Loop only.
func (c *Conn) CloseAfterFlush(linger time.Duration) {
	if !c.closing {
		c.closing = true
		c.SetDeadline(time.Now().Add(linger))
	}
}

// Abort closes the connection when the batch returns, dropping whatever
// output the peer has not taken: for a peer that writes and does not read.
// Further input is discarded. Loop only.
func (c *Conn) Abort() {
	c.closing, c.aborted = true, true
}

// Need tells the loop that Traffic can consume nothing until n bytes are
// buffered (say, a request whose body has that many bytes left to
// arrive): read events before that do not call Traffic, and each moves the
// deadline extend ahead (never past until, unless until is zero), so a
// body that keeps arriving is not timed out. It lasts until the next
// Traffic call. Loop only.
func (c *Conn) Need(n int, extend time.Duration, until time.Time) {
	c.need, c.needMs, c.needUntil = n, int32(min(extend.Milliseconds(), 1<<31-1)), 0
	if !until.IsZero() {
		c.needUntil = until.UnixNano()
	}
}

// Unread is the number of bytes received by the socket and not yet read
// by the loop (FIONREAD): a connection with none buffered may still have
// a request on its way in. Loop only.
func (c *Conn) Unread() int {
	if c.gone {
		return 0
	}
	return unreadBytes(int(c.fd))
}

// Closing reports whether CloseAfterFlush or Abort was called. Loop only.
func (c *Conn) Closing() bool { return c.closing }

// Outbound is the number of bytes written but not yet taken by the socket. Loop only.
func (c *Conn) Outbound() int {
	if c.gone {
		return 0
	}
	return c.gc.OutboundBuffered()
}

// SetDeadline arms (or with the zero time disarms) the connection's single
// timer: once t has passed, the Handler's Expired runs on the loop.
func (c *Conn) SetDeadline(t time.Time) {
	if t.IsZero() {
		c.deadline.Store(0)
		return
	}
	c.deadline.Store(t.UnixNano())
}

// Watch asks for a Traffic call on every fast tick while on: the way to
// notice that the outbound buffer drained, since gnet has no event for it.
// Any goroutine: the loop and a pooled worker both call it.
func (c *Conn) Watch(on bool) {
	if c.watched.Load() != on {
		c.eng.watch(c, on)
	}
}

// Wake schedules a Traffic call on the loop, with no new bytes. Any
// goroutine. The wake-ups of a loop are batched (loop.wake).
func (c *Conn) Wake() { c.eng.loopState(c.loop).wake(c) }

// AsyncWrite queues b for writing on the loop; done (if not nil) runs on the
// loop once b is written or copied into the outbound buffer, or has failed.
func (c *Conn) AsyncWrite(b []byte, done func(err error)) error {
	var cb gnet.AsyncCallback
	if done != nil {
		cb = func(_ gnet.Conn, err error) error { done(err); return nil }
	}
	return c.gc.AsyncWrite(b, cb)
}

// Close closes the connection at once, dropping unsent output.
func (c *Conn) Close() { _ = c.gc.Close() }

// Detach hands the connection over to the caller: it returns a dup of the
// socket, and the loop lets the connection go when the batch returns,
// without touching the socket itself. Closed then runs with ErrDetached.
// Only with no output pending (Pending is 0): what gnet still holds would
// be lost. The caller serves the dup and may give it back with
// Engine.Resume. Loop only.
func (c *Conn) Detach() (int, error) {
	if c.gone || c.Pending() > 0 {
		return -1, errDetachPending
	}
	fd, err := c.gc.Dup()
	if err != nil {
		return -1, err
	}
	c.closing, c.aborted, c.detached = true, true, true
	return fd, nil
}

// Dup duplicates the socket: a way to finish a response on a connection
// whose reading half the peer closed (gnet closes it on EOF). Loop only.
func (c *Conn) Dup() (int, error) { return c.gc.Dup() }

// Buffered is the input received and not yet consumed, valid until the
// callback returns (in Closed: what the peer sent before it closed). Loop only.
func (c *Conn) Buffered() []byte {
	b, _ := c.gc.Peek(-1)
	return b
}

// RemoteAddr is the peer's address. Loop only (gnet clears it on close).
func (c *Conn) RemoteAddr() net.Addr { return c.gc.RemoteAddr() }

// LocalAddr is the address the connection was accepted on. Loop only.
func (c *Conn) LocalAddr() net.Addr { return c.gc.LocalAddr() }
