package kahttp

import (
	"strconv"
	"strings"
)

// wholeBody is the request body for the helpers that read it whole (JSON,
// forms), refused with 413 past limit (0: no limit of its own; the server
// already holds bodies to Config.MaxBodyBytes). Today the server reads the
// whole body before the handler runs (Request.Body); when bodies stream,
// this is the one place the helpers read them.
func (r *Request) wholeBody(limit int64) ([]byte, error) {
	b := r.Body()
	if r.stream != nil {
		var err error
		if b, err = r.stream.readWhole(); err != nil {
			return nil, err
		}
	}
	if limit > 0 && int64(len(b)) > limit {
		return nil, &RequestError{Status: StatusPayloadTooLarge,
			Reason: "request body larger than " + strconv.FormatInt(limit, 10) + " bytes"}
	}
	return b, nil
}

// mediaType is the request's Content-Type without its parameters, a view
// ("" without one).
func (r *Request) mediaType() string {
	ct := r.Header("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.TrimSpace(ct)
}
