package kahttp

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRequest(t *testing.T) {
	r, err := ParseRequest([]byte("POST /a%2Fb?x=1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"))
	require.NoError(t, err)
	assert.Equal(t, "POST", r.Method())
	assert.Equal(t, "/a/b", r.Path())
	assert.Equal(t, "1", r.Query("x"))
	assert.Equal(t, "abc", string(r.Body()))

	_, err = ParseRequest([]byte("GET / HTTP/1.1\r\nHost: h\r\n"))
	assert.ErrorIs(t, err, ErrIncompleteRequest)

	_, err = ParseRequest([]byte("GET / HTTP/2.0\r\nHost: h\r\n\r\n"))
	var re *RequestError
	require.True(t, errors.As(err, &re))
	assert.Equal(t, 505, re.Status)
	assert.Equal(t, "kahttp: 505 HTTP Version Not Supported: HTTP version not supported", err.Error())
}

// Query reads the request's bytes in place: no allocation for a plain
// value, repeated or absent names included.
func TestQueryDoesNotAllocate(t *testing.T) {
	r, err := ParseRequest([]byte("GET /p?a=1&&b=22&a=3&c HTTP/1.1\r\nHost: h\r\n\r\n"))
	require.NoError(t, err)
	assert.Equal(t, "22", r.Query("b"))
	v, ok := r.LookupQuery("c")
	assert.True(t, ok)
	assert.Equal(t, "", v)
	_, ok = r.LookupQuery("zz")
	assert.False(t, ok)
	allocs := testing.AllocsPerRun(100, func() {
		_ = r.Query("a")
		_, _ = r.LookupQuery("zz")
	})
	assert.Zero(t, allocs)
}
