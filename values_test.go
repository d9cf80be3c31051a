package kahttp_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/kahttptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type userKey struct{}
type traceKey struct{}

// withUser is middleware that sets a per-request value.
func withUser(name string) kahttp.Middleware {
	return func(next kahttp.Handler) kahttp.Handler {
		return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
			r.SetValue(userKey{}, name)
			next.Serve(w, r)
		})
	}
}

// fromContext is code that only knows context.Context.
func fromContext(ctx context.Context) string {
	s, _ := ctx.Value(userKey{}).(string)
	return s
}

func TestValues(t *testing.T) {
	cases := []struct {
		name string
		run  func(r *kahttp.Request) string
		want string
	}{
		{"unset is nil", func(r *kahttp.Request) string { return fmt.Sprint(r.Value(userKey{})) }, "<nil>"},
		{"set then get", func(r *kahttp.Request) string {
			r.SetValue(userKey{}, "ann")
			return fmt.Sprint(r.Value(userKey{}))
		}, "ann"},
		{"set replaces", func(r *kahttp.Request) string {
			r.SetValue(userKey{}, "ann")
			r.SetValue(traceKey{}, 7)
			r.SetValue(userKey{}, "bob")
			return fmt.Sprintf("%v %v", r.Value(userKey{}), r.Value(traceKey{}))
		}, "bob 7"},
		{"keys of different types differ", func(r *kahttp.Request) string {
			r.SetValue("k", 1)
			r.SetValue(userKey{}, 2)
			return fmt.Sprintf("%v %v %v", r.Value("k"), r.Value(userKey{}), r.Value(traceKey{}))
		}, "1 2 <nil>"},
		{"delete", func(r *kahttp.Request) string {
			r.SetValue(userKey{}, "ann")
			r.SetValue(traceKey{}, 7)
			r.DeleteValue(userKey{})
			r.DeleteValue("absent")
			return fmt.Sprintf("%v %v", r.Value(userKey{}), r.Value(traceKey{}))
		}, "<nil> 7"},
		{"context sees values", func(r *kahttp.Request) string {
			ctx := r.Context()
			r.SetValue(userKey{}, "cat") // after Context(): still seen
			return fromContext(ctx)
		}, "cat"},
		{"typed", func(r *kahttp.Request) string {
			r.SetValue(traceKey{}, 42)
			n, ok := kahttp.ValueOf[int](r, traceKey{})
			s, ok2 := kahttp.ValueOf[string](r, traceKey{})
			return fmt.Sprint(n, ok, s == "", ok2)
		}, "42 true true false"},
		{"uncomparable key panics", func(r *kahttp.Request) (got string) {
			defer func() { got = fmt.Sprint(recover()) }()
			r.SetValue([]int{1}, 1)
			return "no panic"
		}, "kahttp: SetValue with a key of type []int, which is not comparable"},
	}
	for _, tc := range cases {
		for _, mode := range []kahttp.Mode{kahttp.Inline, kahttp.Pooled} {
			t.Run(tc.name+"/"+mode.String(), func(t *testing.T) {
				h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
					_, _ = w.WriteString(tc.run(r))
				})
				resp, err := kahttptest.Do(h, httptest.NewRequest("GET", "/", nil),
					kahttptest.WithConfig(kahttp.Config{Mode: mode}))
				require.NoError(t, err)
				assert.Equal(t, tc.want, resp.Text())
			})
		}
	}
}

// Middleware sets, the handler and code taking a context.Context read; the
// next request on the same connection (the same pooled Request, very
// likely) starts with none.
func TestValuesThroughMiddlewareAndReset(t *testing.T) {
	for _, mode := range []kahttp.Mode{kahttp.Inline, kahttp.Pooled} {
		t.Run(mode.String(), func(t *testing.T) {
			rt := kahttp.NewRouter()
			rt.GET("/in", withUser("erin")(kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
				_, _ = w.WriteString(r.Value(userKey{}).(string) + " " + fromContext(r.Context()))
			})), kahttp.WithMode(mode))
			rt.GET("/out", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
				_, _ = fmt.Fprintf(w, "%v %v", r.Value(userKey{}), fromContext(r.Context()) == "")
			}), kahttp.WithMode(mode))
			c := kahttptest.NewConn(rt)
			defer c.Close()
			for range 3 {
				resps, err := c.SendString("GET /in HTTP/1.1\r\nHost: a\r\n\r\nGET /out HTTP/1.1\r\nHost: a\r\n\r\n")
				require.NoError(t, err)
				require.Len(t, resps, 2)
				assert.Equal(t, "erin erin", resps[0].Text())
				assert.Equal(t, "<nil> true", resps[1].Text())
			}
		})
	}
}

func ExampleRequest_SetValue() {
	type userKey struct{}
	auth := func(next kahttp.Handler) kahttp.Handler {
		return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
			r.SetValue(userKey{}, "erin") // say, from a verified token
			next.Serve(w, r)
		})
	}
	rt := kahttp.NewRouter()
	rt.Use(auth)
	rt.GET("/me", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		user, _ := kahttp.ValueOf[string](r, userKey{})
		// code that takes a context.Context sees the values too
		_, _ = fmt.Fprintf(w, "%s %v", user, r.Context().Value(userKey{}))
	}))
	resp, _ := kahttptest.Do(rt, httptest.NewRequest("GET", "/me", nil))
	fmt.Println(resp.Text())
	// Output: erin erin
}

type spanKey struct{}

func TestSetContext(t *testing.T) {
	cases := []struct {
		name string
		run  func(r *kahttp.Request) string
		want string
	}{
		{"derived: its values and the request's", func(r *kahttp.Request) string {
			r.SetValue(userKey{}, "ann")
			r.SetContext(context.WithValue(r.Context(), spanKey{}, "span-1"))
			r.SetValue(traceKey{}, 9) // after: still seen through the chain
			ctx := r.Context()
			return fmt.Sprintf("%v %v %v %v", ctx.Value(spanKey{}), ctx.Value(userKey{}), ctx.Value(traceKey{}), r.Value(spanKey{}))
		}, "span-1 ann 9 <nil>"},
		{"derived with a deadline", func(r *kahttp.Request) string {
			ctx, cancel := context.WithTimeout(r.Context(), time.Hour)
			defer cancel()
			r.SetContext(ctx)
			_, ok := r.Context().Deadline()
			return fmt.Sprint(ok, r.Context().Err())
		}, "true <nil>"},
		{"cancelled with it", func(r *kahttp.Request) string {
			ctx, cancel := context.WithCancel(r.Context())
			r.SetContext(ctx)
			cancel()
			return fmt.Sprint(r.Context().Err())
		}, "context canceled"},
		{"back to the request's own", func(r *kahttp.Request) string {
			own := r.Context()
			r.SetContext(context.WithValue(own, spanKey{}, 1))
			r.SetContext(own)
			return fmt.Sprint(r.Context() == own, r.Context().Value(spanKey{}))
		}, "true <nil>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) { _, _ = w.WriteString(tc.run(r)) })
			resp, err := kahttptest.Do(h, httptest.NewRequest("GET", "/", nil))
			require.NoError(t, err)
			assert.Equal(t, tc.want, resp.Text())
		})
	}
	t.Run("released with the request", func(t *testing.T) {
		h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
			_, _ = fmt.Fprintf(w, "%v", r.Context().Value(spanKey{}))
			if r.Path() == "/set" {
				r.SetContext(context.WithValue(r.Context(), spanKey{}, "leak"))
			}
		})
		c := kahttptest.NewConn(h, kahttptest.WithConfig(kahttp.Config{Mode: kahttp.Inline}))
		defer c.Close()
		resps, err := c.SendString("GET /set HTTP/1.1\r\nHost: a\r\n\r\nGET /get HTTP/1.1\r\nHost: a\r\n\r\n")
		require.NoError(t, err)
		require.Len(t, resps, 2)
		assert.Equal(t, "<nil>", resps[1].Text())
	})
}

// A pooled handler waiting on a context derived from the request's (set
// with SetContext) stops when the client goes away.
func TestDerivedContextCancelledWhenClientLeaves(t *testing.T) {
	result := make(chan error, 1)
	h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Minute)
		defer cancel()
		r.SetContext(ctx)
		<-r.Context().Done()
		result <- r.Context().Err()
	})
	c := kahttptest.NewConn(h, kahttptest.WithTimeout(20*time.Millisecond))
	_, err := c.SendString("GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	require.ErrorIs(t, err, kahttp.ErrHandlerTimeout, "the handler waits")
	require.NoError(t, c.Close())
	select {
	case err := <-result:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(5 * time.Second):
		t.Fatal("the derived context was not cancelled")
	}
}
