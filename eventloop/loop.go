package eventloop

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/valyala/bytebufferpool"
)

// loop is one gnet event loop's own state. Its goroutine owns it; other
// goroutines touch only the fields that say so (wakes, conns, open, and
// the ticker's expiring), and only off the per-request path of inline
// handlers. So a request served on a loop writes no memory another loop
// writes.
type loop struct {
	// out is the batch buffer the loop's connections borrow, one callback
	// at a time (Conn.Output): every callback ends by writing and resetting
	// it (settle), so one buffer per loop serves all its connections.
	out bytebufferpool.ByteBuffer

	gl  gnet.EventLoop
	run gnet.Runnable // runWakes, made once
	// wakes are the connections Conn.Wake asked the loop to look at, from
	// any goroutine (pooled workers, the ticker, Shutdown), under wakeMu.
	// The Wake that finds the list empty queues one task on the loop that
	// takes them all, so a burst of wake-ups costs one task, not one each.
	// pending are those taken and not yet looked at (loop only): a task
	// looks at maxWakesAtOnce of them and queues itself again for the rest.
	wakeMu  sync.Mutex
	wakes   []*Conn
	pending []*Conn

	// expiring are the connections the ticker's last sweep found past their
	// deadline and has not acted on yet (Engine.tick), quota of them a
	// tick (expiryQuota). Ticker goroutine only.
	expiring []*Conn
	quota    int

	// conns are the loop's open connections, for Engine.Each on other
	// goroutines: under mu, which only the loop and Each take. open
	// counts them, for Engine.Open.
	mu    sync.Mutex
	conns map[*Conn]struct{}
	open  atomic.Int64

	// assistAt is when the loop last offered the accept loop a turn;
	// accepting: the accept loop was taking connections then (Engine.busy).
	// Loop only.
	assistAt  time.Duration
	accepting bool
	yieldAt   time.Duration // when the loop last yielded (busy)
	_         [64]byte      // apart from the next loop's state
}

// maxLoopOutput is the capacity the loop's buffer keeps after a batch:
// room for a large response's pieces (kahttp flushes every 64 KiB), while
// a batch that grew it past that lets it go instead of holding it for good.
const maxLoopOutput = 128 << 10

// loopEntry pairs gnet's loop with its state.
type loopEntry struct {
	gl gnet.EventLoop
	st *loop
}

// loopIndex numbers gnet's loops in the order they first open a
// connection, and makes their state. Once per connection, on its loop.
func (e *Engine) loopIndex(gl gnet.EventLoop) uint16 {
	if i := e.findLoop(gl); i >= 0 {
		return uint16(i)
	}
	e.loopsMu.Lock()
	defer e.loopsMu.Unlock()
	if i := e.findLoop(gl); i >= 0 {
		return uint16(i)
	}
	var ls []loopEntry
	if p := e.loops.Load(); p != nil {
		ls = *p
	}
	l := &loop{conns: map[*Conn]struct{}{}, gl: gl}
	l.run = gnet.RunnableFunc(func(context.Context) error { l.runWakes(e.ev); return nil })
	ls = append(slices.Clip(ls), loopEntry{gl, l}) // copy on write: readers hold the old slice
	e.loops.Store(&ls)
	return uint16(len(ls) - 1)
}

func (e *Engine) findLoop(gl gnet.EventLoop) int {
	if p := e.loops.Load(); p != nil {
		for i, l := range *p {
			if l.gl == gl {
				return i
			}
		}
	}
	return -1
}

// wake asks the loop to call OnTraffic for c. Any goroutine.
func (l *loop) wake(c *Conn) {
	l.wakeMu.Lock()
	first := len(l.wakes) == 0
	l.wakes = append(l.wakes, c)
	l.wakeMu.Unlock()
	if first && l.gl.Execute(context.Background(), l.run) != nil {
		// The loops are stopping: nobody will take the list; the
		// connections are being closed anyway.
		l.wakeMu.Lock()
		clear(l.wakes)
		l.wakes = l.wakes[:0]
		l.wakeMu.Unlock()
	}
}

// maxWakesAtOnce bounds the connections one task of the loop looks at;
// the task queues itself again for the rest. That does not let the loop's
// I/O in between: gnet runs up to 256 queued tasks a round, those queued
// meanwhile included, so a storm of wake-ups (Shutdown waking every
// connection) still runs back to back. Expired connections are paced by
// the ticker instead (expiryQuota): pacing them on the loop, a
// chunk per round after its I/O, used half the CPU but left other clients
// a longer tail (bench -faults -scenario slowloris, pooled: p99 2.2–4 ms
// from the first 408 on, against 1–2.7 ms).
const maxWakesAtOnce = 64

// runWakes runs on the loop: OnTraffic for the connections woken since
// the last time, as gnet's own Wake would (a connection gone meanwhile is
// skipped), at most maxWakesAtOnce of them.
func (l *loop) runWakes(ev *events) {
	l.wakeMu.Lock()
	l.pending = append(l.pending, l.wakes...)
	clear(l.wakes)
	l.wakes = l.wakes[:0]
	l.wakeMu.Unlock()
	n := min(len(l.pending), maxWakesAtOnce)
	for i, c := range l.pending[:n] {
		l.pending[i] = nil
		if !c.gone && ev.OnTraffic(c.gc) == gnet.Close {
			_ = l.gl.Close(c.gc)
		}
	}
	left := copy(l.pending, l.pending[n:])
	clear(l.pending[left:])
	l.pending = l.pending[:left]
	if left > 0 {
		_ = l.gl.Execute(context.Background(), l.run) // the loops are stopping if it fails: they close everything
	}
}

// eachLoop calls fn for every loop's state. Any goroutine.
func (e *Engine) eachLoop(fn func(l *loop)) {
	if p := e.loops.Load(); p != nil {
		for _, l := range *p {
			fn(l.st)
		}
	}
}

// loopState is the state of loop i (from loopIndex).
func (e *Engine) loopState(i uint16) *loop { return (*e.loops.Load())[i].st }

// A loop offers the accept loop a turn (acceptor.assist) at most once per
// assistEvery: a poll(2) per 200 µs is nothing beside the requests served
// meanwhile. It looks at the clock at every callback (tens of nanoseconds),
// not every so many: a loop woken now and then by a few slow clients holds
// its P in epoll_wait between their bytes, so the scheduler never polls the
// network, and its callbacks, however sparse, are the only turns the
// accept loop gets sooner than sysmon's 10 ms poll.
const assistEvery = 200 * time.Microsecond

// monoStart anchors the loops' monotonic clock.
var monoStart = time.Now()

// busy runs on loop l at each traffic callback: every assistEvery it offers
// the accept loop a turn, and at every callback while it is taking a burst
// of connections; every yieldEvery it yields. Loop only.
func (e *Engine) busy(l *loop) {
	now := time.Since(monoStart)
	if !l.accepting && now-l.assistAt < assistEvery {
		return
	}
	l.assistAt = now
	l.accepting = e.acc.assist()
	if now-l.yieldAt >= yieldEvery {
		l.yieldAt = now
		yield()
	}
}

// A busy loop yields its P once per yieldEvery. A gnet loop with traffic
// never parks (its epoll_wait returns at once), so without a yield its
// goroutine runs on one scheduling tick for good: every 10 ms sysmon
// preempts it, and as it is mostly in a system call, hands its P to
// another thread that the loop must then take it back from; each such
// retake also puts sysmon back to waking every 20 µs. Under keep-alive
// load on one core that was 1,000 sysmon wake-ups, 100 hand-offs and 3–4×
// the floor's context switches a second, 4–10% of the server's CPU per
// request (bench/compare.sh). A Gosched with nothing else runnable costs
// 75–95 ns here, once per 2 ms. The right place for it is gnet's loop,
// which we cannot change; a traffic callback is the nearest we have.
const yieldEvery = 2 * time.Millisecond

// yield is runtime.Gosched; tests count it.
var yield = runtime.Gosched
