package wire

import "bytes"

// maxChunkLine bounds a chunk-size line with its extensions.
const maxChunkLine = 4096

// parseChunked validates chunks from r.scanOff on (so a body that arrives in
// many reads is scanned once), and when the last chunk and the trailer section
// are in, decodes the body in place right after the head.
func parseChunked(buf []byte, r *Request, lim *Limits) (int, error) {
	p := r.scanOff
	for {
		size, data, err := chunkHeader(buf, p)
		if err != nil {
			return 0, err
		}
		if size == 0 {
			end, err := parseTrailers(buf, data, r, lim)
			if err != nil {
				return 0, err
			}
			decodeChunks(buf, r)
			return end, nil
		}
		if r.decoded+size > lim.MaxBody {
			return 0, ErrBodyTooLarge
		}
		// The data ends in CRLF, not a lone LF: see chunkHeader.
		next := data + int(size)
		if next >= len(buf) {
			r.want = next + 2 // the chunk's data and its CRLF
			return 0, ErrNeedMore
		}
		if buf[next] != '\r' {
			return 0, ErrChunkData
		}
		if next+1 == len(buf) {
			return 0, ErrNeedMore
		}
		if buf[next+1] != '\n' {
			return 0, ErrChunkData
		}
		next += 2
		r.decoded += size
		p, r.scanOff = next, next
	}
}

// chunkHeader parses "chunk-size [chunk-ext] CRLF" at p: the size and where the data starts.
//
// The size is checked as its bytes arrive, so junk (a size that is not hex,
// missing, or longer than 15 digits) fails at once instead of after a wait
// for a newline up to maxChunkLine away; the extensions once the line is in.
// The line must end in CRLF: RFC 9112 §2.2 lets a lone LF end only the start
// line and fields, and parsers that disagree on where a chunk line ends are
// a request smuggling vector.
func chunkHeader(buf []byte, p int) (size int64, data int, err error) {
	i := p
	for ; i < len(buf) && hexValue[buf[i]] >= 0; i++ {
		if i-p == 15 { // 16 hex digits would overflow int64
			return 0, 0, ErrChunkSize
		}
		size = size<<4 | int64(hexValue[buf[i]])
	}
	if i == len(buf) {
		return 0, 0, ErrNeedMore
	}
	if c := buf[i]; i == p || c != ';' && c != '\r' && !isOWS(c) {
		return 0, 0, ErrChunkSize // no digits, junk after them, or a bare LF
	}
	// chunk-size is hex digits only: whitespace may follow it only as the
	// BWS before an extension's ';' (RFC 9112 §7.1.1). "5 \r\n" is refused,
	// as soon as the byte after the whitespace shows it: parsers that
	// disagree on a chunk line are a request smuggling vector. The run of
	// whitespace is bounded by the line limit, as the line is.
	j := i
	for j < len(buf) && isOWS(buf[j]) && j-p < maxChunkLine {
		j++
	}
	if j-p >= maxChunkLine {
		return 0, 0, ErrChunkExt
	}
	if j == len(buf) {
		return 0, 0, ErrNeedMore
	}
	if j > i && buf[j] != ';' {
		return 0, 0, ErrChunkSize
	}
	nl := bytes.IndexByte(buf[i:min(len(buf), p+maxChunkLine)], '\n')
	if nl < 0 {
		if len(buf)-p >= maxChunkLine {
			return 0, 0, ErrChunkExt
		}
		return 0, 0, ErrNeedMore
	}
	end := i + nl // buf[i] is not '\n', so end-1 >= i
	if buf[end-1] != '\r' {
		return 0, 0, ErrChunkExt // bare LF after an extension
	}
	if err := checkChunkExt(buf[i : end-1]); err != nil {
		return 0, 0, err
	}
	return size, end + 1, nil
}

// checkChunkExt validates *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ):
// whitespace after the last extension is refused.
// Extensions are accepted and ignored; malformed ones are refused because
// lenient parsers that disagree on them are a smuggling vector.
func checkChunkExt(b []byte) error {
	i := 0
	skipBWS := func() {
		for i < len(b) && isOWS(b[i]) {
			i++
		}
	}
	for {
		// Whitespace is allowed before a ';' (and around '='), not at the
		// end of the line.
		ws := i
		skipBWS()
		if i == len(b) {
			if i > ws {
				return ErrChunkExt
			}
			return nil
		}
		if b[i] != ';' {
			if b[i] == '\r' {
				return ErrBareCR
			}
			return ErrChunkExt
		}
		i++
		skipBWS()
		n := i
		for i < len(b) && tokenTable[b[i]] {
			i++
		}
		if i == n {
			return ErrChunkExt
		}
		ws = i
		skipBWS()
		if i == len(b) || b[i] != '=' {
			i = ws // the loop's start checks the whitespace
			continue
		}
		i++
		skipBWS()
		if i < len(b) && b[i] == '"' {
			if i = quotedStringEnd(b, i); i < 0 {
				return ErrChunkExt
			}
			continue
		}
		v := i
		for i < len(b) && tokenTable[b[i]] {
			i++
		}
		if i == v {
			return ErrChunkExt
		}
	}
}

// quotedStringEnd returns the index after the quoted-string starting at b[i]=='"', or -1.
func quotedStringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			i++
			if i == len(b) || !(valueTable[b[i]]) {
				return -1
			}
		case !valueTable[c]:
			return -1
		}
	}
	return -1
}

// parseTrailers parses the trailer section at p up to its empty line.
func parseTrailers(buf []byte, p int, r *Request, lim *Limits) (int, error) {
	start := p
	r.Trailers = r.Trailers[:0]
	for {
		if p-start > lim.MaxHeaderBytes {
			return 0, ErrHeadersTooLarge
		}
		if p >= len(buf) {
			return 0, ErrNeedMore
		}
		switch buf[p] {
		case '\n':
			return p + 1, nil
		case '\r':
			if p+1 == len(buf) {
				return 0, ErrNeedMore
			}
			if buf[p+1] != '\n' {
				return 0, ErrBareCR
			}
			return p + 2, nil
		case ' ', '\t':
			return 0, ErrObsFold
		}
		if len(r.Trailers) >= lim.MaxFields { // as in parseFields
			return 0, ErrTooManyFields
		}
		f, next, err := parseField(buf, p, start, lim.MaxHeaderBytes)
		if err != nil {
			return 0, err
		}
		r.Trailers = append(r.Trailers, f)
		p = next
	}
}

// decodeChunks moves the chunk data of a validated body together, right
// after the head. Data only ever moves towards the start, and the trailers
// lie past the last chunk, so nothing still needed is overwritten.
func decodeChunks(buf []byte, r *Request) {
	dst := r.HeadEnd
	p := r.HeadEnd
	for {
		size, data, _ := chunkHeader(buf, p)
		if size == 0 {
			break
		}
		dst += copy(buf[dst:], buf[data:data+int(size)])
		p = data + int(size) + 2 // CRLF
	}
	r.Body = Span{int32(r.HeadEnd), int32(dst)}
	r.ContentLength = int64(dst - r.HeadEnd)
}
