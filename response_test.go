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

// Del removes every field of a name, whatever its case, keeps the others
// in order, and keeps have (the kinds the server reads) in step.
func TestResponseHeaderDel(t *testing.T) {
	type kv = [2]string
	cases := []struct {
		name string
		set  []kv
		del  string
		want []kv
		have kinds
	}{
		{"absent", []kv{{"Server", "a"}, {"X-A", "1"}}, "X-B", []kv{{"Server", "a"}, {"X-A", "1"}}, kindServer},
		{"empty", nil, "X-A", nil, 0},
		{"first", []kv{{"Server", "a"}, {"X-A", "1"}}, "server", []kv{{"X-A", "1"}}, 0},
		{"last", []kv{{"Connection", "close"}, {"Date", "d"}}, "DATE", []kv{{"Connection", "close"}}, kindConnection},
		{"every one", []kv{{"X-A", "1"}, {"Date", "d"}, {"x-a", "2"}, {"Server", "s"}, {"X-A", "3"}}, "X-A",
			[]kv{{"Date", "d"}, {"Server", "s"}}, kindDate | kindServer},
		{"only", []kv{{"Content-Length", "5"}}, "Content-Length", nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var h ResponseHeader
			for _, f := range tc.set {
				h.Add(f[0], f[1])
			}
			h.Del(tc.del)
			var got []kv
			for k, v := range h.All() {
				got = append(got, kv{k, v})
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.have, h.have)
			assert.False(t, h.Has(tc.del))
			for _, f := range h.kv[len(h.kv):cap(h.kv)] {
				assert.Zero(t, f, "a removed field is cleared: its strings are not kept alive")
			}
		})
	}
}
