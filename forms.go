package kahttp

import (
	"bytes"
	"iter"
	"net/url"
	"strconv"
	"strings"
)

// Query values and urlencoded forms. The iterators and *Value methods
// return views, as the rest of Request (valid until the handler returns,
// no allocation); PostForm returns copies.

// pairs yields the raw key and value of each '&'-separated pair of an
// urlencoded string (a query, a form body), empty pairs skipped.
func pairs(q []byte) iter.Seq2[[]byte, []byte] {
	return func(yield func([]byte, []byte) bool) {
		for len(q) > 0 {
			var pair []byte
			if i := bytes.IndexByte(q, '&'); i >= 0 {
				pair, q = q[:i], q[i+1:]
			} else {
				pair, q = q, nil
			}
			if len(pair) == 0 {
				continue
			}
			key, val := pair, []byte(nil)
			if i := bytes.IndexByte(pair, '='); i >= 0 {
				key, val = pair[:i], pair[i+1:]
			}
			if !yield(key, val) {
				return
			}
		}
	}
}

// Queries yields every query parameter, decoded, in the order sent;
// repeated names come as often as sent.
func (r *Request) Queries() iter.Seq2[string, string] {
	return r.decodedPairs(r.w.Query.Of(r.buf))
}

func (r *Request) decodedPairs(q []byte) iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for k, v := range pairs(q) {
			if !yield(r.unescape(k), r.unescape(v)) {
				return
			}
		}
	}
}

// QueryAll returns every value of the query parameter name, decoded, in the
// order sent ("?tag=a&tag=b": ["a" "b"]); nil if there is none. The
// strings are views; the slice is the only allocation.
func (r *Request) QueryAll(name string) []string {
	return r.allValues(r.w.Query.Of(r.buf), name)
}

func (r *Request) allValues(q []byte, name string) []string {
	var vs []string
	for k, v := range pairs(q) {
		if r.unescapeEqual(k, name) {
			vs = append(vs, r.unescape(v))
		}
	}
	return vs
}

// isForm reports whether the body is application/x-www-form-urlencoded.
func (r *Request) isForm() bool {
	return strings.EqualFold(r.mediaType(), "application/x-www-form-urlencoded")
}

// PostFormValue returns the first value of the field name in an urlencoded
// form body (Content-Type application/x-www-form-urlencoded), decoded; ""
// if there is none or the body is not such a form.
func (r *Request) PostFormValue(name string) string {
	if !r.isForm() {
		return ""
	}
	for k, v := range pairs(r.Body()) {
		if r.unescapeEqual(k, name) {
			return r.unescape(v)
		}
	}
	return ""
}

// PostFormValues returns every value of the field name in an urlencoded
// form body, in order; nil if none or the body is not such a form.
func (r *Request) PostFormValues(name string) []string {
	if !r.isForm() {
		return nil
	}
	return r.allValues(r.Body(), name)
}

// FormValue is PostFormValue if the form body has name, else Query, as
// net/http's FormValue (body first).
func (r *Request) FormValue(name string) string {
	if r.isForm() {
		for k, v := range pairs(r.Body()) {
			if r.unescapeEqual(k, name) {
				return r.unescape(v)
			}
		}
	}
	return r.Query(name)
}

// PostForm parses an urlencoded form body with net/url into copies (they
// may be kept). A *RequestError says what the client got wrong: 415 when
// the Content-Type is not application/x-www-form-urlencoded, 400 when the
// body is not valid urlencoding (a bad %-escape, a ';').
func (r *Request) PostForm() (url.Values, error) {
	if !r.isForm() {
		return nil, &RequestError{Status: StatusUnsupportedMediaType,
			Reason: "Content-Type " + strconv.Quote(r.Header("Content-Type")) + " is not application/x-www-form-urlencoded"}
	}
	body, err := r.wholeBody(0)
	if err != nil {
		return nil, err
	}
	vs, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, &RequestError{Status: StatusBadRequest, Reason: "malformed form body: " + err.Error(), Err: err}
	}
	return vs, nil
}
