package kahttp

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/kahttp/kahttp/internal/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// trickle is a bodySource that hands out its bytes a few at a time, as a
// socket may; written collects what the stream sends (100 Continue).
type trickle struct {
	in      string
	step    int
	written string
}

func (t *trickle) read(p []byte) (int, error) {
	if t.in == "" {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), t.step)], t.in)
	t.in = t.in[n:]
	return n, nil
}

func (t *trickle) write(b []byte) error { t.written += string(b); return nil }

func TestBodyStream(t *testing.T) {
	tests := []struct {
		name      string
		received  string // already in the buffer when the stream starts
		socket    string // still to arrive
		cl        int64
		chunked   bool
		limit     int64
		want      string
		err       int // status of the *RequestError, 0 for none
		rest      string
		trailer   string
		expect100 bool
	}{
		{name: "length, all received", received: "hello" + "GET /", cl: 5, want: "hello", rest: "GET /"},
		{name: "length, from the socket", received: "he", socket: "llo" + "NEXT", cl: 5, want: "hello", rest: "NEXT"},
		{name: "length, cut short", received: "he", socket: "l", cl: 5, err: 400},
		{name: "chunked", received: "5;ext=1\r\nhello\r\n", socket: "6\r\n world\r\n0\r\nX-Sum: 11\r\n\r\nGET /",
			chunked: true, want: "hello world", rest: "GET /", trailer: "11"},
		{name: "chunked, whitespace before an extension", socket: "5 ;a\r\nhello\r\n0\r\n\r\n", chunked: true, want: "hello"},
		{name: "chunked, whitespace after the size", socket: "5 \r\nhello\r\n0\r\n\r\n", chunked: true, err: 400},
		{name: "chunked, lone LF", socket: "5\nhello\r\n0\r\n\r\n", chunked: true, err: 400},
		{name: "chunked, data not followed by CRLF", socket: "5\r\nhelloX\r\n0\r\n\r\n", chunked: true, err: 400},
		{name: "chunked, not hex", socket: "0x5\r\nhello\r\n0\r\n\r\n", chunked: true, err: 400},
		{name: "chunked, past the limit", socket: "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", chunked: true, limit: 8, err: 413},
		{name: "chunked, a size line without end", socket: strings.Repeat("1", 5000), chunked: true, err: 400},
		{name: "100 Continue on the first read", socket: "abc", cl: 3, want: "abc", expect100: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &trickle{in: tt.socket, step: 3}
			limit := tt.limit
			if limit == 0 {
				limit = 1 << 20
			}
			lim := wire.DefaultLimits
			lim.MaxBody = limit
			b := newBodyStream(src, []byte(tt.received), tt.cl, tt.chunked, tt.expect100, &lim)
			defer b.release()
			got, err := io.ReadAll(b)
			if tt.err != 0 {
				var re *RequestError
				require.True(t, errors.As(err, &re), "error %v", err)
				assert.Equal(t, tt.err, re.Status)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
			assert.True(t, b.done())
			// What follows the body: read past it into the buffer, or still
			// in the socket; never handed out as body.
			assert.Equal(t, tt.rest, string(b.rest())+src.in)
			assert.Equal(t, tt.trailer, b.trailer("x-sum"))
			assert.Equal(t, int64(len(tt.want)), b.length())
			if tt.expect100 {
				assert.Equal(t, "HTTP/1.1 100 Continue\r\n\r\n", src.written)
			} else {
				assert.Empty(t, src.written)
			}
		})
	}
}
