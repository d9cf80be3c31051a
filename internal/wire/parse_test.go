package wire

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// result is what a successful Parse tells the server, as plain values so
// cases can state it literally and failures print readably.
type result struct {
	N         int // bytes consumed; 0 in a want means len(raw)
	Method    string
	Target    string // "" in a want means "not checked"
	Path      string
	Query     string
	Minor     uint8
	Host      string
	Fields    []string // "Name: Value"
	CL        int64    // r.ContentLength after Parse (-1: none; decoded length when chunked)
	Chunked   bool
	Body      string
	Trailers  []string
	Close     bool
	KeepAlive bool
	Expect100 bool
	Escaped   bool
}

func summarize(buf []byte, r *Request, n int) result {
	s := func(sp Span) string { return string(sp.Of(buf)) }
	res := result{
		N: n, Method: s(r.Method), Target: s(r.Target), Path: s(r.Path), Query: s(r.Query),
		Minor: r.Minor, Host: s(r.Host), CL: r.ContentLength, Chunked: r.Chunked, Body: s(r.Body),
		Close: r.ConnClose, KeepAlive: r.ConnKeepAlive, Expect100: r.Expect100, Escaped: r.PathEscaped,
	}
	for _, f := range r.Fields {
		res.Fields = append(res.Fields, s(f.Name)+": "+s(f.Value))
	}
	for _, f := range r.Trailers {
		res.Trailers = append(res.Trailers, s(f.Name)+": "+s(f.Value))
	}
	return res
}

func limOf(l *Limits) *Limits {
	if l == nil {
		return &DefaultLimits
	}
	return l
}

// parseWhole parses a private copy of raw with a fresh Request.
func parseWhole(raw string, lim *Limits) ([]byte, *Request, int, error) {
	buf := []byte(raw)
	r := new(Request)
	r.Reset()
	n, err := Parse(buf, r, lim)
	return buf, r, n, err
}

func (c validCase) expected() result {
	w := c.want
	if w.N == 0 {
		w.N = len(c.raw)
	}
	return w
}

func checkValid(t *testing.T, want result, buf []byte, r *Request, n int, err error) {
	t.Helper()
	require.NoError(t, err)
	got := summarize(buf, r, n)
	if want.Target == "" {
		want.Target = got.Target
	}
	assert.Equal(t, want, got)
	assert.Equal(t, int(r.Body.Off), r.HeadEnd, "body starts at HeadEnd")
	checkSpans(t, r, n)
}

// checkSpans checks that every span of a parsed request lies inside the
// request, in wire order.
func checkSpans(t testing.TB, r *Request, n int) {
	t.Helper()
	ok := func(s Span, lo, hi int, what string) {
		t.Helper()
		if !(lo <= int(s.Off) && s.Off <= s.End && int(s.End) <= hi) {
			t.Fatalf("%s span %v outside [%d,%d]", what, s, lo, hi)
		}
	}
	ok(r.Method, 0, n, "method")
	require.Positive(t, r.Method.Len())
	ok(r.Target, int(r.Method.End)+1, r.HeadEnd, "target")
	ok(r.Path, int(r.Target.Off), int(r.Target.End), "path")
	if r.Query != (Span{}) { // absent: the zero Span
		ok(r.Query, int(r.Path.End), int(r.Target.End), "query")
	}
	prev := int(r.Target.End)
	for _, f := range r.Fields {
		ok(f.Name, prev, r.HeadEnd, "field name")
		ok(f.Value, int(f.Name.End)+1, r.HeadEnd, "field value")
		require.Positive(t, f.Name.Len())
		prev = int(f.Value.End)
	}
	if r.Host != (Span{}) {
		ok(r.Host, int(r.Target.End), r.HeadEnd, "host")
	}
	ok(r.Body, r.HeadEnd, n, "body")
	require.LessOrEqual(t, r.HeadEnd, n)
	if !r.Chunked {
		require.Equal(t, n, int(r.Body.End), "unchunked body ends the request")
		require.Empty(t, r.Trailers)
	}
	prev = int(r.Body.End)
	for _, f := range r.Trailers {
		ok(f.Name, prev, n, "trailer name")
		ok(f.Value, int(f.Name.End)+1, n, "trailer value")
		prev = int(f.Value.End)
	}
}

func TestParseValid(t *testing.T) {
	for _, c := range validCases {
		t.Run(c.name, func(t *testing.T) {
			buf, r, n, err := parseWhole(c.raw, limOf(c.lim))
			checkValid(t, c.expected(), buf, r, n, err)
		})
	}
}

func TestParseInvalid(t *testing.T) {
	for _, c := range badCases {
		t.Run(c.name, func(t *testing.T) {
			_, _, n, err := parseWhole(c.raw, limOf(c.lim))
			require.Error(t, err)
			var e *Error
			require.ErrorAs(t, err, &e, "got %v", err)
			assert.Equal(t, c.status, e.Status, "status (%s)", e.Reason)
			assert.Same(t, c.err, e, "want %q, got %q", c.err.Reason, e.Reason)
			assert.Zero(t, n)
			if c.failAt > 0 {
				_, _, _, err := parseWhole(c.raw[:c.failAt], limOf(c.lim))
				assert.Same(t, c.err, err, "prefix of %d bytes must already fail", c.failAt)
				_, _, _, err = parseWhole(c.raw[:c.failAt-1], limOf(c.lim))
				assert.Same(t, ErrNeedMore, err, "prefix of %d bytes must still need more", c.failAt-1)
			}
		})
	}
}

func TestParseIncomplete(t *testing.T) {
	for _, c := range incompleteCases {
		t.Run(c.name, func(t *testing.T) {
			_, _, n, err := parseWhole(c.raw, &DefaultLimits)
			assert.Same(t, ErrNeedMore, err)
			assert.Zero(t, n)
		})
	}
}

// outcome is a comparable record of a Parse call, for the incremental checks.
type outcome struct {
	err error
	res result
}

func (o outcome) String() string {
	if o.err != nil {
		return o.err.Error()
	}
	return fmt.Sprintf("%+v", o.res)
}

// feedBytes parses raw fed one byte at a time into a buffer that grows in
// place, as a connection would deliver it: each prefix is parsed, resuming
// the same Request after ErrNeedMore with HeadEnd > 0 when resume is set,
// and from a Reset one otherwise. It stops at the first result that is not
// ErrNeedMore. every is called on each ErrNeedMore prefix length.
func feedBytes(raw []byte, lim *Limits, resume bool) (outcome, int) {
	buf := make([]byte, 0, len(raw))
	r := new(Request)
	r.Reset()
	for k := 0; k <= len(raw); k++ {
		buf = buf[:k]
		if k > 0 {
			buf[k-1] = raw[k-1]
		}
		if !resume || r.HeadEnd == 0 {
			r.Reset()
		}
		n, err := Parse(buf, r, lim)
		if err == ErrNeedMore {
			continue
		}
		if err != nil {
			return outcome{err: err}, k
		}
		return outcome{res: summarize(buf, r, n)}, k
	}
	return outcome{err: ErrNeedMore}, len(raw)
}

func wholeOutcome(raw []byte, lim *Limits) outcome {
	buf := bytes.Clone(raw)
	r := new(Request)
	r.Reset()
	n, err := Parse(buf, r, lim)
	if err != nil {
		return outcome{err: err}
	}
	return outcome{res: summarize(buf, r, n)}
}

func TestParseByteByByte(t *testing.T) {
	for _, c := range validCases {
		t.Run(c.name, func(t *testing.T) {
			want := c.expected()
			for _, resume := range []bool{false, true} {
				got, at := feedBytes([]byte(c.raw), limOf(c.lim), resume)
				require.NoError(t, got.err, "resume=%v: prefix of %d bytes", resume, at)
				require.Equal(t, want.N, at, "resume=%v: completes at", resume)
				if want.Target == "" {
					want.Target = got.res.Target
				}
				require.Equal(t, want, got.res, "resume=%v", resume)
			}
		})
	}
	for _, c := range badCases {
		t.Run(c.name, func(t *testing.T) {
			for _, resume := range []bool{false, true} {
				got, at := feedBytes([]byte(c.raw), limOf(c.lim), resume)
				require.Same(t, c.err, got.err, "resume=%v: fed byte by byte, failed at %d with %v", resume, at, got.err)
				if c.failAt > 0 {
					require.Equal(t, c.failAt, at, "resume=%v", resume)
				}
			}
		})
	}
}

// TestParseSplit splits each valid request in two at every position: the
// first part must need more, and the whole must parse as in one piece,
// resuming the Request when the head was complete.
func TestParseSplit(t *testing.T) {
	for _, c := range validCases {
		t.Run(c.name, func(t *testing.T) {
			want := c.expected()
			lim := limOf(c.lim)
			r := new(Request)
			for k := 0; k < want.N; k++ {
				buf := []byte(c.raw)
				r.Reset()
				_, err := Parse(buf[:k], r, lim)
				require.Same(t, ErrNeedMore, err, "split at %d", k)
				if r.HeadEnd == 0 {
					r.Reset()
				}
				n, err := Parse(buf, r, lim)
				checkValid(t, want, buf, r, n, err)
			}
		})
	}
}

// pipelineCases are the valid cases a pipeline is built from: those whose
// request is all of raw, under the default limits.
func pipelineCases() []validCase {
	var cs []validCase
	for _, c := range validCases {
		if c.lim == nil && c.expected().N == len(c.raw) {
			cs = append(cs, c)
		}
	}
	return cs
}

func TestParsePipeline(t *testing.T) {
	cs := pipelineCases()
	require.NotEmpty(t, cs)
	for _, count := range []int{16, 100} {
		t.Run(fmt.Sprint(count), func(t *testing.T) {
			var raw []byte
			for i := 0; i < count; i++ {
				raw = append(raw, cs[i%len(cs)].raw...)
			}
			r := new(Request)
			off := 0
			for i := 0; i < count; i++ {
				c := cs[i%len(cs)]
				r.Reset()
				n, err := Parse(raw[off:], r, &DefaultLimits)
				checkValid(t, c.expected(), raw[off:], r, n, err)
				off += n
			}
			require.Equal(t, len(raw), off)
			r.Reset()
			_, err := Parse(raw[off:], r, &DefaultLimits)
			require.Same(t, ErrNeedMore, err)
		})
	}
}

// TestParseTrailingBytes: bytes after a complete request never change it.
func TestParseTrailingBytes(t *testing.T) {
	for _, c := range validCases {
		want := c.expected()
		for _, more := range []string{"", "\r\n", "GET / HTTP/1.1\r\n", "\x00\xff garbage"} {
			raw := c.raw[:want.N] + more
			buf, r, n, err := parseWhole(raw, limOf(c.lim))
			checkValid(t, want, buf, r, n, err)
		}
	}
}

func TestParseErrNeedMoreIsNotAnError(t *testing.T) {
	var e *Error
	assert.False(t, errors.As(ErrNeedMore, &e))
	assert.Equal(t, "wire: bare CR", ErrBareCR.Error())
}

func TestTokensEqualFold(t *testing.T) {
	var got []string
	Tokens([]byte(" a ,, b\t,c d ,"), func(tok []byte) bool { got = append(got, string(tok)); return true })
	assert.Equal(t, []string{"a", "b", "c d"}, got)
	got = nil
	Tokens([]byte("a,b,c"), func(tok []byte) bool { got = append(got, string(tok)); return len(got) < 2 })
	assert.Equal(t, []string{"a", "b"}, got)
	Tokens(nil, func([]byte) bool { t.Fatal("no tokens in nil"); return true })

	assert.True(t, EqualFold([]byte("Keep-ALIVE"), "keep-alive"))
	assert.False(t, EqualFold([]byte("keep-alive "), "keep-alive"))
	assert.False(t, EqualFold([]byte("k"), "c"))
	for c := 0; c < 256; c++ {
		assert.Equal(t, strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) ||
			'0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z', IsToken(byte(c)), "IsToken(%q)", c)
		want := -1
		switch {
		case '0' <= c && c <= '9':
			want = c - '0'
		case 'a' <= c && c <= 'f':
			want = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			want = c - 'A' + 10
		}
		assert.Equal(t, want, HexValue(byte(c)), "HexValue(%q)", c)
	}
}

// TestParseReuseWithoutReset: only an ErrNeedMore with the head known is
// resumed; a Request reused after a result or an error starts afresh.
func TestParseReuseWithoutReset(t *testing.T) {
	post := "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
	get := "GET /g HTTP/1.1\r\nHost: b\r\n\r\n"
	noHost := "GET /x HTTP/1.1\r\nX: y\r\n\r\n"
	r := new(Request)
	r.Reset()

	n, err := Parse([]byte(post), r, &DefaultLimits)
	require.NoError(t, err)
	require.Equal(t, len(post), n)
	buf := []byte(get)
	n, err = Parse(buf, r, &DefaultLimits) // no Reset
	require.NoError(t, err)
	assert.Equal(t, len(get), n)
	assert.Equal(t, "/g", string(r.Path.Of(buf)))
	assert.Equal(t, int64(-1), r.ContentLength)

	_, err = Parse([]byte(noHost), r, &DefaultLimits)
	require.Same(t, ErrNoHost, err)
	require.Positive(t, r.HeadEnd, "the head was read before Host was missed")
	buf = []byte(get)
	n, err = Parse(buf, r, &DefaultLimits)
	require.NoError(t, err)
	assert.Equal(t, len(get), n)
	assert.Equal(t, "/g", string(r.Path.Of(buf)))

	// A 413 after the head is known: the next request starts afresh too.
	_, err = Parse([]byte("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffff\r\n"), r, &DefaultLimits)
	require.Same(t, ErrBodyTooLarge, err)
	buf = []byte(get)
	n, err = Parse(buf, r, &DefaultLimits)
	require.NoError(t, err)
	assert.Equal(t, len(get), n)
}

func TestParseNilLimits(t *testing.T) {
	r := new(Request)
	n, err := Parse([]byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), r, nil)
	require.NoError(t, err)
	assert.Equal(t, 27, n)
	_, err = Parse([]byte("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4194305\r\n\r\n"), r, nil)
	assert.Same(t, ErrBodyTooLarge, err, "nil means DefaultLimits")
}

func TestWant(t *testing.T) {
	head := "POST / HTTP/1.1\r\nHost: a\r\n"
	tests := []struct {
		name string
		raw  string
		want int
	}{
		{"Content-Length body arriving", head + "Content-Length: 10\r\n\r\nabc", len(head) + len("Content-Length: 10\r\n\r\n") + 10},
		{"chunk data arriving", head + "Transfer-Encoding: chunked\r\n\r\n" + "a\r\nabc",
			len(head) + len("Transfer-Encoding: chunked\r\n\r\n") + len("a\r\n") + 10 + 2},
		{"a chunk-size line arriving", head + "Transfer-Encoding: chunked\r\n\r\n" + "a", 0},
		{"trailers arriving", head + "Transfer-Encoding: chunked\r\n\r\n" + "0\r\nX: 1\r\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Request
			r.Reset()
			_, err := Parse([]byte(tt.raw), &r, nil)
			require.Equal(t, ErrNeedMore, err)
			assert.Equal(t, tt.want, r.Want())
		})
	}
}

// valueEnd stops where a byte-by-byte scan does: every byte value, at
// every position of a value long enough for several words, and at its end.
func TestValueEndMatchesByteScan(t *testing.T) {
	naive := func(buf []byte, i int) int {
		for i < len(buf) && valueTable[buf[i]] {
			i++
		}
		return i
	}
	base := []byte("Mozilla/5.0 (X11; Linux x86_64) \xc3\xa9 rv:109.0 Gecko/20100101")
	for n := 0; n <= len(base); n++ {
		for pos := 0; pos < n; pos++ {
			for c := 0; c < 256; c++ {
				buf := append([]byte(nil), base[:n]...)
				buf[pos] = byte(c)
				for _, start := range []int{0, 1, 7} {
					if start > n {
						continue
					}
					if got, want := valueEnd(buf, start), naive(buf, start); got != want {
						t.Fatalf("%q from %d: valueEnd %d, byte scan %d", buf, start, got, want)
					}
				}
			}
		}
	}
}

// HasLineBreak finds a CR or LF wherever it is, whatever surrounds it.
func TestHasLineBreak(t *testing.T) {
	base := "text/html; charset=utf-8, \xc3\xa9\ttabbed, max-age=3600, public"
	for n := 0; n <= len(base); n++ {
		assert.False(t, HasLineBreak(base[:n]), "%q", base[:n])
		for pos := 0; pos < n; pos++ {
			for c := 0; c < 256; c++ {
				b := []byte(base[:n])
				b[pos] = byte(c)
				want := bytes.ContainsAny(b, "\r\n")
				if got := HasLineBreak(string(b)); got != want {
					t.Fatalf("%q: HasLineBreak %v, want %v", b, got, want)
				}
			}
		}
	}
}
