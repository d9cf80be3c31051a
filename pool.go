package kahttp

import (
	"sync"
	"sync/atomic"
	"time"
)

// pool runs pooled handlers on a bounded set of goroutines fed by a bounded
// queue. Workers are started on demand and exit after idling, so an idle
// server holds none; a full queue is refused (the caller answers 503)
// instead of growing without bound.
type pool struct {
	tasks   chan *task
	max     int32
	workers atomic.Int32
	idle    atomic.Int32
	quit    chan struct{}
	once    sync.Once
}

// task is one pooled request: the session it belongs to and its handler.
type task struct {
	s      *session
	req    *Request
	h      Handler
	res    *Response // set by the worker when done
	keep   bool      // the keep-alive policy's verdict for the request
	reason closeReason
	left   int
}

const workerIdle = 10 * time.Second

func newPool(workers, queue int) *pool {
	return &pool{tasks: make(chan *task, queue), max: int32(workers), quit: make(chan struct{})}
}

// submit queues t; false means the pool is saturated.
func (p *pool) submit(t *task) bool {
	select {
	case p.tasks <- t:
	default:
		return false
	}
	if p.idle.Load() == 0 {
		p.spawn()
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
		p.idle.Add(1)
		select {
		case t := <-p.tasks:
			p.idle.Add(-1)
			t.s.runPooled(t)
			timer.Reset(workerIdle) // go 1.23+ timers: Reset drops a stale tick
		case <-timer.C:
			p.idle.Add(-1)
			// submit queues before it reads idle, and this reads the queue
			// after lowering idle: a task queued meanwhile is seen by one of us.
			if len(p.tasks) > 0 {
				timer.Reset(workerIdle)
				continue
			}
			return
		case <-p.quit:
			p.idle.Add(-1)
			return
		}
	}
}

// stop lets idle workers exit now; busy ones exit after their task.
func (p *pool) stop() { p.once.Do(func() { close(p.quit) }) }
