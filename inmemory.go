package kahttp

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/bytebufferpool"
)

// memConn is an in-memory transport: the HTTP layer without gnet or sockets
// (as net/http's tests use a fake net.Conn). Bytes "sent" accumulate in sent.
// The package's tests and benchmarks drive it directly (memconn_test.go);
// MemConn below is the same for other packages' tests (kahttptest).
type memConn struct {
	out      *bytebufferpool.ByteBuffer
	sent     []byte
	closing  bool
	deadline time.Time
	watched  atomic.Bool // the worker may call Watch, as on eventloop.Conn
	discard  bool        // benchmarks: drop what is sent
	// quietAsync: AsyncWrite does not wake the loop, so the next Traffic
	// may run before the queued writes (as a wake-up queued earlier does)
	quietAsync bool

	mu    sync.Mutex
	async []func() // AsyncWrite callbacks, run by drive as the loop would
	woken chan struct{}
}

func newMemConn() *memConn { return &memConn{woken: make(chan struct{}, 1)} }

func (c *memConn) Output() *bytebufferpool.ByteBuffer {
	if c.out == nil {
		c.out = bytebufferpool.Get()
	}
	return c.out
}

func (c *memConn) Flush() error {
	if c.out != nil {
		if !c.discard {
			c.sent = append(c.sent, c.out.B...)
		}
		c.out.Reset()
	}
	return nil
}

func (c *memConn) Pending() int {
	if c.out == nil {
		return 0
	}
	return len(c.out.B)
}

func (c *memConn) CloseAfterFlush(time.Duration)      { c.closing = true }
func (c *memConn) Closing() bool                      { return c.closing }
func (c *memConn) Abort()                             { c.closing = true }
func (c *memConn) Need(int, time.Duration, time.Time) {}
func (c *memConn) Unread() int                        { return 0 }
func (c *memConn) SetDeadline(t time.Time)            { c.deadline = t }
func (c *memConn) Watch(on bool)                      { c.watched.Store(on) }
func (c *memConn) Dup() (int, error)                  { return -1, errors.New("memConn: no socket") }
func (c *memConn) Detach() (int, error)               { return -1, errors.New("memConn: no socket") }
func (c *memConn) Buffered() []byte                   { return nil }
func (c *memConn) Loop() int                          { return 0 }

func (c *memConn) Wake() {
	select {
	case c.woken <- struct{}{}:
	default:
	}
}

func (c *memConn) AsyncWrite(b []byte, done func(error)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.async = append(c.async, func() {
		c.sent = append(c.sent, b...)
		if done != nil {
			done(nil)
		}
	})
	if !c.quietAsync {
		c.Wake()
	}
	return nil
}

// afterTraffic is what the loop does after Traffic: run the queued
// writes, send the output.
func (c *memConn) afterTraffic() {
	c.mu.Lock()
	tasks := c.async
	c.async = nil
	c.mu.Unlock()
	for _, f := range tasks {
		f()
	}
	if c.out != nil {
		if !c.discard {
			c.sent = append(c.sent, c.out.B...)
		}
		// Kept, as an event loop keeps its batch buffer (eventloop's
		// loop.out). Given back to the shared pool after every batch, a
		// 16-response batch's buffer was dropped by the pool's calibration
		// once smaller ones had dominated it (a pooled benchmark run
		// before), and allocated again on every batch.
		c.out.Reset()
	}
}

// ErrHandlerTimeout is returned by MemConn.Write when a pooled handler did
// not finish within the connection's timeout.
var ErrHandlerTimeout = errors.New("kahttp: in-memory connection: handler did not finish in time")

// MemConn is one client connection served in memory by the server's own
// session code: the same parser, router resolution, keep-alive policy,
// framing and worker pool as a connection on the event loop, minus the
// socket and gnet. It is for tests (package kahttptest is built on it):
// what the client sends goes in with Write, what the server sends comes
// out of TakeOutput. Not safe for concurrent use.
type MemConn struct {
	s       *session
	c       *memConn
	in      []byte // sent by the client, not yet consumed by the server
	timeout time.Duration
	gone    bool
}

// ServeInMemory opens an in-memory connection to srv, as if from remote
// (127.0.0.1:1234 when nil). srv need not be started; handlers run where
// their Mode says (pooled ones on srv's worker pool).
func (srv *Server) ServeInMemory(remote net.Addr) *MemConn {
	if remote == nil {
		remote = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1234}
	}
	c := newMemConn()
	return &MemConn{s: newLoopSession(srv, c, remote), c: c, timeout: 10 * time.Second}
}

// SetTimeout bounds how long Write waits for pooled handlers (10 s).
func (m *MemConn) SetTimeout(d time.Duration) { m.timeout = d }

// Write is the client sending p: the server reads it as one read, answers
// every complete request in what it has buffered, in order, waiting for
// pooled handlers as the event loop would, and keeps the rest (an
// incomplete request) for the next Write. p is copied: with
// Config.PoisonViews the server overwrites the bytes it consumed. After the
// server closed the connection, Write returns io.ErrClosedPipe. After
// ErrHandlerTimeout the handler still runs: Write(nil) waits for it again.
func (m *MemConn) Write(p []byte) (int, error) {
	if m.gone || m.c.closing {
		return 0, io.ErrClosedPipe
	}
	m.in = append(m.in, p...)
	timer := time.NewTimer(m.timeout)
	defer timer.Stop()
	for {
		n, _ := m.s.traffic(m.in)
		m.in = m.in[:copy(m.in, m.in[n:])]
		m.c.afterTraffic()
		if m.c.closing {
			m.closed()
			return len(p), nil
		}
		if m.s.t == nil {
			return len(p), nil
		}
		select {
		case <-m.c.woken: // a pooled batch is done, or its output drained
		case <-timer.C:
			return len(p), ErrHandlerTimeout
		}
	}
}

// TakeOutput returns the bytes the server has sent since the last call.
func (m *MemConn) TakeOutput() []byte {
	out := m.c.sent
	m.c.sent = nil
	return out
}

// Closed reports whether the server has closed the connection (after
// sending what it wrote): its last response said Connection: close, or it
// refused a request.
func (m *MemConn) Closed() bool { return m.c.closing }

// Expire is the connection's timer firing now: an idle connection closes,
// one with a request half received gets 408.
func (m *MemConn) Expire() {
	m.s.expired()
	m.c.afterTraffic()
	if m.c.closing {
		m.closed()
	}
}

// closed is the engine's Closed after the server closed the connection.
func (m *MemConn) closed() {
	if !m.gone {
		m.gone = true
		m.s.gone(nil)
	}
}

// Close is the client closing the connection: a pooled handler still
// running has its context cancelled. Safe to call more than once.
func (m *MemConn) Close() error {
	if !m.gone {
		m.gone = true
		m.s.gone(io.EOF)
		m.c.afterTraffic()
	}
	return nil
}

// Server is the server the connection belongs to (its Stats, its Config).
func (m *MemConn) Server() *Server { return m.s.srv }
