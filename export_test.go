package kahttp

import (
	"errors"

	"github.com/kahttp/kahttp/internal/wire"
)

// ChunkedBodyCase is a chunked body of the differential test
// (body_grammar_test.go), for the raw-socket test against examples/hello:
// the status the parser gives it with the default limits (0: it waits for
// more) and the body it decodes.
type ChunkedBodyCase struct {
	Body, Decoded string
	Status        int
}

func ChunkedBodyCases() []ChunkedBodyCase {
	var cases []ChunkedBodyCase
	for _, body := range chunkedBodies() {
		raw := []byte(chunkedTestHead + body)
		var r wire.Request
		r.Reset()
		_, err := wire.Parse(raw, &r, &wire.DefaultLimits)
		c := ChunkedBodyCase{Body: body}
		var we *wire.Error
		switch {
		case err == nil:
			c.Status, c.Decoded = 200, string(r.Body.Of(raw))
		case errors.As(err, &we):
			c.Status = we.Status
		}
		cases = append(cases, c)
	}
	return cases
}

// FileServerKeys are the names a FileServer remembers something by: its
// ETag hashes, its sibling answers and its cache.
func FileServerKeys(h Handler) []string {
	s := h.(*fileServer)
	var keys []string
	collect := func(k, _ any) bool { keys = append(keys, k.(string)); return true }
	s.hashes.Range(collect)
	s.siblings.Range(collect)
	if s.cache != nil {
		s.cache.m.Range(collect)
	}
	return keys
}
