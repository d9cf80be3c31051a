// Package middleware holds the kahttp middleware every service needs:
// Recover and AccessLog (log/slog), LogRefusals for the answers the server
// sends without a handler, CORS, RequestID, BearerAuth and BasicAuth
// (constant-time checks: Tokens, Users), Timeout, RealIP (the client's
// address from trusted proxies' forwarding fields), and Compress. Each passes a
// request it has nothing to do with without allocating.
package middleware

import (
	"log/slog"
	"strings"

	"github.com/kahttp/kahttp"
)

// Option configures a middleware.
type Option func(*options)

type options struct {
	logger  *slog.Logger
	level   slog.Level
	attrs   []func(w *kahttp.Response, r *kahttp.Request) []slog.Attr
	respond func(w *kahttp.Response, r *kahttp.Request, v any)
}

// WithLogger sets the logger (default: slog.Default() when the middleware is built).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithLevel sets the level of AccessLog's lines (default: slog.LevelInfo).
// Recover always logs at slog.LevelError.
func WithLevel(l slog.Level) Option { return func(o *options) { o.level = l } }

// WithAttrs adds attributes to AccessLog's lines: f runs once the response
// is complete, so it sees the values inner middleware and the handler set
// (Request.Value), and the status sent. Its attributes follow the
// standard ones. A slog.Handler may keep what it is given: copy strings
// taken from the request (strings.Clone). Options of the same kind add up.
func WithAttrs(f func(w *kahttp.Response, r *kahttp.Request) []slog.Attr) Option {
	return func(o *options) { o.attrs = append(o.attrs, f) }
}

// WithValue logs the request's value for key (Request.SetValue) as the
// attribute name, when it is set: a request id, the authenticated user. A
// string value is copied first.
func WithValue(name string, key any) Option {
	return WithAttrs(func(w *kahttp.Response, r *kahttp.Request) []slog.Attr {
		v := r.Value(key)
		if v == nil {
			return nil
		}
		if s, ok := v.(string); ok {
			v = strings.Clone(s)
		}
		return []slog.Attr{slog.Any(name, v)}
	})
}

// WithResponder sets how Recover answers a panic when nothing of the
// response was written yet (by default: 500, text). When respond runs, the
// header fields the handler set are gone and Connection: close is set (the
// handler's state is unknown: the connection is not reused); the status is
// respond's to set (w.WriteHeader, or w.JSON(500, ...)), 500 if it sets
// none. v is the panic's value. A panic in respond goes to the server,
// which answers with its own 500.
func WithResponder(respond func(w *kahttp.Response, r *kahttp.Request, v any)) Option {
	return func(o *options) { o.respond = respond }
}

func build(opts []Option) options {
	o := options{level: slog.LevelInfo}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	return o
}
