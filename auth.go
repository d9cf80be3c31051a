package kahttp

import (
	"encoding/base64"
	"strings"
)

// BasicAuth returns the user name and password the request carries in
// "Authorization: Basic …" (RFC 7617), as net/http's does; ok is false
// without one, or when it is malformed. The strings are the request's own
// copies (the field is base64): they may be kept.
func (r *Request) BasicAuth() (user, password string, ok bool) {
	v := r.Header("Authorization")
	const scheme = "Basic "
	if len(v) < len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return "", "", false
	}
	b, err := base64.StdEncoding.DecodeString(v[len(scheme):])
	if err != nil {
		return "", "", false
	}
	user, password, ok = strings.Cut(string(b), ":")
	return user, password, ok
}
