package kahttp

import (
	"errors"

	"github.com/kahttp/kahttp/internal/wire"
)

// RequestError is a request the server refuses, with the status it answers.
//
// The helpers that read a request (DecodeJSON, PostForm) return it too, with
// the status to answer (400, 413, 415) and a message fit for the client;
// Err is the underlying error, if any (errors.As reaches it).
type RequestError struct {
	Status int
	Reason string
	Err    error
}

func (e *RequestError) Error() string {
	return "kahttp: " + itoa64(int64(e.Status)) + " " + StatusText(e.Status) + ": " + e.Reason
}

// Unwrap is the underlying error, if any.
func (e *RequestError) Unwrap() error { return e.Err }

// ErrorStatus is the status to answer for err: a RequestError's Status
// (found with errors.As), 500 for any other error, 200 for nil.
func ErrorStatus(err error) int {
	if err == nil {
		return StatusOK
	}
	var re *RequestError
	if errors.As(err, &re) {
		return re.Status
	}
	return StatusInternalServerError
}

// bodyError is err as a *RequestError: the parser's own errors keep their
// status and reason, so a body refused while it streams reads as the same
// body refused held whole.
func bodyError(err error) error {
	var re *RequestError
	if errors.As(err, &re) {
		return err
	}
	var we *wire.Error
	if errors.As(err, &we) {
		return &RequestError{Status: we.Status, Reason: we.Reason}
	}
	return &RequestError{Status: StatusBadRequest, Reason: "request body: " + err.Error(), Err: err}

}
