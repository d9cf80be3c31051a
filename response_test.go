package kahttp

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Add remembers the names it found valid (ResponseHeader.names). Each name
// must still get its own verdict and kind, with more names than the memo
// holds, the same bytes at another address, and the header reused.
func TestResponseHeaderNameMemo(t *testing.T) {
	names := []string{"Content-Length", "X-A", "Bad Name", "Server", "X-B", "Connection", "X-C", "", "Transfer-Encoding", "X A"}
	var h ResponseHeader
	for round := range 3 {
		for _, n := range names {
			for _, key := range []string{n, string([]byte(n))} {
				h.reset()
				h.Add(key, "v")
				if validFieldName(key) {
					assert.Len(t, h.kv, 1, "round %d: %q", round, key)
					assert.Equal(t, kindOf(key), h.have, "round %d: %q", round, key)
				} else {
					assert.Empty(t, h.kv, "round %d: %q is not a field name", round, key)
				}
			}
		}
	}
	h.reset()
	h.Add("X-A", "1")
	h.Add("X A", "2") // the length of a remembered name, other bytes
	assert.Equal(t, []field{{key: "X-A", value: "1"}}, h.kv)
}
