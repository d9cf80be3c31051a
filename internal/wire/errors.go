package wire

import "errors"

// ErrNeedMore means the buffer holds only the start of a request: wait for more bytes.
var ErrNeedMore = errors.New("wire: incomplete request")

// Error is a request the server must refuse: answer with Status, then close.
type Error struct {
	Status int
	Reason string
}

func (e *Error) Error() string { return "wire: " + e.Reason }

// The errors are values so the hot path never allocates one.
var (
	ErrBareCR            = &Error{400, "bare CR"}
	ErrTooManyEmptyLines = &Error{400, "too many empty lines before the request line"}
	ErrMethod            = &Error{400, "malformed method"}
	ErrRequestLine       = &Error{400, "malformed request line"}
	ErrTarget            = &Error{400, "malformed request-target"}
	ErrPercent           = &Error{400, "malformed percent-encoding in path"}
	ErrVersion           = &Error{400, "malformed HTTP version"}
	ErrVersionNotSupp    = &Error{505, "HTTP version not supported"}
	ErrURITooLong        = &Error{414, "request line too long"}
	ErrHeadersTooLarge   = &Error{431, "header section too large"}
	ErrTooManyFields     = &Error{431, "too many header fields"}
	ErrObsFold           = &Error{400, "obsolete line folding"}
	ErrFieldName         = &Error{400, "malformed header field name"}
	ErrFieldValue        = &Error{400, "invalid character in header field value"}
	ErrNoHost            = &Error{400, "missing Host header"}
	ErrManyHosts         = &Error{400, "more than one Host header"}
	ErrHost              = &Error{400, "malformed Host header"}
	ErrContentLength     = &Error{400, "malformed Content-Length"}
	ErrDupContentLength  = &Error{400, "conflicting Content-Length headers"}
	ErrCLAndTE           = &Error{400, "both Content-Length and Transfer-Encoding"}
	ErrTEOnHTTP10        = &Error{400, "Transfer-Encoding in an HTTP/1.0 request"}
	ErrTENotChunked      = &Error{400, "Transfer-Encoding does not end with chunked"}
	ErrTEUnsupported     = &Error{501, "unsupported Transfer-Encoding"}
	ErrExpectation       = &Error{417, "unsupported expectation"}
	ErrChunkSize         = &Error{400, "malformed chunk size"}
	ErrChunkExt          = &Error{400, "malformed chunk extension"}
	ErrChunkData         = &Error{400, "chunk data not followed by CRLF"}
	ErrBodyTooLarge      = &Error{413, "request body too large"}
)
