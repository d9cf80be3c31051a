package eventloop

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The accept loop's backoff, as net/http's Serve: 5 ms doubling to 1 s.
const (
	minBackoff = 5 * time.Millisecond
	maxBackoff = time.Second
)

// acceptor takes connections from the engine's listener and hands each to
// an event loop. gnet's own acceptor shuts the whole engine down at the
// first accept error it does not expect, EMFILE included (acceptor_unix.go
// in v2.10.0). This one backs off instead, so running out of descriptors
// pauses accepting while the open connections keep being served.
type acceptor struct {
	ln  net.Listener
	log *slog.Logger
	// enroll hands c to a loop and returns once the loop has opened it; c
	// itself is closed either way (the loop serves a dup of it).
	enroll func(c net.Conn) error

	closeOnce sync.Once
	lnOnce    sync.Once     // closeListener's
	closed    atomic.Bool   // set by close before the listener closes: the accept error that follows is the end, not a failure
	stop      chan struct{} // closed by close: cuts a backoff short
	// queued is how many connections were in the listener's accept queue
	// when close began, for run to take before it closes the listener
	// (takeQueued); set by close before closed.
	queued atomic.Int32

	failed  atomic.Int64 // accepts that failed and paused accepting
	dropped atomic.Int64 // connections accepted, then closed unserved: the hand-off failed

	// What a busy loop needs to let the accept loop run (assist).
	// lnfd is the listener's descriptor, -1 where it has none to poll.
	// stage is where the accept loop is: in Accept (waiting in Go's
	// network poller), handing a connection over, or elsewhere (backing
	// off, stopped). took gets a token each time Accept returns a
	// connection. assisting admits one loop at a time.
	lnfd      int
	raw       syscall.RawConn // the listener's, nil where it has none
	stage     atomic.Int32
	took      chan struct{}
	assisting atomic.Bool

	// spare is a descriptor held in reserve and let go for the moment of
	// each hand-off, so that gnet's dup of the accepted socket finds a free
	// slot: out of descriptors, accept fails and the connection waits in the
	// backlog, rather than the dup failing and the connection being dropped.
	// It is re-made from src, a descriptor of /dev/null. -1 when missing.
	// It is kept only once the process has run out of descriptors
	// (guarded): swapping it costs two system calls per connection, a
	// seventh of a short-lived connection's, so a process that never runs
	// out pays nothing, and one that does loses at most the connections
	// being handed over that first time (maxHandOvers). Accept loop only.
	spare, src int
	guarded    atomic.Bool // set by the accept loop or a hand-over; read by the accept loop

	// Hand-overs run on goroutines of their own, at most maxHandOvers at a
	// time: gnet opens an enrolled connection between two batches of its
	// loop's events, and a batch of a busy loop lasts milliseconds, so
	// handing a burst over one at a time took one batch per connection.
	// One hander stays for the acceptor's life (started by newAcceptor,
	// so it is there before the first connection), taking connections on
	// conns: a connection costs no goroutine start and no stack growth.
	// When it is busy, the accept loop starts a helper for the connection,
	// which also takes those waiting on conns and ends when there are none
	// (helpers counts them). inflight counts the hand-overs under way, for
	// assist. run closes conns and waits for all of them (handing).
	conns    chan net.Conn
	helpers  atomic.Int32
	inflight atomic.Int32
	handing  sync.WaitGroup
}

// maxHandOvers bounds the hand-overs in flight: the connections a burst
// gets opened in one batch of a loop, and those one exhaustion of
// descriptors may drop (their dups fail) before a spare is kept.
const maxHandOvers = 16

func newAcceptor(ln net.Listener, enroll func(net.Conn) error, log *slog.Logger) *acceptor {
	a := &acceptor{ln: ln, enroll: enroll, log: log, stop: make(chan struct{}), spare: -1, src: -1,
		lnfd: -1, took: make(chan struct{}, 1), conns: make(chan net.Conn)}
	if sc, ok := ln.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			a.raw = rc
			_ = rc.Control(func(fd uintptr) { a.lnfd = int(fd) })
		}
	}
	a.handing.Add(1)
	go a.hander() // until run returns
	return a
}

// run accepts until close (then it returns nil) or until the listener fails
// for good (then it returns why). It returns once every hand-over has
// ended. Hand-overs run concurrently (handOver), until the process first runs
// out of descriptors; from then on one at a time, on this goroutine, each
// with the spare descriptor let go for it.
func (a *acceptor) run() error {
	if fd, err := openSpareSource(); err == nil {
		a.src = fd
	}
	defer func() {
		a.closeListener() // close may have left it open for takeQueued
		close(a.conns)
		a.handing.Wait()
		for _, fd := range [...]int{a.spare, a.src} {
			if fd >= 0 {
				closeSpare(fd)
			}
		}
	}()
	var delay time.Duration // the current backoff; 0 while accepting normally
	for {
		a.stage.Store(inAccept)
		c, err := a.ln.Accept()
		a.stage.Store(elsewhere) // on every path but a connection: assist must not wait through a backoff
		switch {
		case err == nil:
			a.stage.Store(handing)
			select {
			case a.took <- struct{}{}: // for a loop waiting in assist
			default:
			}
			if !a.guarded.Load() {
				a.handOver(c)
				delay = 0
				continue
			}
			if a.spare >= 0 {
				closeSpare(a.spare)
				a.spare = -1
			}
			err = a.enroll(c)
			a.stage.Store(elsewhere)
			if outOfDescriptors(err) {
				a.guarded.Store(true) // from now on, a spare for the dup
			}
			a.reserve()
			if err == nil {
				delay = 0
				continue
			}
			// The dup gnet makes of the socket failed (EMFILE: the first
			// time, or something else took the spare's slot), or the loops
			// are gone.
			a.dropped.Add(1)
		case a.closed.Load():
			a.takeQueued()
			return nil
		case !Temporary(err):
			return fmt.Errorf("eventloop: accept: %w", err)
		default:
			a.failed.Add(1)
			if outOfDescriptors(err) && !a.guarded.Load() {
				a.guarded.Store(true)
				a.reserve()
			}
		}
		if delay == 0 {
			delay = minBackoff
			a.log.Warn("eventloop: cannot accept connections, pausing accepts (up to 1s at a time) until it works again",
				"err", err, "listener", a.ln.Addr().String())
		} else {
			delay = min(2*delay, maxBackoff)
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-a.stop:
			t.Stop()
			return nil
		}
	}
}

// The accept loop's stages (acceptor.stage).
const (
	elsewhere int32 = iota
	inAccept
	handing
)

// assistWait bounds how long a loop waits in assist for the accept loop
// to take the connection its poll saw.
const assistWait = 2 * time.Millisecond

// assist is called by a busy event loop, every so often (Engine.busy),
// and lets the accept loop take a waiting connection. It reports whether
// the accept loop is in the middle of taking connections: the loop then
// calls again at its next callback, so that a burst of new connections is
// taken one after another, not one per period.
//
// Why: the accept loop waits in Go's network poller, which the scheduler
// looks at only when it has nothing else to run, or from sysmon every
// 10 ms; and once woken it needs a P. An event loop never parks while it
// has traffic: its epoll_wait is a system call that returns at once. So
// when every P runs a busy loop (GOMAXPROCS 1, or as many loops as Ps, the
// default), a new connection waited 10–20 ms for its accept under
// keep-alive load.
//
// In Accept: assist polls the listener (one system call, no wait). When a
// connection is waiting, the event loop blocks on took: its P is free, the
// scheduler finds nothing else to run, polls the network and runs the
// accept loop, which takes the connection and gives the token before it
// hands the connection over (the hand-over may need this very loop). The
// wait is bounded in case the connection vanishes from the queue, and one
// loop at a time waits.
//
// Hand-overs under way (the hander's and helpers', or the accept loop's
// own once it keeps a spare): each is runnable (the loop that opened its
// connection woke it) or soon will be, and only a yield gives it this P.
func (a *acceptor) assist() (busy bool) {
	if a.lnfd < 0 {
		return false
	}
	if a.inflight.Load() > 0 {
		runtime.Gosched() // hand-overs runnable, waiting for a P
		return true
	}
	switch a.stage.Load() {
	case handing:
		runtime.Gosched()
		return true
	case inAccept:
	default:
		return false
	}
	if !a.assisting.CompareAndSwap(false, true) {
		return false
	}
	defer a.assisting.Store(false)
	select {
	case <-a.took: // a token no loop waited for
	default:
	}
	if a.stage.Load() != inAccept || !readable(a.lnfd) {
		return false
	}
	t := time.NewTimer(assistWait)
	defer t.Stop()
	select {
	case <-a.took:
		return true
	case <-t.C:
	case <-a.stop:
	}
	return false
}

// handOver gives c to the hander or an idle helper, or to a new helper
// if they are busy and fewer than maxHandOvers run; at the cap it waits
// for one. Accept loop only.
func (a *acceptor) handOver(c net.Conn) {
	a.inflight.Add(1)
	select {
	case a.conns <- c:
		return
	default:
	}
	if a.helpers.Load() < maxHandOvers-1 {
		a.helpers.Add(1)
		a.handing.Add(1)
		go a.helper(c)
		return
	}
	a.conns <- c
}

// hander hands the connections on conns over, until run closes it.
func (a *acceptor) hander() {
	defer a.handing.Done()
	for c := range a.conns {
		a.handTo(c)
	}
}

// helper hands c over, then those waiting on conns, and ends when none is.
func (a *acceptor) helper(c net.Conn) {
	defer a.handing.Done()
	defer a.helpers.Add(-1)
	for ok := true; ok; {
		a.handTo(c)
		select {
		case c, ok = <-a.conns:
		default:
			return
		}
	}
}

// handTo hands c to a loop. A failure drops c; an EMFILE or ENFILE makes
// the accept loop keep a spare descriptor from then on, and hand over one
// at a time itself.
func (a *acceptor) handTo(c net.Conn) {
	err := a.enroll(c)
	a.inflight.Add(-1)
	if err == nil {
		return
	}
	a.dropped.Add(1)
	if outOfDescriptors(err) {
		a.guarded.Store(true)
	}
	if !a.closed.Load() {
		a.log.Warn("eventloop: a connection could not be handed to a loop; it was closed", "err", err)
	}
}

// reserve re-makes the spare descriptor if it is missing. If the slot was
// taken meanwhile, it tries again after the next hand-off.
func (a *acceptor) reserve() {
	if a.spare < 0 && a.src >= 0 {
		if fd, err := dupSpare(a.src); err == nil {
			a.spare = fd
		}
	}
}

// outOfDescriptors reports whether err is the process's or the system's
// descriptor limit.
func outOfDescriptors(err error) bool {
	var errno syscall.Errno
	return errors.As(err, &errno) && (errno == syscall.EMFILE || errno == syscall.ENFILE)
}

// close stops run: the listener closes, so new connections are refused.
// Connections already in its accept queue were established by the kernel,
// and their clients may have sent requests: closing the listener would
// reset them. So when some are queued (Linux can tell), close only wakes
// run's Accept with a past deadline, and run takes them (takeQueued),
// then closes the listener.
func (a *acceptor) close() {
	a.closeOnce.Do(func() {
		d, ok := a.ln.(deadliner)
		n := 0
		if ok {
			n = a.queuedNow()
		}
		a.queued.Store(int32(n))
		a.closed.Store(true)
		close(a.stop)
		if n > 0 && d.SetDeadline(time.Now()) == nil {
			return // run takes them, then closes the listener
		}
		a.closeListener()
	})
}

// queuedNow is the length of the listener's accept queue, read through its
// RawConn: a closed listener reads 0.
func (a *acceptor) queuedNow() int {
	if a.raw == nil {
		return 0
	}
	return acceptQueue(a.raw)
}

// closeListener closes the listener once: from close, or when run ends.
func (a *acceptor) closeListener() { a.lnOnce.Do(func() { _ = a.ln.Close() }) }

// deadliner is a listener whose Accept can be given a deadline (TCP, unix).
type deadliner interface{ SetDeadline(time.Time) error }

// queuedWait bounds how long takeQueued waits for a connection counted in
// the queue that is no longer there (its client gave up).
const queuedWait = 200 * time.Millisecond

// takeQueued accepts and hands over the connections counted in the accept
// queue when close began, before run closes the listener. Those that
// complete their handshake after are refused by the close, as any new
// connection. Out of descriptors (guarded), they are left to the close:
// accepting them would fail anyway. The queue is read again before each
// Accept: run may have taken one of them before its Accept woke, and
// waiting queuedWait for it would delay the drain. Accept loop only.
func (a *acceptor) takeQueued() {
	n := a.queued.Load()
	d, ok := a.ln.(deadliner)
	if n <= 0 || !ok || a.guarded.Load() || d.SetDeadline(time.Now().Add(queuedWait)) != nil {
		return
	}
	for ; n > 0 && a.queuedNow() > 0; n-- {
		c, err := a.ln.Accept()
		if err != nil {
			return
		}
		a.handOver(c)
	}
}

// Temporary reports whether accept may work if tried again later: out of
// descriptors or memory, or one of the errors of a single pending connection
// that Linux passes to accept(2), whose manual asks to retry them. Every
// accept loop of the server (this one, and Serve's for listeners) backs
// off on it and stops on anything else.
func Temporary(err error) bool {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
			syscall.ECONNABORTED, syscall.ECONNRESET, syscall.EPROTO, syscall.ENOPROTOOPT, syscall.ENETDOWN, syscall.ENETUNREACH,
			syscall.EHOSTDOWN, syscall.EHOSTUNREACH, syscall.EPERM:
			return true
		}
		return errno.Temporary() // EINTR, EAGAIN, ETIMEDOUT
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
