package probe

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Framing is how a response body is delimited on the wire.
type Framing string

// The framings a response can have.
const (
	FramingNone           Framing = "none"            // no body by definition (1xx, 204, 304)
	FramingContentLength  Framing = "content-length"  // Content-Length header
	FramingChunked        Framing = "chunked"         // Transfer-Encoding: chunked
	FramingCloseDelimited Framing = "close-delimited" // body ends when the server closes
)

// Limits bound what the response reader accepts, so a hostile or broken
// server cannot make the tool allocate or read without end.
type Limits struct {
	MaxHeaderBytes int   // status line + headers
	MaxBodyBytes   int64 // body bytes read (and discarded past BodyKeep)
	BodyKeep       int   // body bytes kept in Response.Body
}

// DefaultLimits are used when a zero Limits is given.
var DefaultLimits = Limits{MaxHeaderBytes: 64 << 10, MaxBodyBytes: 64 << 20, BodyKeep: 4 << 10}

// HeaderField is one header line as received.
type HeaderField struct {
	Name  string
	Value string
}

// Response is one HTTP/1.x response as read from the wire.
type Response struct {
	Proto         string // "HTTP/1.1"
	StatusCode    int
	Reason        string
	Header        []HeaderField
	Framing       Framing
	ContentLength int64  // declared Content-Length, -1 when absent
	BodyLen       int64  // body bytes actually read (decoded for chunked)
	Body          []byte // the first Limits.BodyKeep bytes of the body
	Skipped1xx    int    // interim 1xx responses skipped before this one
}

// Get returns the values of all header fields named name (case-insensitive),
// joined with ", ", and whether any was present.
func (r *Response) Get(name string) (string, bool) {
	var vals []string
	for _, f := range r.Header {
		if strings.EqualFold(f.Name, name) {
			vals = append(vals, f.Value)
		}
	}
	return strings.Join(vals, ", "), len(vals) > 0
}

// HasToken reports whether the comma-separated header name contains token
// (case-insensitive), e.g. HasToken("Connection", "close").
func (r *Response) HasToken(name, token string) bool {
	v, _ := r.Get(name)
	for _, t := range strings.Split(v, ",") {
		if strings.EqualFold(strings.TrimSpace(t), token) {
			return true
		}
	}
	return false
}

// ParseError is returned when the bytes received are not a valid HTTP/1.x
// response. It means the server answered garbage.
type ParseError struct {
	Msg  string
	Near string // a quoted excerpt of the offending bytes
}

func (e *ParseError) Error() string {
	if e.Near == "" {
		return "malformed response: " + e.Msg
	}
	return fmt.Sprintf("malformed response: %s near %s", e.Msg, e.Near)
}

// ErrNoResponse means the connection ended (EOF) before any byte of a
// response arrived: the server closed without answering.
var ErrNoResponse = errors.New("connection closed before any response byte")

// ErrTruncated means the connection ended in the middle of a response.
var ErrTruncated = errors.New("connection closed in the middle of a response")

func perr(msg string, near []byte) error {
	if len(near) > 40 {
		near = near[:40]
	}
	q := ""
	if near != nil {
		q = strconv.Quote(string(near))
	}
	return &ParseError{Msg: msg, Near: q}
}

// ReadResponse reads one complete response to a request with the given
// method from br. Interim 1xx responses (except 101) are skipped. Errors are
// ErrNoResponse, ErrTruncated, *ParseError, or the underlying read error
// (timeouts, resets).
func ReadResponse(br *bufio.Reader, method string, lim Limits) (*Response, error) {
	if lim.MaxHeaderBytes <= 0 {
		lim = DefaultLimits
	}
	skipped := 0
	for {
		resp, err := readHead(br, lim, skipped == 0)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != 101 {
			skipped++
			if skipped > 10 {
				return nil, perr("too many 1xx responses", nil)
			}
			continue
		}
		resp.Skipped1xx = skipped
		if err := readBody(br, resp, method, lim); err != nil {
			return resp, err
		}
		return resp, nil
	}
}

// readLine reads one line ending in LF (CR before it is removed), counting
// its bytes against *budget.
func readLine(br *bufio.Reader, budget *int) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		*budget -= len(frag)
		if *budget < 0 {
			return nil, perr("header section too large", nil)
		}
		line = append(line, frag...)
		if err == nil {
			break
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return line, err
	}
	line = line[:len(line)-1]
	line = bytes.TrimSuffix(line, []byte{'\r'})
	return line, nil
}

func readHead(br *bufio.Reader, lim Limits, first bool) (*Response, error) {
	budget := lim.MaxHeaderBytes
	line, err := readLine(br, &budget)
	if err != nil {
		if errors.Is(err, io.EOF) {
			if len(line) == 0 && first {
				return nil, ErrNoResponse
			}
			if len(line) > 0 && !bytes.HasPrefix(line, []byte("HTTP/")) {
				return nil, perr("not an HTTP response", line)
			}
			return nil, ErrTruncated
		}
		return nil, err
	}
	resp := &Response{ContentLength: -1}
	if err := parseStatusLine(line, resp); err != nil {
		return nil, err
	}
	for {
		line, err := readLine(br, &budget)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, ErrTruncated
			}
			return nil, err
		}
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return nil, perr("obsolete header line folding", line)
		}
		name, value, ok := bytes.Cut(line, []byte{':'})
		if !ok || len(name) == 0 || !isToken(name) {
			return nil, perr("bad header line", line)
		}
		resp.Header = append(resp.Header, HeaderField{
			Name:  string(name),
			Value: string(bytes.TrimSpace(value)),
		})
		if len(resp.Header) > 1000 {
			return nil, perr("too many header fields", nil)
		}
	}
	return resp, nil
}

func parseStatusLine(line []byte, resp *Response) error {
	proto, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok || !bytes.HasPrefix(proto, []byte("HTTP/1.")) || len(proto) != 8 ||
		proto[7] < '0' || proto[7] > '9' {
		return perr("bad status line", line)
	}
	code, reason, _ := bytes.Cut(rest, []byte{' '})
	if len(code) != 3 {
		return perr("bad status code", line)
	}
	n, err := strconv.Atoi(string(code))
	if err != nil || n < 100 {
		return perr("bad status code", line)
	}
	resp.Proto, resp.StatusCode, resp.Reason = string(proto), n, string(reason)
	return nil
}

func isToken(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

func readBody(br *bufio.Reader, resp *Response, method string, lim Limits) error {
	te, hasTE := resp.Get("Transfer-Encoding")
	cl, hasCL := resp.Get("Content-Length")
	if hasCL {
		n, err := parseContentLength(cl)
		if err != nil {
			return err
		}
		resp.ContentLength = n
	}
	switch {
	case method == "HEAD" || resp.StatusCode == 204 || resp.StatusCode == 304 ||
		resp.StatusCode < 200:
		resp.Framing = FramingNone
		return nil
	case hasTE:
		codings := strings.Split(te, ",")
		last := strings.TrimSpace(codings[len(codings)-1])
		if !strings.EqualFold(last, "chunked") {
			resp.Framing = FramingCloseDelimited
			return readToEOF(br, resp, lim)
		}
		resp.Framing = FramingChunked
		return readChunked(br, resp, lim)
	case hasCL:
		resp.Framing = FramingContentLength
		if resp.ContentLength > lim.MaxBodyBytes {
			return perr(fmt.Sprintf("Content-Length %d over the %d byte limit", resp.ContentLength, lim.MaxBodyBytes), nil)
		}
		return readN(br, resp, resp.ContentLength, lim)
	default:
		resp.Framing = FramingCloseDelimited
		return readToEOF(br, resp, lim)
	}
}

func parseContentLength(v string) (int64, error) {
	// Repeated identical values ("5, 5") are allowed by RFC 9110 §8.6.
	var n int64 = -1
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimSpace(p)
		m, err := strconv.ParseInt(p, 10, 64)
		if err != nil || m < 0 || (p[0] < '0' || p[0] > '9') {
			return 0, perr("bad Content-Length", []byte(v))
		}
		if n >= 0 && m != n {
			return 0, perr("conflicting Content-Length values", []byte(v))
		}
		n = m
	}
	return n, nil
}

// keep appends b to resp.Body up to the keep limit and counts it.
func keep(resp *Response, b []byte, lim Limits) {
	resp.BodyLen += int64(len(b))
	if room := lim.BodyKeep - len(resp.Body); room > 0 {
		if len(b) > room {
			b = b[:room]
		}
		resp.Body = append(resp.Body, b...)
	}
}

func readN(br *bufio.Reader, resp *Response, n int64, lim Limits) error {
	buf := make([]byte, 32<<10)
	for n > 0 {
		chunk := buf
		if int64(len(chunk)) > n {
			chunk = chunk[:n]
		}
		m, err := br.Read(chunk)
		keep(resp, chunk[:m], lim)
		n -= int64(m)
		if err != nil && n > 0 {
			if errors.Is(err, io.EOF) {
				return ErrTruncated
			}
			return err
		}
	}
	return nil
}

func readToEOF(br *bufio.Reader, resp *Response, lim Limits) error {
	buf := make([]byte, 32<<10)
	for {
		m, err := br.Read(buf)
		keep(resp, buf[:m], lim)
		if resp.BodyLen > lim.MaxBodyBytes {
			return perr(fmt.Sprintf("close-delimited body over the %d byte limit", lim.MaxBodyBytes), nil)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func readChunked(br *bufio.Reader, resp *Response, lim Limits) error {
	for {
		budget := 4096
		line, err := readLine(br, &budget)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return ErrTruncated
			}
			return err
		}
		size, _, _ := bytes.Cut(line, []byte{';'})
		size = bytes.TrimSpace(size)
		n, perrr := strconv.ParseUint(string(size), 16, 63)
		if perrr != nil || len(size) == 0 || len(size) > 15 {
			return perr("bad chunk size", line)
		}
		if n == 0 {
			break
		}
		if resp.BodyLen+int64(n) > lim.MaxBodyBytes {
			return perr(fmt.Sprintf("chunked body over the %d byte limit", lim.MaxBodyBytes), nil)
		}
		if err := readN(br, resp, int64(n), lim); err != nil {
			return err
		}
		budget = 2
		crlf, err := readLine(br, &budget)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return ErrTruncated
			}
			if _, ok := err.(*ParseError); ok {
				return perr("chunk data not followed by CRLF", nil)
			}
			return err
		}
		if len(crlf) != 0 {
			return perr("chunk data not followed by CRLF", crlf)
		}
	}
	// Trailer section, ended by an empty line.
	budget := lim.MaxHeaderBytes
	for {
		line, err := readLine(br, &budget)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return ErrTruncated
			}
			return err
		}
		if len(line) == 0 {
			return nil
		}
	}
}
