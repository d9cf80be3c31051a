// Package eventloop runs connections on gnet/v2 event loops and knows nothing
// of HTTP: it hands the bytes buffered on a connection to a Handler, writes
// what the Handler produced in one go, keeps each connection's timer, and
// closes a connection only once its output has left.
package eventloop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/bytebufferpool"
	"golang.org/x/sys/unix"
)

// Handler is the protocol on top of the loop. Every method runs on the
// connection's loop goroutine and must not block.
type Handler interface {
	// Open sets up a new connection; false refuses it (it is closed).
	Open(c *Conn) bool
	// Traffic gets every byte buffered on c and not yet consumed (in may be
	// empty after a Wake) and returns how many it consumed. in is valid only
	// during the call. Output appended to c.Output() is written afterwards.
	Traffic(c *Conn, in []byte) int
	// Expired runs when the deadline set with SetDeadline has passed.
	Expired(c *Conn)
	// Closed runs once when c is gone; err is nil when this side closed it.
	Closed(c *Conn, err error)
}

// Options configure an Engine.
type Options struct {
	Loops     int           // event loops; 0 means one per CPU
	ReusePort bool          // SO_REUSEPORT (needs a fixed port with more than one loop)
	Sweep     time.Duration // how often deadlines are checked; 0 means 500 ms
	Fast      time.Duration // how often watched connections are woken; 0 means 5 ms
	OnTick    func(now time.Time)
	Logger    *slog.Logger
}

// Engine is a running set of event loops serving one listening address.
type Engine struct {
	h     Handler
	opts  Options
	eng   gnet.Engine
	addr  net.Addr
	done  chan struct{}
	err   error
	conns [shards]shard

	watchMu   sync.Mutex
	watching  map[*Conn]struct{}
	lastSweep time.Time
	open      atomic.Int64
}

const shards = 32

type shard struct {
	mu sync.Mutex
	m  map[*Conn]struct{}
}

// Start listens on addr ("host:port") and serves it until Stop. It returns
// once the listener is bound, or with the error that prevented it.
func Start(addr string, h Handler, opts Options) (*Engine, error) {
	if opts.Sweep <= 0 {
		opts.Sweep = 500 * time.Millisecond
	}
	if opts.Fast <= 0 {
		opts.Fast = 5 * time.Millisecond
	}
	if opts.Loops <= 0 {
		opts.Loops = runtime.NumCPU()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	e := &Engine{h: h, opts: opts, done: make(chan struct{}), watching: map[*Conn]struct{}{}}
	for i := range e.conns {
		e.conns[i].m = map[*Conn]struct{}{}
	}
	booted := make(chan struct{})
	eh := &events{e: e, booted: booted}
	go func() {
		defer close(e.done)
		e.err = gnet.Run(eh, "tcp://"+addr,
			gnet.WithMulticore(true),
			gnet.WithNumEventLoop(opts.Loops),
			gnet.WithReuseAddr(true),
			gnet.WithReusePort(opts.ReusePort),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay),
			gnet.WithTicker(true),
			gnet.WithLogger(logAdapter{opts.Logger}),
		)
	}()
	select {
	case <-booted:
		return e, nil
	case <-e.done:
		if e.err == nil {
			e.err = errors.New("eventloop: engine stopped before it started")
		}
		return nil, fmt.Errorf("listen on %s: %w", addr, e.err)
	}
}

// Addr is the bound address (the real port when addr asked for port 0).
func (e *Engine) Addr() net.Addr { return e.addr }

// Done is closed when the engine has stopped.
func (e *Engine) Done() <-chan struct{} { return e.done }

// Err is why the engine stopped (nil after Stop). Valid after Done.
func (e *Engine) Err() error { return e.err }

// Open is the number of open connections.
func (e *Engine) Open() int64 { return e.open.Load() }

// Stop closes every connection and the listener, and waits for the loops to
// exit or ctx to end. Drain first (see the HTTP server's Shutdown).
func (e *Engine) Stop(ctx context.Context) error {
	// gnet's Stop starts the shutdown at once but polls for its end every
	// 500 ms; Done says it sooner, and cancelling stops the polling.
	pollCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- e.eng.Stop(pollCtx) }()
	select {
	case <-e.done:
		return nil
	case err := <-errc:
		if err != nil && ctx.Err() == nil {
			return err // e.g. already stopped
		}
		select {
		case <-e.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Each calls fn for every open connection, from the caller's goroutine: fn
// may use only the methods of Conn that are safe off the loop.
func (e *Engine) Each(fn func(c *Conn)) {
	for i := range e.conns {
		s := &e.conns[i]
		s.mu.Lock()
		for c := range s.m {
			fn(c)
		}
		s.mu.Unlock()
	}
}

func (e *Engine) track(c *Conn, on bool) {
	s := &e.conns[uint(c.fd)%shards]
	s.mu.Lock()
	if on {
		s.m[c] = struct{}{}
	} else {
		delete(s.m, c)
	}
	s.mu.Unlock()
}

func (e *Engine) watch(c *Conn, on bool) {
	e.watchMu.Lock()
	if on {
		e.watching[c] = struct{}{}
	} else {
		delete(e.watching, c)
	}
	e.watchMu.Unlock()
}

// tick runs on gnet's ticker goroutine: wake the watched connections, and
// every Sweep, those whose deadline has passed.
func (e *Engine) tick() time.Duration {
	now := time.Now()
	if e.opts.OnTick != nil {
		e.opts.OnTick(now)
	}
	e.watchMu.Lock()
	for c := range e.watching {
		c.Wake()
	}
	busy := len(e.watching) > 0
	e.watchMu.Unlock()

	if now.Sub(e.lastSweep) >= e.opts.Sweep {
		e.lastSweep = now
		t := now.UnixNano()
		e.Each(func(c *Conn) {
			if d := c.deadline.Load(); d != 0 && d <= t && c.deadline.CompareAndSwap(d, 0) {
				c.expired.Store(true)
				c.Wake()
			}
		})
	}
	if busy {
		return e.opts.Fast
	}
	return max(time.Millisecond, time.Until(e.lastSweep.Add(e.opts.Sweep)))
}

// events adapts gnet's callbacks to the Handler.
type events struct {
	gnet.BuiltinEventEngine
	e      *Engine
	booted chan struct{}
}

func (ev *events) OnBoot(eng gnet.Engine) gnet.Action {
	ev.e.eng = eng
	if fd, err := eng.Dup(); err == nil {
		if sa, err := unix.Getsockname(fd); err == nil {
			ev.e.addr = sockaddrToTCP(sa)
		}
		_ = unix.Close(fd)
	}
	close(ev.booted)
	return gnet.None
}

func (ev *events) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	c := &Conn{gc: gc, eng: ev.e, fd: gc.Fd()}
	gc.SetContext(c)
	ev.e.open.Add(1)
	ok := ev.e.h.Open(c) // before track: Each may read c.Session from other goroutines
	ev.e.track(c, true)
	if !ok {
		return nil, gnet.Close
	}
	return nil, gnet.None
}

func (ev *events) OnClose(gc gnet.Conn, err error) gnet.Action {
	c, _ := gc.Context().(*Conn)
	if c == nil {
		return gnet.None
	}
	c.gone = true
	ev.e.open.Add(-1)
	ev.e.track(c, false)
	if c.watched.Load() {
		ev.e.watch(c, false)
	}
	// c.out, if any, belongs to the batch in progress: settle releases it.
	ev.e.h.Closed(c, err)
	return gnet.None
}

func (ev *events) OnTraffic(gc gnet.Conn) gnet.Action {
	c := gc.Context().(*Conn)
	if c.expired.Swap(false) {
		if c.closing {
			return gnet.Close // the peer did not take the last response within the linger time
		}
		ev.e.h.Expired(c)
	}
	if !c.closing {
		in, _ := gc.Peek(-1)
		if n := ev.e.h.Traffic(c, in); n > 0 && !c.gone {
			_, _ = gc.Discard(n)
		}
	}
	if c.closing && !c.gone {
		_, _ = gc.Discard(-1) // input after the last answered request is not read
	}
	return ev.settle(c)
}

// settle writes the batch and closes the connection if it is closing and
// its output has left; if output is still queued it is watched until then.
func (ev *events) settle(c *Conn) gnet.Action {
	if c.aborted && !c.gone {
		if c.out != nil {
			bytebufferpool.Put(c.out)
			c.out = nil
		}
		return gnet.Close
	}
	var err error
	if out := c.out; out != nil {
		if len(out.B) > 0 && !c.gone {
			_, err = c.gc.Write(out.B) // copies what the socket does not take; on error gnet closes c
		}
		// Put with its length: bytebufferpool sizes its buffers from what it is given back.
		bytebufferpool.Put(out)
		c.out = nil
	}
	if err != nil || c.gone {
		return gnet.None // gnet closed it inside Write; OnClose has run
	}
	if c.closing {
		if c.gc.OutboundBuffered() == 0 {
			return gnet.Close
		}
		c.Watch(true)
	}
	return gnet.None
}

func (ev *events) OnTick() (time.Duration, gnet.Action) {
	return ev.e.tick(), gnet.None
}

func sockaddrToTCP(sa unix.Sockaddr) net.Addr {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]).To16(), Port: a.Port}
	case *unix.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
	}
	return nil
}

// logAdapter sends gnet's logs to slog.
type logAdapter struct{ l *slog.Logger }

func (a logAdapter) Debugf(f string, args ...any) { a.l.Debug(fmt.Sprintf(f, args...), "src", "gnet") }
func (a logAdapter) Infof(f string, args ...any)  { a.l.Debug(fmt.Sprintf(f, args...), "src", "gnet") }
func (a logAdapter) Warnf(f string, args ...any)  { a.l.Warn(fmt.Sprintf(f, args...), "src", "gnet") }
func (a logAdapter) Errorf(f string, args ...any) { a.l.Error(fmt.Sprintf(f, args...), "src", "gnet") }
func (a logAdapter) Fatalf(f string, args ...any) { a.l.Error(fmt.Sprintf(f, args...), "src", "gnet") }
