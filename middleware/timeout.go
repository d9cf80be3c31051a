package middleware

import (
	"context"
	"errors"
	"time"

	"github.com/kahttp/kahttp"
)

// Timeout gives the handler's context (Request.Context) a deadline d from
// when the handler starts. It is cooperative, as Go's contexts are: the
// handler (a database query, an outgoing call) stops when its context
// ends; Timeout cannot stop one that ignores it. A handler that returns
// after the deadline without having answered gets 503 (the request took
// too long), through Response.WriteError, so an ErrorWriter shapes it;
// one that answered keeps its answer.
func Timeout(d time.Duration) kahttp.Middleware {
	return func(next kahttp.Handler) kahttp.Handler {
		return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			parent := r.Context()
			r.SetContext(ctx)
			defer r.SetContext(parent)
			next.Serve(w, r)
			// Nothing answered: no head, no body, no status of its own (a
			// bare 200 is what a Response starts as).
			if errors.Is(ctx.Err(), context.DeadlineExceeded) && !w.HeadSent() && w.Written() == 0 && w.Status() == kahttp.StatusOK {
				w.WriteError(&kahttp.RequestError{Status: kahttp.StatusServiceUnavailable,
					Reason: "the request took longer than " + d.String()})
			}
		})
	}
}
