package kahttp

import (
	"errors"

	"github.com/kahttp/kahttp/internal/wire"
)

// ErrIncompleteRequest is returned by ParseRequest for a request cut short.
var ErrIncompleteRequest = errors.New("kahttp: incomplete request")

// ParseRequest parses one complete HTTP/1.x request from raw, with the
// server's parser and default limits: for testing handlers and routers, and
// for benchmarks, without a server. The Request's views point into raw,
// which must not change while it is used (a chunked body is decoded in
// place). A malformed request returns an error naming the status the server
// would answer with.
func ParseRequest(raw []byte) (*Request, error) {
	r := &Request{}
	r.w.Reset()
	_, err := wire.Parse(raw, &r.w, &wire.DefaultLimits)
	switch {
	case err == wire.ErrNeedMore:
		return nil, ErrIncompleteRequest
	case err != nil:
		var we *wire.Error
		if errors.As(err, &we) {
			return nil, &RequestError{Status: we.Status, Reason: we.Reason}
		}
		return nil, err
	}
	r.bind(raw)
	return r, nil
}
