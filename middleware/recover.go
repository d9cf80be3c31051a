package middleware

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/kahttp/kahttp"
)

// Recover turns a panicking handler into an answer, so the server keeps
// serving. The panic is logged at error level with the request and the
// stack (debug.Stack) through the logger.
//
// If nothing of the response was written yet, the client gets 500 (text,
// or what WithResponder writes) with Connection: close. If the handler wrote body bytes or the head was
// already sent, Recover cannot take back what was written: it panics again
// with the same value, and the server (which recovers handler panics itself)
// sends a clean 500 when the head is still unsent, or cuts the response off
// and closes the connection so the client cannot take it for a whole one.
// The server logs that second panic too.
func Recover(opts ...Option) kahttp.Middleware {
	o := build(opts)
	return func(next kahttp.Handler) kahttp.Handler {
		return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				o.logger.LogAttrs(context.Background(), slog.LevelError, "kahttp: handler panic",
					slog.String("panic", fmt.Sprint(v)),
					slog.String("method", r.Method()),
					slog.String("path", strings.Clone(r.Path())),
					slog.String("remote", addr(r)),
					slog.String("stack", string(debug.Stack())))
				if w.HeadSent() || w.Written() > 0 {
					panic(v) // the server aborts the response and closes
				}
				h := w.Header()
				var keys []string
				for k := range h.All() {
					keys = append(keys, k)
				}
				for _, k := range keys {
					h.Del(k)
				}
				h.Set("Connection", "close")
				if o.respond != nil {
					w.WriteHeader(kahttp.StatusInternalServerError) // unless respond sets another
					o.respond(w, r, v)
					return
				}
				h.Set("Content-Type", "text/plain; charset=utf-8")
				w.WriteHeader(kahttp.StatusInternalServerError)
				_, _ = w.WriteString("500 Internal Server Error\n")
			}()
			next.Serve(w, r)
		})
	}
}

func addr(r *kahttp.Request) string {
	if a := r.RemoteAddr(); a != nil {
		return a.String()
	}
	return ""
}

// wantsClose reports whether a Connection field value asks for a close.
func wantsClose(v string) bool { return strings.Contains(strings.ToLower(v), "close") }
