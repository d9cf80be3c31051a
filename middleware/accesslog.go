package middleware

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/kahttp/kahttp"
)

// AccessLog logs one line per request when the handler returns, with the
// attributes method, path, status, bytes (body bytes written), duration,
// remote (address) and keep_alive (whether the connection stays open, as
// known when the handler returns: the server may still close it, e.g. on
// shutdown or a write error).
//
// WithAttrs and WithValue add attributes, such as the values middleware
// set on the request (a request id, the user).
//
// The strings logged are copies: a slog.Handler may keep them past the
// request. A panic that goes through AccessLog is logged (status 500, or
// the status sent if the head was out, keep_alive false) and goes on up.
func AccessLog(opts ...Option) kahttp.Middleware {
	o := build(opts)
	return func(next kahttp.Handler) kahttp.Handler {
		return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
			start := time.Now()
			defer func() {
				if !o.logger.Enabled(context.Background(), o.level) {
					return
				}
				status, keep := w.Status(), w.KeepAlive() && !wantsClose(w.Header().Get("Connection"))
				v := recover()
				if v != nil {
					// The server answers 500 (or cuts the response) and closes.
					keep = false
					if !w.HeadSent() {
						status = kahttp.StatusInternalServerError
					}
				}
				attrs := []slog.Attr{
					slog.String("method", strings.Clone(r.Method())),
					slog.String("path", strings.Clone(r.Path())),
					slog.Int("status", status),
					slog.Int64("bytes", w.Written()),
					slog.Duration("duration", time.Since(start)),
					slog.String("remote", addr(r)),
					slog.Bool("keep_alive", keep),
				}
				for _, f := range o.attrs {
					attrs = append(attrs, f(w, r)...)
				}
				o.logger.LogAttrs(context.Background(), o.level, "request", attrs...)
				if v != nil {
					panic(v)
				}
			}()
			next.Serve(w, r)
		})
	}
}
