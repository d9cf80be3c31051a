package wire

import (
	"strconv"
	"strings"
)

// CodingQ is the q-value an Accept-Encoding value gives a content coding
// (RFC 9110 §12.5.3): the coding's own when it is named (1 without a q
// parameter, 0 for one that does not parse), else that of "*", else 0.
// Codings compare case-insensitively. Both the Compress middleware and the
// file server's precompressed siblings negotiate through it.
func CodingQ(acceptEncoding, coding string) float64 {
	star := 0.0
	for part := range strings.SplitSeq(acceptEncoding, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.TrimSpace(name)
		switch {
		case strings.EqualFold(name, coding):
			return qValue(params)
		case name == "*":
			star = qValue(params)
		}
	}
	return star
}

// PreferCoding is the coding among offered (in the server's order of
// preference) that an Accept-Encoding value prefers: the highest q-value
// above 0, the first offered among equals; "" when it takes none of them
// (send the content as it is).
func PreferCoding(acceptEncoding string, offered ...string) string {
	if acceptEncoding == "" {
		return ""
	}
	best, bestQ := "", 0.0
	for _, c := range offered {
		if q := CodingQ(acceptEncoding, c); q > bestQ {
			best, bestQ = c, q
		}
	}
	return best
}

// qValue is the q parameter among a coding's parameters (1 without one, 0
// for one that does not parse).
func qValue(params string) float64 {
	for p := range strings.SplitSeq(params, ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				return f
			}
			return 0
		}
	}
	return 1
}
