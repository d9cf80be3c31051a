package kahttp

import (
	"sync"
	"time"

	"github.com/valyala/bytebufferpool"
)

// Life of a pooled request, in order (who runs each step in brackets):
//
//  1. [loop] traffic parses a complete request; serve routes it to a pooled
//     handler and starts a batch (acquireTask): session.t. Complete
//     requests parsed after it join the batch, inline routes too, up to
//     maxBatch requests or maxBatchBytes.
//  2. [loop] dispatch copies the batch's bytes out of the connection's
//     buffer into the task's own (the loop moves on) and submits the task
//     to the pool, which hands it to an idle worker's channel (pool.go);
//     the session's owner is the worker (session.go). While it runs,
//     traffic parses nothing (the rest waits in the buffer, bounded by
//     overInbound).
//  3. [worker] runPooled runs the handlers in order. Each response is
//     written into the task's sink; past flushAt the sink hands a piece to
//     the loop with AsyncWrite (unsent counts it until its callback) and
//     waits while too much is unsent or queued (mayFlush, drain, Watch).
//  4. [worker] the batch is done (under session.mu), its Responses back in
//     the worker's pool, its verdict in the task; if nothing is unsent the
//     worker wakes the loop (Conn.Wake: the loop's wake-ups are batched),
//     else the last write's callback does.
//  5. [loop] traffic sees the batch complete (done, unsent 0: no piece
//     still queued behind the wake-up), appends the last bytes to the
//     loop's batch, applies the keep-alive verdict, and releases the task
//     (it keeps its buffers); parsing resumes with whatever the client
//     sent meanwhile.
//
// If the connection goes away meanwhile, gone [loop] makes the session
// closed and cancels the requests' contexts; the worker finishes and
// drops the batch (dropPooled). A client that half-closed is still owed
// its answers: the session goes to a blocking owner, a dup of the socket
// that the worker drives once the batch is done (runOrphan).

// task is a connection's pooled batch: the complete requests it had
// buffered, run one after another by one worker, so a pipeline costs one
// hand-off and one wake-up, and the connection never has two requests in
// handlers at once.
//
// A task is the session's only while a batch exists (session.t): taken
// from taskPool when the first pooled request of a batch is parsed, given
// back once its responses are sent.
type task struct {
	s     *session
	items []item
	raw   []byte // the batch's request bytes, copied out of the connection's buffer
	// keep and reason are the last response's verdict on the connection,
	// set by the worker when the batch is done.
	keep      bool
	reason    closeReason
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
	t.raw = t.raw[:0]
	t.submitted = false
	t.counted = nil
}

// dispatch hands the batch to the pool. Its requests are copied out of the
// connection's buffer in one piece (raw, the task's own), so they stay
// valid while the worker runs and the loop moves on.
func (s *session) dispatch(raw []byte) {
	t := s.t
	t.raw = append(t.raw[:0], raw...)
	off := 0
	for _, it := range t.items {
		n := len(it.req.buf)
		it.req.move(t.raw[off : off+n])
		off += n
	}
	t.submitted = true
	s.setOwner(ownerWorker)
	s.c.SetDeadline(time.Time{})
	t.counted = s.stats()
	t.counted.inflight.Add(1)
	if s.srv.pool.submit(t) {
		return
	}
	// Saturated: answer the batch with 503 rather than queue without bound.
	t.counted.inflight.Add(-1)
	s.setOwner(ownerLoop)
	t.counted.rejected.Add(int64(len(t.items)))
	for i, it := range t.items {
		t.items[i].req = nil
		if s.c.Closing() {
			releaseRequest(it.req) // not answered: an earlier response closed the connection
			continue
		}
		it.req.answer = &RequestError{Status: StatusServiceUnavailable, Reason: "server busy"}
		it.h = s.srv.errorChain(it.req) // 503 with Retry-After, in the group's middleware
		s.answer(it)
	}
	t.items = t.items[:0]
	s.releaseTask(true)
}

// runPooled runs a connection's batch on a worker goroutine, in order,
// into the worker's own buffer; the loop picks the responses up when woken.
func (s *session) runPooled(t *task) {
	defer t.counted.inflight.Add(-1)
	if t.sink.buf == nil {
		t.sink.buf = bytebufferpool.Get() // then kept by the task (releaseTask)
	}
	t.sink.broken = false
	t.keep = true
	for i, it := range t.items {
		if !t.keep {
			// The connection closes: the requests after it are not answered.
			t.counted.requests.Add(-int64(len(t.items) - i))
			break
		}
		t.keep, t.reason = s.exchange(it, &t.sink)
	}

	s.mu.Lock()
	own, lc := s.owner, s.lc // runOrphan replaces lc once the batch is done
	if own == ownerWorker {
		s.owner = ownerReturned
	}
	s.mu.Unlock()
	switch {
	case own == ownerBlocking:
		s.runOrphan() // the client half-closed: answer through the dup'd socket
	case own == ownerClosed:
		s.dropPooled()
	case s.unsent.Load() == 0:
		lc.Wake()
		// Otherwise the callback of the last queued write wakes the loop:
		// the batch is returned before unsent is read here, and unsent
		// lowered before the owner is read there: one of the two sees the other.
	}
}

// dropPooled discards a finished batch whose connection is gone. The
// task is not reused: write callbacks may still be queued on the loop.
func (s *session) dropPooled() {
	bytebufferpool.Put(s.t.sink.buf)
	s.t.sink.buf = nil
	s.mu.Lock()
	s.t.sink.releaseSpare()
	s.mu.Unlock()
	s.releaseTask(false)
}

// completePooled sends the responses of the pooled batch once it is done;
// false while the worker still runs it or the pieces it flushed are still
// queued on the loop: a wake-up queued before them may run first, and the
// batch's last bytes must not overtake them. Loop only.
func (s *session) completePooled() bool {
	s.mu.Lock()
	done := s.owner == ownerReturned
	s.mu.Unlock()
	if !done || s.unsent.Load() > 0 {
		return false
	}
	t := s.t
	// The last piece joins the connection's output (one write with what
	// follows); the sink's buffer stays with the task for its next batch.
	out := s.c.Output()
	out.B = append(out.B, t.sink.buf.B...)
	t.sink.buf.Reset()
	if !t.keep {
		s.closeWith(t.reason)
	}
	s.mu.Lock()
	s.owner = ownerLoop
	s.t.sink.releaseSpare() // every write of the batch has run (unsent is 0)
	s.mu.Unlock()
	s.releaseTask(true)
	return true
}

// pooledSink is where a pooled handler's bytes go: its own buffer, handed
// to the connection with AsyncWrite when flushed. It waits while the
// connection's unsent output is past MaxOutboundBytes.
type pooledSink struct {
	s      *session
	buf    *bytebufferpool.ByteBuffer
	broken bool
	// spare holds buffers the loop has written, for the next flushes: a
	// fresh buffer would regrow to flushAt by doubling on every flush
	// (30% of the CPU of a pooled 1 MiB response). Bounded by what
	// backpressure lets be in flight anyway. Guarded by session.mu.
	spare []*bytebufferpool.ByteBuffer
}

// releaseSpare returns the spare buffers to the pool, so an idle
// connection holds none. Under session.mu.
func (p *pooledSink) releaseSpare() {
	for _, b := range p.spare {
		bytebufferpool.Put(b)
	}
	clear(p.spare)
	p.spare = p.spare[:0]
}

func (p *pooledSink) buffer() *bytebufferpool.ByteBuffer { return p.buf }

func (p *pooledSink) flush() error {
	s := p.s
	s.mu.Lock()
	own := s.owner
	s.mu.Unlock()
	switch own {
	case ownerBlocking:
		return s.writeOrphan(p.buf) // half-closed: straight to the dup'd socket
	case ownerClosed:
		p.broken = true
	}
	if p.broken {
		p.buf.Reset()
		return ErrConnClosed
	}
	if len(p.buf.B) == 0 {
		return nil
	}
	b := p.buf
	s.mu.Lock()
	if k := len(p.spare); k > 0 {
		p.buf, p.spare = p.spare[k-1], p.spare[:k-1]
		p.buf.Reset()
	} else {
		p.buf = nil
	}
	s.mu.Unlock()
	if p.buf == nil {
		p.buf = bytebufferpool.Get()
	}
	if cap(p.buf.B) < flushAt+flushAt/4 {
		p.buf.B = make([]byte, 0, flushAt+flushAt/4) // room for a flush's worth, chunk headers included
	}
	n := int64(len(b.B))
	s.unsent.Add(n)
	err := s.lc.AsyncWrite(b.B, func(err error) { // on the loop
		left := s.unsent.Add(-n)
		s.mu.Lock()
		wake := left == 0 && s.owner == ownerReturned // the batch waits for this write to complete
		switch {
		case err != nil && s.owner == ownerBlocking:
			s.bc.redo = append(s.bc.redo, b) // the orphan sends it, in order
		case err == nil && len(p.spare) <= s.srv.cfg.MaxOutboundBytes/flushAt:
			p.spare = append(p.spare, b) // kept with its length: bytebufferpool sizes by it
		default:
			bytebufferpool.Put(b)
		}
		s.mu.Unlock()
		if err == nil {
			s.watchOutput()
		} else if left == 0 {
			s.signalDrain() // an orphan waits for the last one (orphanCatchUp)
		}
		if wake {
			s.lc.Wake()
		}
	})
	if err != nil {
		s.unsent.Add(-n)
		bytebufferpool.Put(b)
		p.broken = true
		return ErrConnClosed
	}
	for !s.mayFlush() {
		s.mu.Lock()
		own := s.owner // read with the channel made, so gone() cannot miss signalling it
		if s.drain == nil {
			s.drain = make(chan struct{}, 1)
		}
		drain := s.drain
		s.mu.Unlock()
		switch own {
		case ownerBlocking:
			return nil // half-closed: the next flush goes through the orphan
		case ownerClosed:
			p.broken = true
			return ErrConnClosed
		}
		s.waiting.Store(true)
		s.lc.Watch(true)
		<-drain
		s.waiting.Store(false)
	}
	return nil
}

// mayFlush reports whether a pooled handler may hand the loop more output:
// the connection's unsent output is within MaxOutboundBytes, and at most
// two flushes wait for the loop, so the handler's buffers stay few and
// warm in the cache instead of racing ahead of the loop. Any goroutine.
func (s *session) mayFlush() bool {
	unsent := s.unsent.Load()
	return unsent <= 2*flushAt && s.outbound.Load()+unsent <= int64(s.srv.cfg.MaxOutboundBytes)
}

// writeOrphan sends a pooled handler's output through the orphan, after
// whatever the loop refused once the connection closed.
func (s *session) writeOrphan(b *bytebufferpool.ByteBuffer) error {
	s.orphanCatchUp()
	err := s.bc.write(b.B)
	b.Reset()
	if err != nil {
		return ErrConnClosed
	}
	return nil
}

// orphanCatchUp waits for the AsyncWrite callbacks still queued on the
// loop when gnet closed the connection (the last one signals drain), then
// writes what they handed back, in order. The loop runs every task it
// was given while it lives: the wait ends with the last callback, or with
// the engine (Shutdown's end), never on a timer.
func (s *session) orphanCatchUp() {
	var stopped <-chan struct{}
	if eng := s.srv.engine(); eng != nil {
		stopped = eng.Done()
	}
wait:
	for s.unsent.Load() > 0 {
		s.mu.Lock()
		if s.drain == nil {
			s.drain = make(chan struct{}, 1)
		}
		drain := s.drain
		s.mu.Unlock()
		if s.unsent.Load() == 0 {
			break // the last callback ran before the channel existed
		}
		select {
		case <-drain:
		case <-stopped:
			break wait // the loops are gone, and their queued writes with them
		}
	}
	s.mu.Lock()
	redo := s.bc.redo
	s.bc.redo = nil
	s.mu.Unlock()
	for _, b := range redo {
		_ = s.bc.write(b.B)
		bytebufferpool.Put(b)
	}
}

// runOrphan finishes what a half-closed client is owed once gnet closed
// its connection: the pooled batch in flight at the close (once its
// handler is done), then every complete request left in the buffer,
// driven on this goroutine (blocking.go).
func (s *session) runOrphan() {
	o := s.bc
	s.orphanCatchUp()
	if t := s.t; t != nil { // the pooled batch in flight at the close
		_ = o.write(t.sink.buf.B)
		bytebufferpool.Put(t.sink.buf)
		t.sink.buf = nil
		keep := t.keep
		s.mu.Lock()
		t.sink.releaseSpare()
		s.mu.Unlock()
		s.releaseTask(false) // not reused: the loops may have stopped with write callbacks never run
		if !keep {
			o.close()
			return
		}
	}
	s.mu.Lock()
	s.c, s.lc = o, nil
	s.mu.Unlock()
	s.drive(o)
}
