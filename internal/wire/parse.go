package wire

import (
	"bytes"
	"encoding/binary"
)

// Parse parses one request at the start of buf.
//
// It returns the number of bytes the request spans (empty lines before the
// request line included) once the whole request, body too, is in buf;
// ErrNeedMore while it is not; or an *Error. After ErrNeedMore with
// r.HeadEnd > 0 the head is known (the caller may answer 100 Continue), and
// calling Parse again with the same r on a longer buf resumes where it
// stopped instead of scanning the body again. Any other r is parsed afresh
// (Reset is still the way to keep a Request for the next one).
//
// A chunked body is decoded in place: the bytes of buf between HeadEnd and
// the end of the request are rewritten, so buf must be the caller's to modify.
//
// A nil lim means DefaultLimits.
func Parse(buf []byte, r *Request, lim *Limits) (int, error) {
	if lim == nil {
		lim = &DefaultLimits
	}
	// Resume only what an ErrNeedMore left with the head known, not any r
	// with HeadEnd set: an r reused without Reset after a result or an error
	// would otherwise skip the head and frame new bytes with stale spans.
	if !r.resume {
		if err := parseHead(buf, r, lim); err != nil {
			return 0, err
		}
	}
	r.want = 0
	n, err := parseBody(buf, r, lim)
	r.resume = err == ErrNeedMore
	return n, err
}

// parseBody finds the end of the request whose head is r.
func parseBody(buf []byte, r *Request, lim *Limits) (int, error) {
	switch {
	case r.Chunked:
		return parseChunked(buf, r, lim)
	case r.ContentLength > 0:
		end := r.HeadEnd + int(r.ContentLength)
		if len(buf) < end {
			r.want = end
			return 0, ErrNeedMore
		}
		r.Body = Span{int32(r.HeadEnd), int32(end)}
		return end, nil
	default:
		r.Body = Span{int32(r.HeadEnd), int32(r.HeadEnd)}
		return r.HeadEnd, nil
	}
}

// parseHead parses the request line and the header section.
func parseHead(buf []byte, r *Request, lim *Limits) error {
	r.Reset()
	// RFC 9112 §2.2: ignore at least one empty line before the request line
	// (the CRLF some clients send after a POST body).
	i := 0
	for i < len(buf) {
		if buf[i] == '\n' {
			i++
		} else if buf[i] == '\r' {
			if i+1 == len(buf) {
				return ErrNeedMore
			}
			if buf[i+1] != '\n' {
				return ErrBareCR
			}
			i += 2
		} else {
			break
		}
		if i > lim.MaxRequestLine {
			return ErrTooManyEmptyLines
		}
	}
	start := i

	// The request line is limited without its CRLF (or LF): a line of
	// exactly MaxRequestLine bytes is accepted however it ends. Each check
	// decides from the bytes up to the one it looks at, so a request fed
	// byte by byte fails at the same byte with the same error as a whole one.
	maxLine := lim.MaxRequestLine

	// Method: checked as it arrives, so garbage (a TLS hello) fails at once.
	for ; i < len(buf) && buf[i] != ' '; i++ {
		if !tokenTable[buf[i]] {
			return ErrMethod
		}
		if i-start >= maxLine {
			return ErrURITooLong
		}
	}
	if i == len(buf) {
		return ErrNeedMore
	}
	if i == start {
		return ErrMethod
	}
	r.Method = Span{int32(start), int32(i)}

	// A line of maxLine bytes plus CR LF ends by index start+maxLine+1.
	// The bytes after the method are checked as they arrive too (scanLine),
	// within the line's limit and before it: the same input fails the same
	// way whole or byte by byte, and noise without a newline is refused at
	// once instead of after HeaderTimeout.
	window := start + maxLine + 1 // a line's content ends before start+maxLine
	nl := bytes.IndexByte(buf[i:min(len(buf), start+maxLine+2)], '\n')
	if nl < 0 {
		if _, err := scanLine(buf[i+1:min(len(buf), window)], false); err != nil {
			return err
		}
		if n := len(buf) - start; n > maxLine+1 || n == maxLine+1 && buf[len(buf)-1] != '\r' {
			return ErrURITooLong
		}
		return ErrNeedMore
	}
	eol := i + nl // index of '\n'
	lineEnd := eol
	if buf[lineEnd-1] == '\r' {
		lineEnd--
	}
	if lineEnd-start > maxLine {
		if _, err := scanLine(buf[i+1:window], false); err != nil {
			return err
		}
		return ErrURITooLong
	}
	sp, err := scanLine(buf[i+1:lineEnd], true)
	if err != nil {
		return err
	}
	if err := parseTargetAndVersion(buf, i+1, i+1+sp, lineEnd, r); err != nil {
		return err
	}
	return parseFields(buf, eol+1, r, lim)
}

// scanLine checks, left to right, the part of a request line after the
// method's SP: p is what has arrived of it (complete: all of it, its line
// end cut). The first byte that can never be valid there decides the
// error: a control or non-ASCII byte in the target (RFC 9112 §3.2), a CR
// not ending the line, anything but "HTTP/d.d" after the target. What it
// accepts, parseTargetAndVersion checks in full once the line is complete.
// It returns the index of the SP after the target (-1 if none came yet).
func scanLine(p []byte, complete bool) (int, error) {
	if complete {
		if sp := wellFormedLine(p); sp > 0 {
			return sp, nil
		}
	}
	const version = "HTTP/1.1" // digits are checked by shape only here
	sp := -1
	for j, c := range p {
		if c == '\r' {
			if j == len(p)-1 && !complete {
				return sp, nil // perhaps the CR of the line end
			}
			return sp, ErrBareCR
		}
		if sp < 0 {
			switch {
			case c == ' ' && j == 0:
				return sp, ErrRequestLine // empty target
			case c == ' ':
				sp = j
			case c < ' ' || c >= 0x7f:
				return sp, ErrTarget
			}
			continue
		}
		switch k := j - sp - 1; {
		case k >= len(version):
			return sp, ErrVersion
		case k == 5 || k == 7:
			if c < '0' || c > '9' {
				return sp, ErrVersion
			}
		case c != version[k]:
			return sp, ErrVersion
		}
	}
	if complete && sp < 0 {
		return sp, ErrRequestLine // no version
	}
	return sp, nil
}

// wellFormedLine is scanLine's fast path for the usual whole line, one
// that passes: it returns the SP after the target, or -1 for the byte by
// byte scan to find the first wrong byte.
func wellFormedLine(p []byte) int {
	sp := bytes.IndexByte(p, ' ')
	if sp <= 0 || len(p)-sp-1 != len("HTTP/1.1") {
		return -1
	}
	for _, c := range p[:sp] {
		if c <= ' ' || c >= 0x7f {
			return -1
		}
	}
	v := p[sp+1:]
	if string(v[:5]) != "HTTP/" || v[6] != '.' || v[5]-'0' > 9 || v[7]-'0' > 9 {
		return -1
	}
	return sp
}

// parseTargetAndVersion parses "request-target SP HTTP-version" in
// buf[i:end], the target ending at tEnd: scanLine found that SP and
// checked every byte of the target (ASCII, RFC 9112 §3.2, RFC 3986 §2:
// any other byte, UTF-8 or not, travels percent-encoded) on its way.
func parseTargetAndVersion(buf []byte, i, tEnd, end int, r *Request) error {
	line := buf[:end]
	r.Target = Span{int32(i), int32(tEnd)}
	if err := splitTarget(buf, r); err != nil {
		return err
	}

	v := line[tEnd+1:]
	if len(v) != 8 || string(v[:5]) != "HTTP/" || v[6] != '.' || v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9' {
		if bytes.IndexByte(v, '\r') >= 0 {
			return ErrBareCR
		}
		return ErrVersion
	}
	if v[5] != '1' {
		return ErrVersionNotSupp
	}
	if v[7] == '0' {
		r.Minor = 0
	} else {
		r.Minor = 1 // 1.x answers as 1.1 (RFC 9110 §6.2)
	}
	return nil
}

// splitTarget finds the path and query of the target: origin-form "/p?q",
// absolute-form "http://host/p?q", asterisk-form "*", authority-form "host:port".
func splitTarget(buf []byte, r *Request) error {
	t := r.Target.Of(buf)
	off := int(r.Target.Off)
	p := 0
	switch {
	case t[0] == '/':
	case len(t) == 1 && t[0] == '*':
		// asterisk-form is for a server-wide OPTIONS only (RFC 9112 §3.2.4).
		if string(r.Method.Of(buf)) != "OPTIONS" {
			return ErrTarget
		}
		r.Path = r.Target
		return nil
	case hasSchemePrefix(t):
		p = bytes.Index(t, []byte("://")) + 3
		slash := bytes.IndexAny(t[p:], "/?")
		// The authority is host[:port], as in Host: an http(s) URI with an
		// empty host is invalid (RFC 9110 §4.2.1), and userinfo is an error
		// in a target URI (RFC 9110 §4.2.4).
		auth := t[p:]
		if slash >= 0 {
			auth = t[p : p+slash]
		}
		if len(auth) == 0 || !validHost(auth) {
			return ErrTarget
		}
		if slash < 0 {
			r.Path = Span{int32(off + len(t)), int32(off + len(t))}
			return nil
		}
		p += slash
	default:
		// authority-form is for CONNECT only (RFC 9112 §3.2.3); elsewhere a
		// target that is no path is not one a proxy and this server agree on.
		if bytes.IndexByte(t, '/') >= 0 || string(r.Method.Of(buf)) != "CONNECT" {
			return ErrTarget
		}
		r.Path = r.Target
		return nil
	}
	q := bytes.IndexByte(t[p:], '?')
	pathEnd := len(t)
	if q >= 0 {
		pathEnd = p + q
		r.Query = Span{int32(off + pathEnd + 1), int32(off + len(t))}
	}
	for j := p; ; j += 3 {
		k := bytes.IndexByte(t[j:pathEnd], '%')
		if k < 0 {
			break
		}
		j += k
		if j+2 >= pathEnd || hexValue[t[j+1]] < 0 || hexValue[t[j+2]] < 0 {
			return ErrPercent
		}
		r.PathEscaped = true
	}
	r.Path = Span{int32(off + p), int32(off + pathEnd)}
	return nil
}

func hasSchemePrefix(t []byte) bool {
	return (len(t) > 7 && EqualFold(t[:7], "http://")) || (len(t) > 8 && EqualFold(t[:8], "https://"))
}

// parseFields parses header fields from buf[p:] up to the empty line.
func parseFields(buf []byte, p int, r *Request, lim *Limits) error {
	start := p
	var te teState
	for {
		if p-start > lim.MaxHeaderBytes {
			return ErrHeadersTooLarge
		}
		if p >= len(buf) {
			return ErrNeedMore
		}
		switch buf[p] {
		case '\n':
			r.HeadEnd = p + 1
			return finishHead(buf, r, &te, lim)
		case '\r':
			if p+1 == len(buf) {
				return ErrNeedMore
			}
			if buf[p+1] != '\n' {
				return ErrBareCR
			}
			r.HeadEnd = p + 2
			return finishHead(buf, r, &te, lim)
		case ' ', '\t':
			return ErrObsFold
		}
		// One field too many is refused as soon as it starts, whatever its
		// bytes, so a split request fails at the same byte with the same error.
		if len(r.Fields) >= lim.MaxFields {
			return ErrTooManyFields
		}
		f, next, err := parseField(buf, p, start, lim.MaxHeaderBytes)
		if err != nil {
			return err
		}
		r.Fields = append(r.Fields, f)
		if err := r.interpret(buf, f, &te); err != nil {
			return err
		}
		p = next
	}
}

// parseField parses one "name: value" line starting at p. sectionStart and
// max bound the section for the 431 check.
//
// The check is made wherever a scan stops, not only at the end of buf: a
// byte found past the limit (a CTL, a bare CR) comes after more than max
// bytes, which a shorter read would already have refused with 431, so it
// must be 431 here too or the status would depend on how the request was
// split into reads.
func parseField(buf []byte, p, sectionStart, max int) (Field, int, error) {
	i := p
	for i < len(buf) && tokenTable[buf[i]] {
		i++
	}
	if i-sectionStart > max {
		return Field{}, 0, ErrHeadersTooLarge
	}
	if i == len(buf) {
		return Field{}, 0, ErrNeedMore
	}
	if i == p || buf[i] != ':' {
		return Field{}, 0, ErrFieldName // includes whitespace before the colon
	}
	name := Span{int32(p), int32(i)}
	i++
	vs := i
	i = valueEnd(buf, i)
	if i-sectionStart > max {
		return Field{}, 0, ErrHeadersTooLarge
	}
	if i == len(buf) {
		return Field{}, 0, ErrNeedMore
	}
	ve := i
	switch buf[i] {
	case '\n':
	case '\r':
		if i+1 == len(buf) {
			return Field{}, 0, ErrNeedMore
		}
		if buf[i+1] != '\n' {
			return Field{}, 0, ErrBareCR
		}
		i++
	default:
		return Field{}, 0, ErrFieldValue
	}
	vs, ve = trimOWS(buf, vs, ve)
	return Field{Name: name, Value: Span{int32(vs), int32(ve)}}, i + 1, nil
}

// valueEnd is the index of the first byte at or after i that is not a
// field-value byte (valueTable), len(buf) if none. Values are most of a
// head's bytes (User-Agent, Accept, Cookie), so it looks at eight bytes at
// a time while none of them is a control byte (HTAB included) or DEL, then
// finds the exact byte one at a time: the same index as a byte-by-byte scan.
func valueEnd(buf []byte, i int) int {
	for i+8 <= len(buf) && plainValueWord(binary.LittleEndian.Uint64(buf[i:])) {
		i += 8
	}
	for i < len(buf) && valueTable[buf[i]] {
		i++
	}
	return i
}

// plainValueWord reports whether none of the eight bytes in x is below 0x20
// or 0x7F (DEL): each is then a field-value byte. A byte of x^0x7F7F… is
// below 1, zero, where x has DEL.
func plainValueWord(x uint64) bool {
	const ones = 0x0101010101010101
	return !hasByteBelow(x, 0x20) && !hasByteBelow(x^(ones*0x7f), 1) // no control byte, no DEL
}

// teState collects Transfer-Encoding codings across repeated fields.
type teState struct {
	seen, chunkedLast, chunkedTwice, other, unknown bool
}

// interpret records what the server itself needs from a header field.
func (r *Request) interpret(buf []byte, f Field, te *teState) error {
	name, value := f.Name.Of(buf), f.Value.Of(buf)
	switch len(name) {
	case 4:
		if EqualFold(name, "host") {
			r.hostSeen++
			r.Host = f.Value
			// An empty Host is what a client sends for a target URI without
			// an authority; an origin-form request's URI is http://<Host>/…,
			// and an http URI with an empty host is invalid (RFC 9110 §4.2.1).
			// RFC 9112 §3.2: 400 for an invalid Host.
			if len(value) == 0 && buf[r.Target.Off] == '/' || len(value) > 0 && !validHost(value) {
				return ErrHost
			}
		}
	case 6:
		if EqualFold(name, "expect") {
			if !EqualFold(value, "100-continue") {
				return ErrExpectation
			}
			r.Expect100 = true
		}
	case 10:
		if EqualFold(name, "connection") {
			Tokens(value, func(tok []byte) bool {
				if EqualFold(tok, "close") {
					r.ConnClose = true
				} else if EqualFold(tok, "keep-alive") {
					r.ConnKeepAlive = true
				} else if EqualFold(tok, "upgrade") {
					r.ConnUpgrade = true
				}
				return true
			})
		}
	case 14:
		if EqualFold(name, "content-length") {
			n, ok := parseDecimal(value)
			if !ok {
				return ErrContentLength
			}
			if r.clSeen && n != r.ContentLength {
				return ErrDupContentLength
			}
			r.clSeen, r.ContentLength = true, n
		}
	case 17:
		if EqualFold(name, "transfer-encoding") {
			Tokens(value, func(tok []byte) bool {
				if te.chunkedLast {
					if EqualFold(tok, "chunked") {
						te.chunkedTwice = true
					}
					te.chunkedLast = false
				}
				switch {
				case EqualFold(tok, "chunked"):
					te.chunkedLast = true
				case EqualFold(tok, "gzip"), EqualFold(tok, "x-gzip"), EqualFold(tok, "deflate"),
					EqualFold(tok, "compress"), EqualFold(tok, "x-compress"):
					te.other = true
				default:
					te.unknown = true
				}
				return true
			})
			te.seen = true
		}
	}
	return nil
}

// finishHead checks the header section as a whole: framing and Host.
func finishHead(buf []byte, r *Request, te *teState, lim *Limits) error {
	if r.hostSeen > 1 {
		return ErrManyHosts
	}
	if r.Minor == 1 && r.hostSeen == 0 {
		return ErrNoHost
	}
	if r.Minor == 0 {
		r.Expect100 = false // RFC 9110 §10.1.1: ignore it from HTTP/1.0
	}
	if te.seen {
		switch {
		case r.Minor == 0:
			return ErrTEOnHTTP10
		case r.clSeen:
			return ErrCLAndTE
		case te.unknown:
			return ErrTEUnsupported
		case !te.chunkedLast || te.chunkedTwice:
			return ErrTENotChunked
		case te.other:
			return ErrTEUnsupported
		}
		r.Chunked = true
		r.ContentLength = -1
		r.scanOff = r.HeadEnd
	}
	if r.ContentLength > lim.MaxBody {
		return ErrBodyTooLarge
	}
	return nil
}

// validHost reports whether v is uri-host [ ":" port ] with a non-empty host
// (RFC 9110 §7.2, RFC 3986 §3.2.2): an IP-literal in brackets or a reg-name,
// then an optional port of digits. Userinfo ("user@"), a path, a query and
// bytes outside ASCII are refused.
func validHost(v []byte) bool {
	i := 0
	if v[0] == '[' {
		end := bytes.IndexByte(v, ']')
		if end < 2 {
			return false
		}
		for _, c := range v[1:end] {
			if !regNameTable[c] && c != ':' {
				return false
			}
		}
		i = end + 1
	} else {
		for i < len(v) && regNameTable[v[i]] {
			i++ // the common case, without the escapes below
		}
		for i < len(v) && v[i] != ':' {
			switch {
			case regNameTable[v[i]]:
				i++
			case v[i] == '%' && i+2 < len(v) && hexValue[v[i+1]] >= 0 && hexValue[v[i+2]] >= 0:
				i += 3
			default:
				return false
			}
		}
		if i == 0 {
			return false // no host, only a port
		}
	}
	if i == len(v) {
		return true
	}
	if v[i] != ':' {
		return false
	}
	for _, c := range v[i+1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseDecimal parses 1*DIGIT into a non-negative int64 (at most 18 digits).
func parseDecimal(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}
