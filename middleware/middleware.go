// Package middleware holds the kahttp middleware every service needs:
// Recover and AccessLog. Both log through log/slog.
package middleware

import "log/slog"

// Option configures a middleware.
type Option func(*options)

type options struct {
	logger *slog.Logger
	level  slog.Level
}

// WithLogger sets the logger (default: slog.Default() when the middleware is built).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithLevel sets the level of AccessLog's lines (default: slog.LevelInfo).
// Recover always logs at slog.LevelError.
func WithLevel(l slog.Level) Option { return func(o *options) { o.level = l } }

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
