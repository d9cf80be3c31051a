package kahttp

import (
	"errors"
	"strconv"
)

// Error answers with status code and message as plain text, as net/http's
// http.Error does: Content-Type text/plain; charset=utf-8,
// X-Content-Type-Options: nosniff, the message and a newline. Header fields
// the handler set are kept, but for Content-Length. Call it before writing
// anything else.
func (w *Response) Error(code int, message string) {
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.WriteString(message)
	_, _ = w.WriteString("\n")
}

// WriteError answers err: a *RequestError (DecodeJSON's, PostForm's) with
// its Status and Reason, anything else with 500 and no detail (an internal
// error's text is for the logs, not the client). The ErrorWriter in effect
// (Config.ErrorWriter, Group.SetErrorWriter) writes it in the
// application's shape; without one, as Error does.
func (w *Response) WriteError(err error) {
	var re *RequestError
	if !errors.As(err, &re) {
		re = &RequestError{Status: StatusInternalServerError}
	}
	w.errorAnswer(re, func() {
		reason := re.Reason
		if reason == "" {
			reason = StatusText(re.Status)
		}
		w.Error(re.Status, reason)
	})
}

// ErrRedirectCode is returned by Redirect for a status that is not a redirect.
var ErrRedirectCode = errors.New("kahttp: redirect status must be 300-303, 307 or 308")

// Redirect answers with a redirect to location (a URL, absolute or
// relative to the request's, sent as given: do not pass it a URL the client
// chose, or the server becomes an open redirect). code is one of 301, 302,
// 303 (after a POST, the client GETs location), 307 and 308 (the method and
// body are kept); 300 too. Any other is ErrRedirectCode, and nothing is
// written. The body is a short text for clients that do not follow.
func (w *Response) Redirect(code int, location string) error {
	switch code {
	case StatusMultipleChoices, StatusMovedPermanently, StatusFound, StatusSeeOther,
		StatusTemporaryRedirect, StatusPermanentRedirect:
	default:
		return ErrRedirectCode
	}
	h := w.Header()
	h.Set("Location", location)
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, err := w.WriteString(strconv.Itoa(code) + " " + StatusText(code) + ": " + location + "\n")
	return err
}
