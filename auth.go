package kahttp

import (
	"encoding/base64"
	"strings"

	"github.com/kahttp/kahttp/internal/wire"
)

// BasicAuth returns the user name and password the request carries in
// "Authorization: Basic …" (RFC 7617), as net/http's does; ok is false
// without one, or when it is malformed. The strings are the request's own
// copies (the field is base64): they may be kept.
func (r *Request) BasicAuth() (user, password string, ok bool) {
	cred, ok := wire.Credentials(r.Header("Authorization"), "Basic")
	if !ok {
		return "", "", false
	}
	b, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		return "", "", false
	}
	user, password, ok = strings.Cut(string(b), ":")
	return user, password, ok
}
