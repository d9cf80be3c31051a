package middleware

import (
	"context"
	"log/slog"

	"github.com/kahttp/kahttp"
)

// LogRefusals returns a kahttp.Config.OnRefusal hook that logs every
// answer the server sends on its own (a malformed or oversized request, a
// header timeout, a full worker pool, an unrecovered panic), which no
// middleware sees, as AccessLog logs requests: message "request", with
// the attributes status, reason, remote and refused=true, at AccessLog's
// level (WithLogger and WithLevel apply; the other options do not).
//
//	srv := kahttp.NewServer(rt, kahttp.Config{OnRefusal: middleware.LogRefusals(middleware.WithLogger(l))})
func LogRefusals(opts ...Option) func(kahttp.Refusal) {
	o := build(opts)
	return func(rf kahttp.Refusal) {
		if !o.logger.Enabled(context.Background(), o.level) {
			return
		}
		remote := ""
		if rf.Remote != nil {
			remote = rf.Remote.String()
		}
		o.logger.LogAttrs(context.Background(), o.level, "request",
			slog.Int("status", rf.Status),
			slog.String("reason", rf.Reason),
			slog.String("remote", remote),
			slog.Bool("refused", true))
	}
}
