// Package eventloop runs connections on gnet/v2 event loops and knows nothing
// of HTTP: it hands the bytes buffered on a connection to a Handler, writes
// what the Handler produced in one go, keeps each connection's timer, and
// closes a connection only once its output has left. It accepts connections
// itself and hands them to the loops, so that running out of file
// descriptors pauses accepting instead of stopping the server (accept.go).
package eventloop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
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

// ErrDetached is the error Handler.Closed gets for a connection that left
// the loop through Conn.Detach: its socket is still open, in other hands.
var ErrDetached = errors.New("eventloop: connection detached")

var errDetachPending = errors.New("eventloop: cannot detach with output pending")

// resumed marks a connection given back with Resume: Open finds its
// Session already set.
type resumed struct{ session any }

// Options configure an Engine.
type Options struct {
	Loops     int           // event loops; 0 means one per CPU
	ReusePort bool          // SO_REUSEPORT on the listener, so several processes can share the port
	Sweep     time.Duration // how often deadlines are checked; 0 means 500 ms
	Fast      time.Duration // how often watched connections are woken; 0 means 5 ms
	OnTick    func(now time.Time)
	Logger    *slog.Logger
	// Listener, if set, is served instead of listening on Start's addr; it
	// must accept *net.TCPConn. The engine closes it.
	Listener net.Listener
}

// Engine is a running set of event loops serving one listening address.
//
// The accept loop is the engine's own (see acceptor), not gnet's: gnet runs
// as a client (gnet.NewClient), loops with no listener, and each accepted
// connection is enrolled into the loop with the fewest connections.
type Engine struct {
	h    Handler
	ev   *events // gnet's callbacks: loop.runWakes calls OnTraffic
	opts Options
	cli  *gnet.Client
	acc  *acceptor
	addr net.Addr

	accepting chan struct{} // closed when the accept loop has returned
	haltOnce  sync.Once
	done      chan struct{} // closed by halt once the loops are gone
	err       error         // written by halt before done closes

	watchMu   sync.Mutex
	watching  map[*Conn]struct{}
	lastSweep time.Time // ticker goroutine only
	behind    bool      // ticker goroutine only: a loop's expiring list is not empty; the next tick is expireEvery later

	loopsMu sync.Mutex                  // serializes adding to loops
	loops   atomic.Pointer[[]loopEntry] // each loop's own state (loop.go); copied on write
}

// Start listens on addr ("host:port") and serves it until Stop. It returns
// once the listener is bound and the loops run, or with the error that
// prevented it.
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
	ln := opts.Listener
	if ln == nil {
		var err error
		if ln, err = listen(addr, opts.ReusePort); err != nil {
			return nil, err
		}
	}
	e := &Engine{h: h, opts: opts, addr: ln.Addr(), accepting: make(chan struct{}),
		done: make(chan struct{}), watching: map[*Conn]struct{}{}}
	e.ev = &events{e: e}
	cli, err := gnet.NewClient(e.ev,
		gnet.WithMulticore(true),
		gnet.WithNumEventLoop(opts.Loops),
		// Go's Accept already set TCP_NODELAY on the socket that the loop's
		// dup shares; TCPDelay only spares gnet setting it again.
		gnet.WithTCPNoDelay(gnet.TCPDelay),
		gnet.WithTicker(true),
		gnet.WithLogger(logAdapter{opts.Logger}),
	)
	if err == nil {
		err = cli.Start()
	}
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("eventloop: start the loops: %w", err)
	}
	e.cli = cli
	e.acc = newAcceptor(ln, e.enroll, opts.Logger)
	go func() {
		err := e.acc.run()
		close(e.accepting)
		if err != nil {
			opts.Logger.Error("eventloop: the listener failed, stopping the server", "err", err)
			e.halt(err)
		}
	}()
	return e, nil
}

// enroll hands an accepted connection to the loop with the fewest
// connections, and returns once its Open has run. gnet serves a dup of c's
// socket and closes c, so for a moment a connection costs two descriptors.
func (e *Engine) enroll(c net.Conn) error {
	_, err := e.cli.EnrollContext(c, nil)
	return err
}

// Resume gives a connection that left through Conn.Detach back to a loop:
// f is its socket (Resume closes it; the loop serves a dup), session its
// Session, which Handler.Open finds already set. Nothing may be buffered
// on the caller's side: the loop starts from what the socket holds.
func (e *Engine) Resume(f *os.File, session any) error {
	defer f.Close()
	nc, err := net.FileConn(f)
	if err != nil {
		return err
	}
	_, err = e.cli.EnrollContext(nc, &resumed{session}) // closes nc
	return err
}

// Addr is the bound address (the real port when addr asked for port 0).
func (e *Engine) Addr() net.Addr { return e.addr }

// Done is closed when the engine has stopped.
func (e *Engine) Done() <-chan struct{} { return e.done }

// Err is why the engine stopped, nil after Stop: an engine that stops on
// its own (its listener failed for good) always says why. Valid after Done.
func (e *Engine) Err() error { return e.err }

// Open is the number of open connections.
func (e *Engine) Open() int64 {
	var n int64
	e.eachLoop(func(l *loop) { n += l.open.Load() })
	return n
}

// AcceptErrors is the number of failed accepts (out of descriptors, say),
// each of which paused accepting for a backoff.
func (e *Engine) AcceptErrors() int64 { return e.acc.failed.Load() }

// Dropped is the number of connections accepted and then closed unserved
// because they could not be handed to a loop (no descriptor for the dup).
func (e *Engine) Dropped() int64 { return e.acc.dropped.Load() }

// StopAccepting closes the listener, so new connections are refused, and
// returns once no connection is being opened any more: after it, Open is
// not called again. The connections queued in the listener when it is
// called (established by the kernel) are accepted and opened first, on
// Linux: a close would reset them. Not from a Handler callback (it may
// wait on the loop).
func (e *Engine) StopAccepting() {
	e.acc.close()
	<-e.accepting
}

// Stop stops accepting, closes every connection, and waits for the loops to
// exit or ctx to end. Drain first (see the HTTP server's Shutdown).
func (e *Engine) Stop(ctx context.Context) error {
	go e.halt(nil)
	select {
	case <-e.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// halt stops the engine once: accepting first, then the loops, which
// close their connections (Closed runs for each) as they exit.
func (e *Engine) halt(err error) {
	e.haltOnce.Do(func() {
		e.StopAccepting()
		if stopErr := e.cli.Stop(); stopErr != nil {
			e.opts.Logger.Debug("eventloop: stopping the loops", "err", stopErr)
		}
		e.err = err
		close(e.done)
	})
}

// Each calls fn for every open connection, from the caller's goroutine: fn
// may use only the methods of Conn that are safe off the loop.
func (e *Engine) Each(fn func(c *Conn)) {
	e.eachLoop(func(l *loop) {
		l.mu.Lock()
		for c := range l.conns {
			fn(c)
		}
		l.mu.Unlock()
	})
}

// track adds c to its loop's set of open connections, or takes it out.
// On c's loop.
func (e *Engine) track(c *Conn, on bool) {
	l := e.loopState(c.loop)
	l.mu.Lock()
	if on {
		l.open.Add(1)
		l.conns[c] = struct{}{}
	} else {
		l.open.Add(-1)
		delete(l.conns, c)
	}
	l.mu.Unlock()
}

// watch changes c's flag and the map in one step, under watchMu.
func (e *Engine) watch(c *Conn, on bool) {
	e.watchMu.Lock()
	if on && !c.unwatchable {
		c.watched.Store(true)
		e.watching[c] = struct{}{}
	} else if !on {
		c.watched.Store(false)
		delete(e.watching, c)
	}
	e.watchMu.Unlock()
}

// unwatch takes c out of the map for good: it is gone.
func (e *Engine) unwatch(c *Conn) {
	e.watchMu.Lock()
	c.unwatchable = true
	c.watched.Store(false)
	delete(e.watching, c)
	e.watchMu.Unlock()
}

// A sweep's expired connections are acted on a few a loop each tick, the
// rest waiting for the next tick, expireEvery later. Connections opened
// together expire together (2,000 slowloris connections, 408 each, in one
// sweep), and each answer and close holds the loop up: how many are acted
// on at once is what the loop's other clients wait for. Beside 2,000
// slowloris connections (bench -faults -scenario slowloris), the probes'
// p99 from the first 408 on was 8.9 ms on a new connection and 4.0 ms on a
// kept-alive one at 64 every 5 ms, 3.3 and 1.6 ms at 8 every millisecond
// (medians of six rounds; 0.5–1 ms while the connections were only held).
// At 8, the median round's p99 beside them over the p99 alone met the
// 1.5× goal in 2 runs of 8 (inline and pooled, four runs each), where
// net/http with the same header timeout met it in 3 of 3; at 2, in 5 of 8
// (inline 1.07–1.46× new connection, 1.04–1.91× kept-alive; pooled
// 0.50–1.65× and 0.47–2.13×), the 2,000 answered over 1.5 s instead of
// 0.6: better, not reliably.
//
// A fixed number a tick would let an attacker who opens connections faster
// than it expires them (2,000 a second a loop at 2) pile up expired ones,
// so the quota grows with the list: a sweep's list is acted on within
// expireWaveTicks ticks (1–1.5 s) whatever its length, at least
// minExpiriesPerTick a tick (expiryQuota).
//
// Each expiry costs about 0.1 ms in all, much of it Go's scheduler's: at
// GOMAXPROCS 1 sysmon takes the P of a loop idle in epoll_wait, and every
// wake-up after that costs thread switches and puts sysmon back to polling
// every 20 µs. The same build on a runtime whose sysmon never slept under
// 1 ms used 30–45% less CPU over the wave (perf stat, two runs each);
// nothing the loop sets changes that.
const (
	minExpiriesPerTick = 2
	expireWaveTicks    = 1000
	expireEvery        = time.Millisecond
)

// expiryQuota is how many of a sweep's n expired connections a tick acts
// on in one loop.
func expiryQuota(n int) int {
	return max(minExpiriesPerTick, (n+expireWaveTicks-1)/expireWaveTicks)
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

	t := now.UnixNano()
	if !e.behind && now.Sub(e.lastSweep) >= e.opts.Sweep {
		e.lastSweep = now
		e.eachLoop(func(l *loop) {
			l.mu.Lock()
			for c := range l.conns {
				if d := c.deadline.Load(); d != 0 && d <= t {
					l.expiring = append(l.expiring, c)
				}
			}
			l.mu.Unlock()
			l.quota = expiryQuota(len(l.expiring))
		})
	}
	// The connections a sweep found are acted on quota a loop a tick,
	// without looking at all the others again. One whose deadline
	// moved or was cleared since (its request went on, it closed) is left
	// alone: the swap claims only a deadline that has passed.
	behind := false
	e.eachLoop(func(l *loop) {
		for woken := 0; len(l.expiring) > 0 && woken < l.quota; {
			c := l.expiring[0]
			l.expiring[0] = nil
			l.expiring = l.expiring[1:]
			if d := c.deadline.Load(); d != 0 && d <= t && c.deadline.CompareAndSwap(d, 0) {
				c.expired.Store(true)
				c.Wake()
				woken++
			}
		}
		if len(l.expiring) > 0 {
			behind = true
		} else {
			l.expiring = nil // a storm's list is not kept
		}
	})
	e.behind = behind
	if e.behind {
		return min(e.opts.Fast, expireEvery)
	}
	if busy {
		return e.opts.Fast
	}
	return max(time.Millisecond, time.Until(e.lastSweep.Add(e.opts.Sweep)))
}

// events adapts gnet's callbacks to the Handler.
type events struct {
	gnet.BuiltinEventEngine
	e *Engine
}

func (ev *events) OnOpen(gc gnet.Conn) ([]byte, gnet.Action) {
	c := &Conn{gc: gc, eng: ev.e, fd: int32(gc.Fd()), loop: ev.e.loopIndex(gc.EventLoop())}
	if r, ok := gc.Context().(*resumed); ok {
		c.Session = r.session // back from Detach: Open finds its session
	}
	gc.SetContext(c)
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
	ev.e.track(c, false)
	ev.e.unwatch(c)
	if c.detached {
		err = ErrDetached // the socket lives on in the Handler's dup
	}
	// c.out, if any, belongs to the batch in progress: settle releases it.
	ev.e.h.Closed(c, err)
	return gnet.None
}

func (ev *events) OnTraffic(gc gnet.Conn) gnet.Action {
	c := gc.Context().(*Conn)
	ev.e.busy(ev.e.loopState(c.loop))
	if c.expired.Swap(false) {
		if c.closing {
			return gnet.Close // the peer did not take the last response within the linger time
		}
		ev.e.h.Expired(c)
	}
	if !c.closing && c.need > 0 && gc.InboundBuffered() < c.need {
		// Not enough for the Handler yet: no Peek, which would copy all
		// the input held so far on every read (quadratic in a body's size).
		d := time.Now().Add(time.Duration(c.needMs) * time.Millisecond)
		if c.needUntil != 0 && c.needUntil < d.UnixNano() {
			d = time.Unix(0, c.needUntil)
		}
		c.SetDeadline(d)
		return ev.settle(c)
	}
	c.need = 0
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
		c.releaseOutput()
		return gnet.Close
	}
	var err error
	if out := c.out; out != nil {
		if len(out.B) > 0 && !c.gone {
			if c.closing && c.gc.OutboundBuffered() == 0 {
				err = c.writeLast(out.B) // lastwrite_linux.go: the FIN goes with them
			} else {
				_, err = c.gc.Write(out.B) // copies what the socket does not take; on error gnet closes c
			}
		}
		c.releaseOutput()
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

// logAdapter sends gnet's logs to slog.
type logAdapter struct{ l *slog.Logger }

func (a logAdapter) Debugf(f string, args ...any) { a.l.Debug(fmt.Sprintf(f, args...), "src", "gnet") }
func (a logAdapter) Infof(f string, args ...any)  { a.l.Debug(fmt.Sprintf(f, args...), "src", "gnet") }
func (a logAdapter) Warnf(f string, args ...any)  { a.l.Warn(fmt.Sprintf(f, args...), "src", "gnet") }
func (a logAdapter) Errorf(f string, args ...any) { a.l.Error(fmt.Sprintf(f, args...), "src", "gnet") }
func (a logAdapter) Fatalf(f string, args ...any) { a.l.Error(fmt.Sprintf(f, args...), "src", "gnet") }
