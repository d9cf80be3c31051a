package kahttp

import (
	"sync"
	"time"
)

// pool runs pooled handlers on a bounded set of goroutines, with a
// bounded queue behind them. Workers are started on demand and exit after
// idling, so an idle server holds none; a full queue is refused (the
// caller answers 503) instead of growing without bound.
//
// Each idle worker waits on a channel of its own, so a hand-off is one
// short critical section and one send to a goroutine that waits for
// nothing else: no select over shared channels, no timer reset per task.
// Under mu, a submit takes the most recently idle worker (its stack and
// caches are warm), else starts one while fewer than max run, else
// queues; a worker done with a task takes the oldest queued one, else
// goes idle. So a task never waits behind a busy worker while fewer than
// max run, and never waits in the queue while a worker is idle.
type pool struct {
	mu       sync.Mutex
	ready    []*worker     // idle workers, oldest first; under mu
	queue    []*task       // tasks waiting while max workers run, oldest first; under mu
	workers  int           // started and not told to exit; under mu
	stopped  bool          // stop was called: workers exit once the queue is empty; under mu
	cleaning bool          // the cleaner runs (while workers > 0); under mu
	epoch    int           // the cleaner's ticks so far; under mu
	quit     chan struct{} // closed by stop: the cleaner exits
	max      int
	maxQueue int
	run      func(t *task) // runs a task on a worker; a seam for tests
	tick     time.Duration // the cleaner's period: workerIdle/2; a seam for tests
}

// worker is one goroutine of the pool, while it lives.
type worker struct {
	tasks chan *task // capacity 1, so a submit never blocks; nil tells the worker to exit
	idle  int        // the cleaner's epoch when it last went idle (no clock read per task); under pool.mu
}

// sizes are the workers started and the tasks queued now.
func (p *pool) sizes() (workers, queued int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return int64(p.workers), int64(len(p.queue))
}

// workerIdle is how long a worker may wait for a task before it exits.
const workerIdle = 10 * time.Second

func newPool(workers, queue int) *pool {
	return &pool{max: workers, maxQueue: queue, quit: make(chan struct{}), tick: workerIdle / 2,
		run: func(t *task) { t.s.runPooled(t) }}
}

// submit runs t on a worker, or queues it; false means the pool is saturated.
func (p *pool) submit(t *task) bool {
	p.mu.Lock()
	if n := len(p.ready); n > 0 {
		w := p.ready[n-1]
		p.ready[n-1] = nil
		p.ready = p.ready[:n-1]
		p.mu.Unlock()
		w.tasks <- t
		return true
	}
	if p.workers < p.max {
		p.workers++
		clean := !p.cleaning
		p.cleaning = true
		p.mu.Unlock()
		go p.work(&worker{tasks: make(chan *task, 1)}, t)
		if clean {
			go p.clean()
		}
		return true
	}
	if len(p.queue) >= p.maxQueue {
		p.mu.Unlock()
		return false
	}
	p.queue = append(p.queue, t)
	p.mu.Unlock()
	return true
}

// work runs t, then queued tasks, then whatever it is handed while idle,
// until it is told to exit.
func (p *pool) work(w *worker, t *task) {
	for t != nil {
		p.run(t)
		var idle bool
		if t, idle = p.next(w); idle {
			t = <-w.tasks // nil: exit (the cleaner or stop took w off ready)
		}
	}
}

// next is a worker's next task: the oldest queued one; else the worker
// goes idle (on ready), or after stop it exits (nil, false).
func (p *pool) next(w *worker) (t *task, idle bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) > 0 {
		t = p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		return t, false
	}
	if p.stopped {
		p.workers--
		return nil, false
	}
	w.idle = p.epoch
	p.ready = append(p.ready, w)
	return nil, true
}

// clean tells the workers idle for three of its ticks (between workerIdle
// and 1.5 times that) to exit; it runs while the pool has workers. ready
// is oldest first, so they are a prefix.
func (p *pool) clean() {
	tick := time.NewTicker(p.tick)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-p.quit:
			return
		}
		p.mu.Lock()
		p.epoch++
		n := 0
		for n < len(p.ready) && p.ready[n].idle <= p.epoch-3 {
			n++
		}
		idle := append([]*worker(nil), p.ready[:n]...)
		m := copy(p.ready, p.ready[n:])
		clear(p.ready[m:])
		p.ready = p.ready[:m]
		p.workers -= n
		done := p.workers == 0 || p.stopped
		if done {
			p.cleaning = false
		}
		p.mu.Unlock()
		for _, w := range idle {
			w.tasks <- nil
		}
		if done {
			return
		}
	}
}

// stop lets idle workers exit now; busy ones exit after the queued tasks.
func (p *pool) stop() {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	p.stopped = true
	close(p.quit)
	idle := p.ready
	p.ready = nil
	p.workers -= len(idle)
	p.mu.Unlock()
	for _, w := range idle {
		w.tasks <- nil
	}
}
