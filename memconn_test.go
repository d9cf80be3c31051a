package kahttp

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/bytebufferpool"
)

// memConn is an in-memory transport: the HTTP layer without gnet or sockets
// (as net/http's tests use a fake net.Conn). Bytes "sent" accumulate in sent.
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

func (c *memConn) SetOutput(b *bytebufferpool.ByteBuffer) {
	_ = c.Flush()
	if c.out != nil {
		bytebufferpool.Put(c.out)
	}
	c.out = b
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

func (c *memConn) CloseAfterFlush(time.Duration) { c.closing = true }
func (c *memConn) Closing() bool                 { return c.closing }
func (c *memConn) Abort()                        { c.closing = true }
func (c *memConn) Need(int, time.Duration)       {}
func (c *memConn) Unread() int                   { return 0 }
func (c *memConn) SetDeadline(t time.Time)       { c.deadline = t }
func (c *memConn) Watch(on bool)                 { c.watched.Store(on) }
func (c *memConn) Dup() (int, error)             { return -1, errors.New("memConn: no socket") }
func (c *memConn) Buffered() []byte              { return nil }

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

// settle is what the loop does after Traffic: run queued writes, send the batch.
func (c *memConn) settle() {
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
		bytebufferpool.Put(c.out) // with its length, as the event loop does
		c.out = nil
	}
}

// memServer is a session on a memConn, driven as the event loop would drive it.
type memServer struct {
	s *session
	c *memConn
}

func newMemServer(h Handler, cfg Config) *memServer {
	srv := NewServer(h, cfg)
	c := newMemConn()
	return &memServer{s: newSession(srv, c, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1234}), c: c}
}

// feed hands in to the session and returns the unconsumed rest. For pooled
// handlers it waits (bounded) for each to finish, as the loop would be woken.
func (m *memServer) feed(t testing.TB, in []byte) []byte {
	deadline := time.After(5 * time.Second)
	for {
		n := m.s.traffic(in)
		in = in[n:]
		m.c.settle()
		if m.s.t == nil || m.c.closing {
			return in
		}
		select {
		case <-m.c.woken:
		case <-deadline:
			t.Fatal("pooled handler did not finish")
		}
	}
}
