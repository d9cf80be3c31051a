package middleware

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"

	"github.com/kahttp/kahttp"
)

// RequestIDKey is the request value (Request.Value) under which RequestID
// puts the request's id, a string: AccessLog logs it with
// WithValue("request_id", middleware.RequestIDKey{}).
type RequestIDKey struct{}

// RequestID gives every request an id and sends it back in X-Request-Id:
// the one the client (or a proxy before the server) sent, when it is a
// sane token (1 to 64 of A-Z a-z 0-9 . _ -), else a new one, unique in
// the process ("<8 random hex digits>-<counter>"). Read it with
// RequestIDOf. Set it outermost, so that every answer, the server's own
// included (an ErrorWriter's), carries it.
func RequestID() kahttp.Middleware {
	return func(next kahttp.Handler) kahttp.Handler {
		return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
			id := r.Header("X-Request-Id")
			if !saneID(id) {
				id = newRequestID()
			}
			r.SetValue(RequestIDKey{}, id)
			w.Header().Set("X-Request-Id", id)
			next.Serve(w, r)
		})
	}
}

// RequestIDOf is the request's id (RequestID), "" without one. It is a
// view into the request when the client sent it: copy it to keep it.
func RequestIDOf(r *kahttp.Request) string {
	id, _ := kahttp.ValueOf[string](r, RequestIDKey{})
	return id
}

// idPrefix tells this process's ids from another's (after a restart, or
// beside it behind a balancer).
var idPrefix = func() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:]) + "-"
}()

var idCounter atomic.Uint64

func newRequestID() string {
	return idPrefix + strconv.FormatUint(idCounter.Add(1), 10)
}

func saneID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}
