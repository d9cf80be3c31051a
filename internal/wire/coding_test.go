package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPreferCoding(t *testing.T) {
	offered := []string{"br", "zstd", "gzip"}
	for _, tc := range []struct{ ae, want string }{
		{"", ""},
		{"gzip", "gzip"},
		{"gzip, br", "br"},                      // equal q: the server's order
		{"br;q=0.1, gzip", "gzip"},              // the client's q-values first
		{"br;q=0, *", "zstd"},                   // a coding named with q=0 is refused, even with "*"
		{"*", "br"},                             // "*" takes every coding not named
		{"*;q=0", ""},                           // nothing
		{"GZIP;Q=0.5", "gzip"},                  // case-insensitive
		{"identity", ""},                        // none offered
		{"gzip;q=abc, br;q=0.2", "br"},          // a q that does not parse is 0
		{"deflate, gzip;level=1;q=0.3", "gzip"}, // q among other parameters
	} {
		assert.Equal(t, tc.want, PreferCoding(tc.ae, offered...), "%q", tc.ae)
	}
	assert.Equal(t, "gzip", PreferCoding("br;q=1, gzip;q=0.8", "gzip"), "only what is offered")
}

func TestPreferCodingDoesNotAllocate(t *testing.T) {
	offered := []string{"br", "zstd", "gzip"}
	allocs := testing.AllocsPerRun(100, func() { _ = PreferCoding("gzip, deflate, br;q=0.9", offered...) })
	assert.Zero(t, allocs)
}
