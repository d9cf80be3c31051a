package wire

import "strings"

// Credentials cuts an Authorization value's scheme (RFC 9110 §11.4): the
// credentials after "scheme " when the value starts with it, the scheme
// compared case-insensitively and spaces after it skipped. Request.BasicAuth
// and middleware.BearerAuth both read the field through it.
func Credentials(v, scheme string) (string, bool) {
	if len(v) <= len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) || v[len(scheme)] != ' ' {
		return "", false
	}
	return strings.TrimLeft(v[len(scheme)+1:], " "), true
}
