package kahttp

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A context derived from the request's registers with AfterFunc instead
// of starting a goroutine; cancelling either side does what it should, and
// release forgets what is left.
func TestReqContextAfterFunc(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, c *reqContext)
	}{
		{"the request's cancel reaches the derived context", func(t *testing.T, c *reqContext) {
			ctx, cancel := context.WithCancel(c)
			defer cancel()
			require.Len(t, c.after, 1, "registered, no goroutine")
			c.cancel()
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
				t.Fatal("derived context not cancelled")
			}
			assert.ErrorIs(t, ctx.Err(), context.Canceled)
		}},
		{"cancelling the derived context unregisters it", func(t *testing.T, c *reqContext) {
			_, cancel1 := context.WithCancel(c)
			ctx2, cancel2 := context.WithTimeout(c, time.Hour)
			defer cancel2()
			require.Len(t, c.after, 2)
			cancel1()
			assert.Len(t, c.after, 1)
			assert.NoError(t, ctx2.Err())
		}},
		{"already cancelled: derived at once", func(t *testing.T, c *reqContext) {
			c.cancel()
			ctx, cancel := context.WithCancel(c)
			defer cancel()
			assert.ErrorIs(t, ctx.Err(), context.Canceled)
		}},
		{"a stop after release touches nothing of the next request", func(t *testing.T, c *reqContext) {
			_, cancel := context.WithCancel(c)
			c.reset() // released, reused
			assert.Empty(t, c.after)
			ctx2, cancel2 := context.WithCancel(c)
			defer cancel2()
			cancel() // the old request's
			require.Len(t, c.after, 1, "the new registration stays")
			c.cancel()
			<-ctx2.Done()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c reqContext
			tc.run(t, &c)
		})
	}
}
