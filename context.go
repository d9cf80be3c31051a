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
}

func (c *reqContext) Deadline() (time.Time, bool) { return time.Time{}, false }

// Value returns the request's value for key (Request.SetValue), or nil.
func (c *reqContext) Value(key any) any { return c.value(key) }

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

func (c *reqContext) cancel() {
	c.mu.Lock()
	if c.err == nil {
		c.err = context.Canceled
		if c.done != nil {
			close(c.done)
		}
	}
	c.mu.Unlock()
}

func (c *reqContext) reset() {
	c.mu.Lock()
	c.done, c.err = nil, nil
	c.mu.Unlock()
	c.resetValues()
}
