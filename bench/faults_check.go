package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// The exact checker of /stream responses used by the stream-integrity fault
// scenario. Unlike the load generator's parser, which only counts body
// bytes, it checks everything a client relies on: the status line, every
// header line's CRLF, the framing (chunk sizes, chunk CRLFs, the last chunk
// and nothing after it, Content-Length, close-delimited to EOF), that the
// framing is allowed for the request's version, that every body byte is 'x'
// and that the length is exactly the one asked for.

// streamCheck says what one /stream response must be.
type streamCheck struct {
	Want int64 // body length asked for with ?size=
	// HTTP10 is set when the request was HTTP/1.0 without keep-alive: the
	// response must not be chunked and the server must close after it.
	HTTP10 bool
	// BeforeClose, if set, is called before the checker waits for the
	// server's close after a response that was framed by length (so the
	// caller can shorten the read deadline).
	BeforeClose func()
}

// streamResult is what a correct response looked like.
type streamResult struct {
	Framing string // "chunked", "content-length" or "close"
	Keep    bool   // the connection may carry another request
}

// errNoResponse is a connection that ended before a response began: on a
// reused keep-alive connection the request was lost.
var errNoResponse = errors.New("connection closed before a response")

// checkStreamResponse reads one response from br and checks it exactly.
func checkStreamResponse(br *bufio.Reader, sc streamCheck) (streamResult, error) {
	var res streamResult
	line, err := crlfLine(br)
	if err != nil {
		if errors.Is(err, io.EOF) && line == "" {
			return res, errNoResponse
		}
		return res, fmt.Errorf("status line: %w", err)
	}
	// HTTP/1.x SSS[ reason]
	if len(line) < 12 || !strings.HasPrefix(line, "HTTP/1.") || (line[7] != '0' && line[7] != '1') ||
		line[8] != ' ' || (len(line) > 12 && line[12] != ' ') {
		return res, fmt.Errorf("malformed status line %q", truncateStr(line, 40))
	}
	if line[9:12] != "200" {
		return res, fmt.Errorf("status %s, want 200", line[9:12])
	}
	resp11 := line[7] == '1'
	var (
		contentLen        = int64(-1) // a repeated equal value is allowed (RFC 9110 §8.6)
		chunked, sawTE    bool
		connClose, connKA bool
	)
	for {
		line, err = crlfLine(br)
		if err != nil {
			return res, fmt.Errorf("header: %w", err)
		}
		if line == "" {
			break
		}
		name, val, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return res, fmt.Errorf("malformed header line %q", truncateStr(line, 40))
		}
		val = strings.Trim(val, " \t")
		switch strings.ToLower(name) {
		case "content-length":
			n, ok := parseDecimal(val)
			if !ok {
				return res, fmt.Errorf("malformed Content-Length %q", val)
			}
			if contentLen >= 0 && n != contentLen {
				return res, fmt.Errorf("two different Content-Length fields")
			}
			contentLen = n
		case "transfer-encoding":
			if sawTE || !strings.EqualFold(val, "chunked") {
				return res, fmt.Errorf("unexpected Transfer-Encoding %q", val)
			}
			sawTE, chunked = true, true
		case "connection":
			for _, tok := range strings.Split(val, ",") {
				tok = strings.TrimSpace(tok)
				connClose = connClose || strings.EqualFold(tok, "close")
				connKA = connKA || strings.EqualFold(tok, "keep-alive")
			}
		}
	}
	res.Keep = !sc.HTTP10 && !connClose && (resp11 || connKA)
	switch {
	case chunked && contentLen >= 0:
		return res, errors.New("both Transfer-Encoding: chunked and Content-Length")
	case chunked && sc.HTTP10:
		return res, errors.New("chunked response to an HTTP/1.0 request")
	case chunked && !resp11:
		return res, errors.New("chunked framing in an HTTP/1.0 response")
	case chunked:
		res.Framing = "chunked"
		if err := readChunkedX(br, sc.Want); err != nil {
			return res, err
		}
	case contentLen >= 0:
		res.Framing = "content-length"
		if contentLen != sc.Want {
			return res, fmt.Errorf("Content-Length %d, want %d", contentLen, sc.Want)
		}
		if err := readX(br, contentLen, 0); err != nil {
			return res, err
		}
	default:
		res.Framing = "close"
		res.Keep = false
		n, err := readXToEOF(br, sc.Want)
		if err != nil {
			return res, err
		}
		if n != sc.Want {
			return res, fmt.Errorf("close-delimited body of %d bytes, want %d", n, sc.Want)
		}
		return res, nil
	}
	if res.Keep {
		// Nothing was asked for after this response, so nothing may follow it.
		if n := br.Buffered(); n > 0 {
			p, _ := br.Peek(min(n, 16))
			return res, fmt.Errorf("%d bytes after the response (%q...)", n, p)
		}
		return res, nil
	}
	// The server must close now.
	if sc.BeforeClose != nil {
		sc.BeforeClose()
	}
	if p, err := br.Peek(1); len(p) > 0 {
		p, _ = br.Peek(min(br.Buffered(), 16))
		return res, fmt.Errorf("bytes after the response instead of a close (%q...)", p)
	} else if !errors.Is(err, io.EOF) {
		return res, fmt.Errorf("server did not close after the response: %w", err)
	}
	return res, nil
}

// crlfLine reads one line that must end in CRLF and returns it without.
func crlfLine(br *bufio.Reader) (string, error) {
	b, err := br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return "", errors.New("line too long")
		}
		if errors.Is(err, io.EOF) && len(b) > 0 {
			return string(b), io.ErrUnexpectedEOF
		}
		return "", err
	}
	if len(b) < 2 || b[len(b)-2] != '\r' {
		return "", fmt.Errorf("line %q does not end in CRLF", truncateStr(string(b), 40))
	}
	return string(b[:len(b)-2]), nil
}

// readChunkedX reads a chunked body of exactly want bytes of 'x', the last
// chunk and the empty line after it (no trailer fields).
func readChunkedX(br *bufio.Reader, want int64) error {
	var total int64
	for {
		line, err := crlfLine(br)
		if err != nil {
			return fmt.Errorf("chunk size: %w", err)
		}
		size, ok := parseChunkSize(line)
		if !ok {
			return fmt.Errorf("malformed chunk size line %q", truncateStr(line, 40))
		}
		if size == 0 {
			break
		}
		if total+size > want {
			return fmt.Errorf("chunks add up to more than %d bytes", want)
		}
		if err := readX(br, size, total); err != nil {
			return err
		}
		total += size
		var crlf [2]byte
		if _, err := io.ReadFull(br, crlf[:]); err != nil {
			return fmt.Errorf("end of chunk: %w", unexpected(err))
		}
		if crlf != [2]byte{'\r', '\n'} {
			return fmt.Errorf("chunk of %d bytes not followed by CRLF but %q", size, crlf[:])
		}
	}
	if total != want {
		return fmt.Errorf("chunked body of %d bytes, want %d", total, want)
	}
	line, err := crlfLine(br)
	if err != nil {
		return fmt.Errorf("after the last chunk: %w", unexpected(err))
	}
	if line != "" {
		return fmt.Errorf("trailer or garbage after the last chunk: %q", truncateStr(line, 40))
	}
	return nil
}

// parseChunkSize parses "hex[;ext]".
func parseChunkSize(line string) (int64, bool) {
	if i := strings.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	line = strings.TrimRight(line, " \t")
	if line == "" || len(line) > 15 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(line); i++ {
		c := line[i]
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int64(v)
	}
	return n, true
}

func parseDecimal(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}

// readX consumes n body bytes that must all be 'x'; off is the body offset
// of the first one (for the message).
func readX(br *bufio.Reader, n, off int64) error {
	for n > 0 {
		if br.Buffered() == 0 {
			if _, err := br.Peek(1); err != nil {
				return fmt.Errorf("body cut short at byte %d: %w", off, unexpected(err))
			}
		}
		k := int(min(n, int64(br.Buffered())))
		p, _ := br.Peek(k)
		if i := indexNotX(p); i >= 0 {
			return fmt.Errorf("body byte %d is %q, not 'x'", off+int64(i), p[i])
		}
		br.Discard(k)
		n -= int64(k)
		off += int64(k)
	}
	return nil
}

// readXToEOF consumes a close-delimited body of 'x' bytes. It stops with an
// error as soon as the body is longer than want.
func readXToEOF(br *bufio.Reader, want int64) (int64, error) {
	var n int64
	for {
		if br.Buffered() == 0 {
			if _, err := br.Peek(1); err != nil {
				if errors.Is(err, io.EOF) {
					return n, nil
				}
				return n, fmt.Errorf("close-delimited body after %d bytes: %w", n, err)
			}
		}
		p, _ := br.Peek(br.Buffered())
		if i := indexNotX(p); i >= 0 {
			return n, fmt.Errorf("body byte %d is %q, not 'x'", n+int64(i), p[i])
		}
		br.Discard(len(p))
		n += int64(len(p))
		if n > want {
			return n, fmt.Errorf("close-delimited body longer than %d bytes", want)
		}
	}
}

func indexNotX(p []byte) int {
	for i, c := range p {
		if c != 'x' {
			return i
		}
	}
	return -1
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func truncateStr(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
