package wire

import (
	"bytes"
	"testing"
)

// fuzzLimits are small enough for the fuzzer to reach every limit.
var fuzzLimits = &Limits{MaxRequestLine: 64, MaxHeaderBytes: 128, MaxFields: 4, MaxBody: 64}

// allErrors are the errors Parse may return besides ErrNeedMore.
var allErrors = []*Error{
	ErrBareCR, ErrTooManyEmptyLines, ErrMethod, ErrRequestLine, ErrTarget, ErrPercent,
	ErrVersion, ErrVersionNotSupp, ErrURITooLong, ErrHeadersTooLarge, ErrTooManyFields,
	ErrObsFold, ErrFieldName, ErrFieldValue, ErrNoHost, ErrManyHosts, ErrHost,
	ErrContentLength, ErrDupContentLength, ErrCLAndTE, ErrTEOnHTTP10, ErrTENotChunked,
	ErrTEUnsupported, ErrExpectation, ErrChunkSize, ErrChunkExt, ErrChunkData, ErrBodyTooLarge,
}

// fuzzSeeds are the shapes the fuzzer starts from, besides every golden case.
var fuzzSeeds = []string{
	"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
	"POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
	chunkedHead + "5;a=b;c=\"q\\\"d\"\r\nhello\r\n0\r\nT: v\r\n\r\n",
	"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\nGET /3 HTTP/1.0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
	"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
	"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n",
	"GET / HTTP/2.0\r\n\r\n",
}

func FuzzParseRequest(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	for _, c := range validCases {
		f.Add([]byte(c.raw))
	}
	for _, c := range badCases {
		f.Add([]byte(c.raw))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkParse(t, in, &DefaultLimits)
		checkParse(t, in, fuzzLimits)
	})
}

// checkParse checks the properties every input must have under lim.
func checkParse(t *testing.T, in []byte, lim *Limits) {
	whole := wholeOutcome(in, lim)

	// The whole parse: bounds, spans, a known error.
	buf := bytes.Clone(in)
	r := new(Request)
	n, err := Parse(buf, r, lim)
	switch {
	case err == nil:
		if n <= 0 || n > len(in) {
			t.Fatalf("n = %d for %d bytes", n, len(in))
		}
		checkSpans(t, r, n)
		if !r.Chunked && !bytes.Equal(r.Body.Of(buf), in[r.HeadEnd:n]) {
			t.Fatalf("body %q is not the bytes after the head", r.Body.Of(buf))
		}
		if r.Chunked && int64(r.Body.Len()) != r.ContentLength {
			t.Fatalf("chunked body of %d bytes, ContentLength %d", r.Body.Len(), r.ContentLength)
		}
		if r.Chunked {
			if want := dechunk(in[r.HeadEnd:n]); !bytes.Equal(r.Body.Of(buf), want) {
				t.Fatalf("decoded body %q, want %q", r.Body.Of(buf), want)
			}
		}
		if int64(r.Body.Len()) > lim.MaxBody {
			t.Fatalf("body of %d bytes passed MaxBody %d", r.Body.Len(), lim.MaxBody)
		}
		if len(r.Fields) > lim.MaxFields || len(r.Trailers) > lim.MaxFields {
			t.Fatalf("%d fields, %d trailers passed MaxFields", len(r.Fields), len(r.Trailers))
		}
		if !bytes.Equal(buf[:r.HeadEnd], in[:r.HeadEnd]) || !bytes.Equal(buf[n:], in[n:]) {
			t.Fatal("Parse wrote outside the body")
		}
	case err == ErrNeedMore:
		if n != 0 {
			t.Fatalf("n = %d with ErrNeedMore", n)
		}
		if !bytes.Equal(buf, in) {
			t.Fatal("ErrNeedMore changed the buffer")
		}
	default:
		if n != 0 {
			t.Fatalf("n = %d with %v", n, err)
		}
		known := false
		for _, e := range allErrors {
			known = known || err == e
		}
		if !known {
			t.Fatalf("unknown error %#v", err)
		}
	}

	// Fed in pieces, byte by byte as the worst case: the same outcome, at
	// the same byte, with a Request resumed as the docs allow or a fresh one.
	if len(in) <= 4096 {
		for _, resume := range []bool{true, false} {
			got, at := feedBytes(in, lim, resume)
			if !sameOutcome(got, whole) {
				t.Fatalf("resume=%v: byte by byte gives %v at %d,\nwhole gives %v", resume, got, at, whole)
			}
			if err == nil && at != n {
				t.Fatalf("resume=%v: byte by byte completes at %d, whole at %d", resume, at, n)
			}
		}
	}

	if err != nil {
		return
	}
	// What follows the request does not change it.
	if got := wholeOutcome(in[:n], lim); !sameOutcome(got, whole) {
		t.Fatalf("the request alone gives %v,\nwith what follows %v", got, whole)
	}
	for _, more := range []string{"\r\n", "GET / HTTP/1.1\r\n\r\n", "\x00"} {
		if got := wholeOutcome(append(bytes.Clone(in), more...), lim); !sameOutcome(got, whole) {
			t.Fatalf("with %q after it gives %v,\nalone %v", more, got, whole)
		}
	}
}

func sameOutcome(a, b outcome) bool {
	if a.err != nil || b.err != nil {
		return a.err == b.err
	}
	return a.String() == b.String()
}

// dechunk is a reference decoder for a chunked body Parse accepted: sizes
// are the hex digits that start each line, data follows the line's LF.
func dechunk(b []byte) []byte {
	var out []byte
	for {
		size := 0
		for ; HexValue(b[0]) >= 0; b = b[1:] {
			size = size*16 + HexValue(b[0])
		}
		b = b[bytes.IndexByte(b, '\n')+1:]
		if size == 0 {
			return out
		}
		out = append(out, b[:size]...)
		b = b[size+2:]
	}
}
