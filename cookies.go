package kahttp

import (
	"net/http"
	"strings"
)

// Cookies are net/http's: the same http.Cookie type, parsed and formatted
// by net/http, so every attribute (Path, Domain, Expires, MaxAge, Secure,
// HttpOnly, SameSite, Partitioned) and every rule of RFC 6265 is its.

// Cookies returns the cookies the request sent (every Cookie field), parsed
// by net/http as http.Request.Cookies does: malformed pairs are skipped.
// They are copies: they may be kept.
func (r *Request) Cookies() []*http.Cookie { return r.cookieRequest().Cookies() }

// Cookie returns the first cookie named name, or http.ErrNoCookie.
func (r *Request) Cookie(name string) (*http.Cookie, error) {
	return r.cookieRequest().Cookie(name)
}

// cookieRequest is an http.Request holding copies of r's Cookie fields,
// for net/http's parser.
func (r *Request) cookieRequest() *http.Request {
	var lines []string
	for k, v := range r.Headers() {
		if strings.EqualFold(k, "Cookie") {
			lines = append(lines, strings.Clone(v))
		}
	}
	return &http.Request{Header: http.Header{"Cookie": lines}}
}

// SetCookie adds a Set-Cookie field for c, formatted by net/http
// (http.Cookie.String). A cookie net/http finds invalid (http.Cookie.Valid:
// a bad name, value, path, domain or expiry) is not sent, and its error is
// returned.
func (w *Response) SetCookie(c *http.Cookie) error {
	if err := c.Valid(); err != nil {
		return err
	}
	w.Header().Add("Set-Cookie", c.String())
	return nil
}
