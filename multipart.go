package kahttp

import (
	"mime"
	"mime/multipart"
	"strconv"
	"strings"
)

// MultipartReader reads a multipart/form-data (or other multipart) body
// part by part as it arrives, from BodyReader: a file upload of any size
// (within the route's body limit) goes to disk or a hash without being
// held. A *RequestError says what the client got wrong: 415 when the
// Content-Type is not multipart, 400 when it has no boundary.
func (r *Request) MultipartReader() (*multipart.Reader, error) {
	ct := r.Header("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		return nil, &RequestError{Status: StatusUnsupportedMediaType,
			Reason: "Content-Type " + strconv.Quote(ct) + " is not multipart"}
	}
	boundary := params["boundary"]
	if boundary == "" {
		return nil, &RequestError{Status: StatusBadRequest, Reason: "multipart Content-Type without a boundary"}
	}
	return multipart.NewReader(r.BodyReader(), boundary), nil
}
