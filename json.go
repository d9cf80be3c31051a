package kahttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// JSONOptions tunes DecodeJSONWith.
type JSONOptions struct {
	// MaxBytes refuses a larger body with 413 (0: only the server's
	// Config.MaxBodyBytes).
	MaxBytes int64
	// DisallowUnknownFields refuses, with 400, an object with a field the
	// destination struct does not have.
	DisallowUnknownFields bool
	// RequireContentType refuses, with 415, a body sent without a
	// Content-Type. One that is not JSON is always refused.
	RequireContentType bool
}

// DecodeJSON decodes the JSON request body into v (a pointer), with
// encoding/json, as DecodeJSONWith with no options.
func (r *Request) DecodeJSON(v any) error { return r.DecodeJSONWith(v, JSONOptions{}) }

// DecodeJSONWith decodes the JSON request body into v (a pointer). A request
// the client got wrong is a *RequestError whose Status is the answer and
// whose Reason says what is wrong, fit to send back (WriteError does):
//   - 415: a Content-Type that is not application/json or */*+json;
//   - 413: a body past o.MaxBytes;
//   - 400: an empty body, malformed JSON (with the byte offset), a value of
//     the wrong type (with the field), an unknown field when o says so, or
//     more than one JSON value.
//
// Any other error (v not a pointer) is returned as encoding/json gives it.
// Strings decoded into v are copies: they may be kept.
func (r *Request) DecodeJSONWith(v any, o JSONOptions) error {
	switch mt := r.mediaType(); {
	case mt == "" && !o.RequireContentType:
	case !isJSON(mt):
		return &RequestError{Status: StatusUnsupportedMediaType,
			Reason: fmt.Sprintf("Content-Type %q is not JSON (application/json)", r.Header("Content-Type"))}
	}
	body, err := r.wholeBody(o.MaxBytes)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return &RequestError{Status: StatusBadRequest, Reason: "request body is empty, JSON expected"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if o.DisallowUnknownFields {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if rest := bytes.TrimSpace(body[dec.InputOffset():]); len(rest) > 0 {
		return &RequestError{Status: StatusBadRequest,
			Reason: fmt.Sprintf("request body has more than one JSON value (at byte %d)", dec.InputOffset())}
	}
	return nil
}

func isJSON(mt string) bool {
	return strings.EqualFold(mt, "application/json") ||
		(len(mt) > 5 && strings.EqualFold(mt[len(mt)-5:], "+json") && strings.Contains(mt, "/"))
}

// jsonError turns a decoding error into the client's error, when it is one.
func jsonError(err error) error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	bad := func(reason string) error {
		return &RequestError{Status: StatusBadRequest, Reason: reason, Err: err}
	}
	switch {
	case errors.As(err, &syn):
		return bad(fmt.Sprintf("malformed JSON at byte %d: %s", syn.Offset, syn.Error()))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return bad("malformed JSON: the body ends inside a value")
	case errors.As(err, &typ):
		if typ.Field != "" {
			return bad(fmt.Sprintf("JSON field %q must be %s, not %s (at byte %d)", typ.Field, jsonKind(typ.Type), typ.Value, typ.Offset))
		}
		return bad(fmt.Sprintf("JSON value must be %s, not %s (at byte %d)", jsonKind(typ.Type), typ.Value, typ.Offset))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no type for it (golang/go#29035)
		return bad("unknown JSON field " + strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return err
}

// jsonKind names what a Go type takes in JSON terms: the client sees "an
// object", not the server's type name (main.deviceInput).
func jsonKind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a string" // []byte is base64 text
		}
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a value"
}

// JSON answers v encoded as JSON (encoding/json, then a newline, as
// json.Encoder writes it) with status code and Content-Type
// application/json. If v cannot be encoded, nothing is written and the
// error is returned.
func (w *Response) JSON(code int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	// The whole body is known: a large one goes out with its length, not
	// chunked (a Compress in front replaces it with the compressed one's).
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(code)
	if _, err := w.Write(b); err != nil {
		return err
	}
	_, err = w.WriteString("\n")
	return err
}
