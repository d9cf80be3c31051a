package middleware

import (
	"crypto/subtle"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/internal/wire"
)

// BearerAuth lets a request through when it carries
// "Authorization: Bearer <token>" and valid(token) says yes; others get
// 401 with WWW-Authenticate: Bearer realm="<realm>", written by
// Response.WriteError (so an ErrorWriter shapes it). Preflights (OPTIONS)
// carry no credentials: put CORS outside it. valid must be safe for
// concurrent use; Tokens makes one that compares in constant time.
func BearerAuth(realm string, valid func(token string) bool) kahttp.Middleware {
	challenge := `Bearer realm="` + realm + `"`
	return func(next kahttp.Handler) kahttp.Handler {
		return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
			tok, ok := wire.Credentials(r.Header("Authorization"), "Bearer")
			if !ok || tok == "" || !valid(tok) {
				w.Header().Set("WWW-Authenticate", challenge)
				w.WriteError(&kahttp.RequestError{Status: kahttp.StatusUnauthorized, Reason: "a valid Bearer token is required"})
				return
			}
			next.Serve(w, r)
		})
	}
}

// BasicAuth is BearerAuth for HTTP Basic authentication (RFC 7617):
// valid(user, password) decides; Users makes one that compares in
// constant time. Over plain HTTP the password travels in the clear: serve
// it over TLS.
func BasicAuth(realm string, valid func(user, password string) bool) kahttp.Middleware {
	challenge := `Basic realm="` + realm + `", charset="UTF-8"`
	return func(next kahttp.Handler) kahttp.Handler {
		return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
			user, pass, ok := r.BasicAuth()
			if !ok || !valid(user, pass) {
				w.Header().Set("WWW-Authenticate", challenge)
				w.WriteError(&kahttp.RequestError{Status: kahttp.StatusUnauthorized, Reason: "valid credentials are required"})
				return
			}
			next.Serve(w, r)
		})
	}
}

// Tokens is a BearerAuth check that accepts any of tokens, comparing in
// constant time: how long it takes does not tell how much of a guess was
// right.
func Tokens(tokens ...string) func(token string) bool {
	return func(tok string) bool {
		found := 0
		for _, t := range tokens {
			found |= subtle.ConstantTimeCompare([]byte(tok), []byte(t))
		}
		return found == 1
	}
}

// Users is a BasicAuth check against a fixed user → password table,
// comparing in constant time.
func Users(passwords map[string]string) func(user, password string) bool {
	return func(user, password string) bool {
		want, ok := passwords[user]
		match := subtle.ConstantTimeCompare([]byte(password), []byte(want))
		return ok && match == 1
	}
}
