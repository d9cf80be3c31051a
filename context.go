package kahttp

import (
	"context"
	"sync"
	"time"
)

// reqContext is the Request's context.Context. It lives inside the pooled
// Request, so a request whose handler never asks for Done costs no allocation.
// The server cancels it when the client goes away or Shutdown's deadline passes.
type reqContext struct {
	mu   sync.Mutex
	done chan struct{}
	err  error
	// vals are the request's values (values.go): set and read by the
	// goroutine that runs the handler, not guarded by mu.
	vals []kv
	// after are the functions AfterFunc registered, run on cancel; seq
	// numbers them, never reset, so a stop that outlives its request
	// finds nothing of the next one's.
	after []afterFunc
	seq   uint64
	// shutdown is the server's Shutdown signal (ShuttingDown), set when the
	// request is routed.
	shutdown <-chan struct{}
}

// shutdownKey is the context key under which a request's context holds
// its server's Shutdown signal.
type shutdownKey struct{}

// ShuttingDown is closed when Shutdown begins for the server serving the
// request whose context ctx is, or derives from; nil (never closed) for
// any other context. It is Request.ShuttingDown for code that sees only a
// context: a net/http handler through nethttp, the goroutines of a
// hijacked connection. See also Server.RegisterOnShutdown.
func ShuttingDown(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(shutdownKey{}).(<-chan struct{})
	return ch
}

type afterFunc struct {
	id uint64
	f  func()
}

func (c *reqContext) Deadline() (time.Time, bool) { return time.Time{}, false }

// Value returns the request's value for key (Request.SetValue), or nil.
func (c *reqContext) Value(key any) any {
	if _, ok := key.(shutdownKey); ok && c.shutdown != nil {
		return c.shutdown
	}
	return c.value(key)
}

func (c *reqContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.err != nil {
			close(c.done)
		}
	}
	return c.done
}

func (c *reqContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// AfterFunc runs f in its own goroutine once the context is cancelled, as
// context.AfterFunc does; stop unregisters it. With it, a context derived
// from the request's (context.WithCancel, WithTimeout) hears of the
// cancellation without a goroutine of its own waiting on Done, which would
// outlive the request when the derived context is never cancelled. The
// functions still registered when the request is released are dropped.
func (c *reqContext) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		go f()
		return func() bool { return false }
	}
	c.seq++
	id := c.seq
	c.after = append(c.after, afterFunc{id, f})
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, a := range c.after {
			if a.id == id {
				last := len(c.after) - 1
				copy(c.after[i:], c.after[i+1:])
				c.after[last] = afterFunc{} // drop the closure
				c.after = c.after[:last]
				return true
			}
		}
		return false
	}
}

func (c *reqContext) cancel() {
	c.mu.Lock()
	var after []afterFunc
	if c.err == nil {
		c.err = context.Canceled
		if c.done != nil {
			close(c.done)
		}
		after = c.after
		c.after = nil
	}
	c.mu.Unlock()
	for _, a := range after {
		go a.f()
	}
}

func (c *reqContext) reset() {
	c.mu.Lock()
	c.done, c.err, c.shutdown = nil, nil, nil
	clear(c.after)
	c.after = c.after[:0]
	c.mu.Unlock()
	c.resetValues()
}
