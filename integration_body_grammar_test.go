package kahttp_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/stretchr/testify/assert"
)

// TestIntegrationChunkedVerdicts sends every chunked body of the
// differential test to examples/hello's /echo (held when the body comes
// with its head) and /upload (a stream), each whole and with the body a
// moment after the head: the status, the body the handler saw and the
// fate of the connection must not depend on the route or on when the
// bytes arrive.
func TestIntegrationChunkedVerdicts(t *testing.T) {
	t.Parallel()
	addr, _, _ := startHello(t)
	for _, tc := range kahttp.ChunkedBodyCases() {
		if tc.Status == 0 || strings.Contains(tc.Body, "GET /") {
			continue // a body cut short waits for its end; a pipelined request answers twice
		}
		for _, path := range []string{"/echo", "/upload"} {
			for _, late := range []bool{false, true} {
				head := "POST " + path + " HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
				c := dial(t, addr)
				if late {
					c.send(head)
					time.Sleep(20 * time.Millisecond)
					c.send(tc.Body)
				} else {
					c.send(head + tc.Body)
				}
				r, err := c.tryReadResponse(false)
				what := path + " " + strconv.Quote(tc.Body[:min(len(tc.Body), 40)])
				if late {
					what += ", body late"
				}
				if !assert.NoError(t, err, what) {
					continue
				}
				assert.Equal(t, tc.Status, r.Status, what)
				if tc.Status != 200 {
					assert.Equal(t, "close", r.header(t, "Connection"), what)
					c.expectClosed()
					continue
				}
				want := tc.Decoded
				if path == "/upload" {
					sum := sha256.Sum256([]byte(tc.Decoded))
					want = strconv.Itoa(len(tc.Decoded)) + " " + hex.EncodeToString(sum[:]) + "\n"
				}
				assert.Equal(t, want, string(r.Body), what)
				assert.Empty(t, r.header(t, "Connection"), what)
				_ = c.conn.Close()
			}
		}
	}
}
