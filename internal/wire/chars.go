package wire

// Character classes of RFC 9110 §5.6, as lookup tables: one load per byte.
var (
	tokenTable [256]bool // tchar
	valueTable [256]bool // field-vchar, SP, HTAB (obs-text allowed)
	hexValue   [256]int8 // -1 for non-hex

	// regNameTable: the bytes of a reg-name besides pct-encoded (RFC 3986
	// §3.2.2): unreserved and sub-delims.
	regNameTable [256]bool
)

func init() {
	for c := '0'; c <= '9'; c++ {
		tokenTable[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		tokenTable[c] = true
		tokenTable[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		tokenTable[c] = true
	}
	for c := 0x21; c < 0x7f; c++ {
		valueTable[c] = true
	}
	for c := 0x80; c < 0x100; c++ {
		valueTable[c] = true
	}
	valueTable[' '], valueTable['\t'] = true, true
	for c := '0'; c <= '9'; c++ {
		regNameTable[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		regNameTable[c] = true
		regNameTable[c-'a'+'A'] = true
	}
	for _, c := range "-._~!$&'()*+,;=" {
		regNameTable[c] = true
	}
	for i := range hexValue {
		hexValue[i] = -1
	}
	for c := '0'; c <= '9'; c++ {
		hexValue[c] = int8(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		hexValue[c] = int8(c - 'a' + 10)
		hexValue[c-'a'+'A'] = int8(c - 'a' + 10)
	}
}

// IsToken reports whether c may appear in a token.
func IsToken(c byte) bool { return tokenTable[c] }

// HexValue is the value of hex digit c, or -1.
func HexValue(c byte) int { return int(hexValue[c]) }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// EqualFold reports whether b equals the lower-case ASCII string s, ignoring case.
func EqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if lower(b[i]) != s[i] {
			return false
		}
	}
	return true
}

func isOWS(c byte) bool { return c == ' ' || c == '\t' }

// trimOWS trims optional whitespace from both ends of [i, j) in b.
func trimOWS(b []byte, i, j int) (int, int) {
	for i < j && isOWS(b[i]) {
		i++
	}
	for j > i && isOWS(b[j-1]) {
		j--
	}
	return i, j
}

// Tokens calls fn for each non-empty element of a comma-separated list,
// with whitespace trimmed. fn returns false to stop.
func Tokens(b []byte, fn func(tok []byte) bool) {
	start := 0
	for i := 0; i <= len(b); i++ {
		if i < len(b) && b[i] != ',' {
			continue
		}
		s, e := trimOWS(b, start, i)
		if s < e && !fn(b[s:e]) {
			return
		}
		start = i + 1
	}
}

// HasLineBreak reports whether s holds a CR or an LF, which a header value
// the server sends must not (response splitting). It looks at eight bytes
// at a time while none of them is a control byte, the rest one at a time:
// a value's bytes are rarely controls, and two IndexByte calls cost more
// on the short values a handler sets.
func HasLineBreak(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if hasByteBelow(x, 0x20) {
			break
		}
	}
	for ; i < len(s); i++ {
		if s[i] == '\r' || s[i] == '\n' {
			return true
		}
	}
	return false
}

// hasByteBelow reports whether one of the eight bytes of x is below n
// (n <= 0x80): the word-at-a-time test, exact as a yes or no.
func hasByteBelow(x uint64, n byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	return (x-ones*uint64(n))&^x&highs != 0
}
