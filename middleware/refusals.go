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
		attrs := make([]slog.Attr, 0, 6)
		if rf.Method != "" { // a malformed request has none to trust
			attrs = append(attrs, slog.String("method", rf.Method), slog.String("path", rf.Target))
		}
		attrs = append(attrs, slog.Int("status", rf.Status), slog.String("reason", rf.Reason),
			slog.String("remote", remote), slog.Bool("refused", true))
		o.logger.LogAttrs(context.Background(), o.level, "request", attrs...)
	}
}
