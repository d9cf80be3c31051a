package kahttp

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/bytebufferpool"
)

// pool runs pooled handlers on a bounded set of goroutines fed by a bounded
// queue. Workers are started on demand and exit after idling, so an idle
// server holds none; a full queue is refused (the caller answers 503)
// instead of growing without bound.
//
// free is the number of workers waiting for a task minus the tasks queued
// for them: every submit takes one (and starts a worker when none was
// left), every worker gives one back when it starts waiting. So a task
// never waits behind a busy worker while fewer than max run, however many
// submits race one idle worker.
type pool struct {
	tasks   chan *task
	max     int32
	workers atomic.Int32 // goroutines started and not exited
	free    atomic.Int32 // waiting workers minus queued tasks; negative: tasks wait
	quit    chan struct{}
	once    sync.Once
	run     func(t *task) // runs a task on a worker; a seam for tests
}

// task is a connection's pooled batch: the complete requests it had
// buffered, run one after another by one worker, so a pipeline costs one
// hand-off and one wake-up, and the connection never has two requests in
// handlers at once.
//
// A task is the session's only while a batch exists (session.t): taken
// from taskPool when the first pooled request of a batch is parsed, given
// back once its responses are sent.
type task struct {
	s         *session
	items     []item
	raw       []byte     // the batch's request bytes, copied out of the connection's buffer
	res       *Response  // the last response, set by the worker when done
	sink      pooledSink // where the batch's handlers write
	submitted bool       // loop only: handed to the pool
	// counted is the shard of the connection's loop, set when the batch is
	// handed over: the worker counts the end of its handlers there.
	counted *counterShard
}

var taskPool = sync.Pool{New: func() any { return new(task) }}

// acquireTask starts a batch for s.
func acquireTask(s *session) *task {
	t := taskPool.Get().(*task)
	t.s, t.sink.s = s, s
	return t
}

// item is one request of a batch with what the loop decided for it.
type item struct {
	req    *Request
	h      Handler
	keep   bool // the keep-alive policy's verdict before the handler runs
	reason closeReason
	left   int
}

// A batch stops growing at maxBatch requests or maxBatchBytes of them.
const (
	maxBatch      = 32
	maxBatchBytes = 64 << 10
)

// full reports whether the batch takes no more requests: it is at its
// bounds, or its last request closes the connection.
func (t *task) full(bytes int) bool {
	return len(t.items) >= maxBatch || bytes >= maxBatchBytes || !t.items[len(t.items)-1].keep
}

// cancel cancels the contexts of the batch's requests. Under session.mu.
func (t *task) cancel() {
	for _, it := range t.items {
		if it.req != nil {
			it.req.ctx.cancel()
		}
	}
}

// releaseTask ends the session's batch: its requests, last response and
// bytes go back to their pools, and with reuse the task too. Without
// reuse it is left to the GC: a write callback may still hold its sink
// (a connection closed with writes queued on its loop).
func (s *session) releaseTask(reuse bool) {
	t := s.t
	s.t = nil
	t.release()
	if reuse {
		// The task keeps its buffers (from pool to pool, so per P): a
		// batch takes none from a pool shared by every core. Large ones
		// are let go.
		buf := t.sink.buf
		if buf != nil && cap(buf.B) > flushAt+flushAt/4 {
			bytebufferpool.Put(buf)
			buf = nil
		}
		if cap(t.raw) > maxBatchBytes {
			t.raw = nil
		}
		t.s, t.sink = nil, pooledSink{spare: t.sink.spare[:0], buf: buf}
		taskPool.Put(t)
	}
}

// release returns the batch's requests, last response and bytes to their pools.
func (t *task) release() {
	for _, it := range t.items {
		if it.req != nil {
			releaseRequest(it.req)
		}
	}
	clear(t.items)
	t.items = t.items[:0]
	if t.res != nil {
		releaseResponse(t.res)
		t.res = nil
	}
	t.raw = t.raw[:0]
	t.submitted = false
	t.counted = nil
}

const workerIdle = 10 * time.Second

func newPool(workers, queue int) *pool {
	return &pool{tasks: make(chan *task, queue), max: int32(workers), quit: make(chan struct{}),
		run: func(t *task) { t.s.runPooled(t) }}
}

// submit queues t; false means the pool is saturated.
func (p *pool) submit(t *task) bool {
	select {
	case p.tasks <- t:
	default:
		return false
	}
	if p.free.Add(-1) < 0 {
		p.spawn() // no waiting worker is left for t (at max: t waits for one)
	}
	return true
}

func (p *pool) spawn() {
	for {
		n := p.workers.Load()
		if n >= p.max {
			return
		}
		if p.workers.CompareAndSwap(n, n+1) {
			go p.work()
			return
		}
	}
}

func (p *pool) work() {
	defer p.workers.Add(-1)
	timer := time.NewTimer(workerIdle)
	defer timer.Stop()
	for {
		p.free.Add(1) // waiting: one more task may count on this worker
		select {
		case t := <-p.tasks:
			p.run(t)                // its submit took the free slot this worker gave
			timer.Reset(workerIdle) // go 1.23+ timers: Reset drops a stale tick
		case <-timer.C:
			// Exit only if this worker's slot is still free: otherwise a
			// queued task counts on it.
			if n := p.free.Load(); n > 0 && p.free.CompareAndSwap(n, n-1) {
				return
			}
			timer.Reset(workerIdle)
			p.free.Add(-1) // taken again at the top of the loop
		case <-p.quit:
			p.free.Add(-1)
			return
		}
	}
}

// stop lets idle workers exit now; busy ones exit after their task.
func (p *pool) stop() { p.once.Do(func() { close(p.quit) }) }
