package middleware

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/kahttp/kahttp"
)

// AccessLog logs one line per request once its response is complete
// (Response.OnFinish), with the attributes method, path, status and bytes
// as the client got them (the server's own answer when it replaced the
// handler's: 413 for a body that failed, 500 after a panic; 101 for an
// upgrade; no bytes for HEAD), duration, remote (address) and keep_alive
// (whether the connection stays open, as known then: the server may still
// close it, e.g. on shutdown or a write error).
//
// WithAttrs and WithValue add attributes, such as the values middleware
// set on the request (a request id, the user).
//
// The strings logged are copies: a slog.Handler may keep them past the
// request.
func AccessLog(opts ...Option) kahttp.Middleware {
	o := build(opts)
	return func(next kahttp.Handler) kahttp.Handler {
		return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
			if !o.logger.Enabled(context.Background(), o.level) {
				next.Serve(w, r)
				return
			}
			start := time.Now()
			w.OnFinish(func(w *kahttp.Response) {
				keep := w.KeepAlive() && !wantsClose(w.Header().Get("Connection"))
				attrs := []slog.Attr{
					slog.String("method", strings.Clone(r.Method())),
					slog.String("path", strings.Clone(r.Path())),
					slog.Int("status", w.Status()),
					slog.Int64("bytes", w.Sent()),
					slog.Duration("duration", time.Since(start)),
					slog.String("remote", addr(r)),
					slog.Bool("keep_alive", keep),
				}
				for _, f := range o.attrs {
					attrs = append(attrs, f(w, r)...)
				}
				o.logger.LogAttrs(context.Background(), o.level, "request", attrs...)
			})
			next.Serve(w, r)
		})
	}
}
