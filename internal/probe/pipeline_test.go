package probe

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestCheckOrder: the pipeline order is told only from a signal that tells
// it, and "out of order" only on evidence.
func TestCheckOrder(t *testing.T) {
	r := func(status int, body string) *Response {
		return &Response{StatusCode: status, Body: []byte(body), BodyLen: int64(len(body))}
	}
	ok, nf := r(200, "page"), r(404, "not found")
	cases := []struct {
		name     string
		resps    []*Response
		refs     [2]*Response
		noRefs   bool // refs must not be asked for
		verified bool
		bad      int
		rejected bool
		why      string // part of the reason when not verified
	}{
		{name: "echoed, in order", resps: []*Response{r(200, "ok p2-0"), r(404, "no p2-1")}, noRefs: true, verified: true, bad: -1},
		{name: "echoed, swapped", resps: []*Response{r(404, "no p2-1"), r(200, "ok p2-0")}, noRefs: true, verified: true, bad: 0},
		{name: "statuses differ, in order", resps: []*Response{ok, nf}, refs: [2]*Response{ok, nf}, verified: true, bad: -1},
		{name: "statuses differ, swapped", resps: []*Response{nf, ok}, refs: [2]*Response{ok, nf}, verified: true, bad: 0},
		{name: "same status, bodies differ, in order", resps: []*Response{r(200, "a"), r(200, "bb")},
			refs: [2]*Response{r(200, "a"), r(200, "bb")}, verified: true, bad: -1},
		{name: "same status, bodies differ, swapped", resps: []*Response{r(200, "bb"), r(200, "a")},
			refs: [2]*Response{r(200, "a"), r(200, "bb")}, verified: true, bad: 0},
		{name: "same answer for both: not checkable, never out of order", resps: []*Response{r(200, "hello\n"), r(200, "hello\n")},
			refs: [2]*Response{r(200, "hello\n"), r(200, "hello\n")}, bad: -1, why: "same answer"},
		{name: "no reference answers", resps: []*Response{ok, nf}, bad: -1, why: "no answer to compare"},
		{name: "answers that match neither kind", resps: []*Response{r(200, "t=1"), r(200, "t=2")},
			refs: [2]*Response{r(200, "t=0"), r(200, "t=00")}, bad: -1, why: "no response looks like"},
		{name: "a 400 where the request alone is answered 404", resps: []*Response{ok, r(400, "bad")},
			refs: [2]*Response{ok, nf}, verified: true, bad: 1, rejected: true},
		{name: "a 503 where the request alone is answered 200, same answers", resps: []*Response{r(503, "busy"), ok},
			refs: [2]*Response{ok, ok}, bad: 0, rejected: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			got := checkOrder(tc.resps, 2, func() [2]*Response { calls++; return tc.refs })
			if tc.noRefs {
				assert.Zero(t, calls, "refs asked for although every response echoes its request")
			} else {
				assert.LessOrEqual(t, calls, 1)
			}
			assert.Equal(t, tc.verified, got.verified, "verified (%+v)", got)
			assert.Equal(t, tc.bad, got.bad, "bad (%+v)", got)
			assert.Equal(t, tc.rejected, got.rejected, "rejected (%+v)", got)
			if tc.why != "" {
				assert.Contains(t, got.why, tc.why)
			}
		})
	}
}
