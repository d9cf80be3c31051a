package kahttp

import (
	"context"
	"fmt"
	"reflect"
)

// Per-request values: what middleware hands to the handlers it wraps (the
// authenticated user, a request id), as net/http's r.WithContext, gin's
// c.Set or fiber's c.Locals. They live in the pooled Request, so a request
// that sets none costs nothing, and are cleared when the request is
// released: nothing leaks to the next request on the same Request.

// kv is one per-request value.
type kv struct {
	key, val any
}

// SetValue sets the value of key for this request, replacing any earlier
// one; Value and Context().Value read it back. Keys compare with ==, as
// context.WithValue's: use a value of an unexported type of your own
// package (type userKey struct{}) so packages cannot collide. A key that is
// not comparable is a programming error, and panics as context.WithValue
// does.
//
// The first value of a request may allocate (the slice that holds them,
// reused by later requests; and boxing val in an interface, as any use of
// context values does). Like the rest of the Request, values must not be
// used after the handler returns, and SetValue must not race with Value:
// set them before handing the request's context to other goroutines.
func (r *Request) SetValue(key, val any) {
	if key == nil {
		panic("kahttp: SetValue with a nil key")
	}
	if !reflect.TypeOf(key).Comparable() {
		panic(fmt.Sprintf("kahttp: SetValue with a key of type %T, which is not comparable", key))
	}
	vals := r.ctx.vals
	for i := range vals {
		if vals[i].key == key {
			vals[i].val = val
			return
		}
	}
	r.ctx.vals = append(vals, kv{key, val})
}

// Value returns the value SetValue set for key, or nil. Context().Value(key)
// returns the same.
func (r *Request) Value(key any) any { return r.ctx.value(key) }

// DeleteValue removes key's value, if any.
func (r *Request) DeleteValue(key any) {
	vals := r.ctx.vals
	for i := range vals {
		if vals[i].key == key {
			copy(vals[i:], vals[i+1:])
			vals[len(vals)-1] = kv{}
			r.ctx.vals = vals[:len(vals)-1]
			return
		}
	}
}

// ValueOf is Request.Value with its type: the value of key as a T, and
// whether there is one of that type.
func ValueOf[T any](r *Request, key any) (T, bool) {
	v, ok := r.ctx.value(key).(T)
	return v, ok
}

func (c *reqContext) value(key any) any {
	for i := range c.vals {
		if c.vals[i].key == key {
			return c.vals[i].val
		}
	}
	return nil
}

// resetValues drops the request's values, keeping the slice for the next
// request without what it pointed to.
func (c *reqContext) resetValues() {
	clear(c.vals)
	c.vals = c.vals[:0]
}

// SetContext makes ctx what Context returns from now on, as net/http's
// r.WithContext: for middleware that derives a context from the request's
// (a deadline with context.WithTimeout, a tracer's span, a library's
// context.WithValue). Derive ctx from r.Context(), so it keeps the
// request's cancellation and values; Value and SetValue keep working on
// the request's own values either way. ctx is dropped when the request is
// released; setting the request's own context back (the first Context())
// undoes it. Like SetValue, it must not race with Context.
func (r *Request) SetContext(ctx context.Context) {
	if ctx == &r.ctx {
		ctx = nil
	}
	r.uctx = ctx
}
