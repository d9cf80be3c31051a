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
			trailers, end, err := parseTrailers(buf, data, r.Trailers[:0], lim)
			r.Trailers = trailers
			if err != nil {
				return 0, err
			}
			decodeChunks(buf, r)
			return end, nil
		}
		if r.decoded+size > lim.MaxBody {
			return 0, ErrBodyTooLarge
		}
		next := data + int(size)
		if next >= len(buf) {
			r.want = next + 2 // the chunk's data and its CRLF
			return 0, ErrNeedMore
		}
		if err := ChunkDataEnd(buf[next:]); err != nil {
			return 0, err
		}
		next += 2
		r.decoded += size
		p, r.scanOff = next, next
	}
}

// The chunked grammar below is the only one: Parse reads a body held whole
// with it, and a body that streams (kahttp's bodyStream) reads its chunk
// lines, data ends and trailers with ChunkLine, ChunkDataEnd and Trailers,
// so the same bytes get the same verdict however they arrive. Two parsers
// that disagree on a chunk line are a request smuggling vector.

// ChunkLine parses the chunk-size line at the start of b
// ("chunk-size [chunk-ext] CRLF"): the chunk's size and the line's length.
// ErrNeedMore while the line is not all in b (it may be up to 4 KiB).
func ChunkLine(b []byte) (size int64, n int, err error) { return chunkHeader(b, 0) }

// ChunkDataEnd checks the CRLF that must follow a chunk's data, at the
// start of b: ErrNeedMore while b is shorter, ErrChunkData for anything
// else (a lone LF included: see chunkHeader).
func ChunkDataEnd(b []byte) error {
	switch {
	case len(b) == 0:
		return ErrNeedMore
	case b[0] != '\r':
		return ErrChunkData
	case len(b) == 1:
		return ErrNeedMore
	case b[1] != '\n':
		return ErrChunkData
	}
	return nil
}

// Trailers parses the trailer section at the start of b, up to and
// including the empty line that ends it: its length, and its fields
// appended to fields (spans into b). ErrNeedMore while it is not all in b;
// bounded by lim's MaxHeaderBytes and MaxFields as the header section is.
func Trailers(b []byte, fields []Field, lim *Limits) ([]Field, int, error) {
	return parseTrailers(b, 0, fields, lim)
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

// parseTrailers parses the trailer section at p up to its empty line,
// appending its fields to fields.
func parseTrailers(buf []byte, p int, fields []Field, lim *Limits) ([]Field, int, error) {
	start := p
	for {
		if p-start > lim.MaxHeaderBytes {
			return fields, 0, ErrHeadersTooLarge
		}
		if p >= len(buf) {
			return fields, 0, ErrNeedMore
		}
		switch buf[p] {
		case '\n':
			return fields, p + 1, nil
		case '\r':
			if p+1 == len(buf) {
				return fields, 0, ErrNeedMore
			}
			if buf[p+1] != '\n' {
				return fields, 0, ErrBareCR
			}
			return fields, p + 2, nil
		case ' ', '\t':
			return fields, 0, ErrObsFold
		}
		if len(fields) >= lim.MaxFields { // as in parseFields
			return fields, 0, ErrTooManyFields
		}
		f, next, err := parseField(buf, p, start, lim.MaxHeaderBytes)
		if err != nil {
			return fields, 0, err
		}
		fields = append(fields, f)
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
