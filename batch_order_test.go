package kahttp

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// xStream writes size bytes of 'x' in 1 KiB pieces, without a
// Content-Length: past flushAt the pooled writer hands pieces to the loop
// with AsyncWrite while the handler still runs.
func xStream(size int) HandlerFunc {
	piece := []byte(strings.Repeat("x", 1024))
	return func(w *Response, r *Request) {
		for left := size; left > 0; left -= len(piece) {
			_, _ = w.Write(piece[:min(left, len(piece))])
		}
	}
}

// A wake-up the loop queued before the worker's last AsyncWrite (a tick of
// the drain watch, a read event) may run before that write. The final part
// of the response must still leave after every piece the worker handed over
// before it: the batch completes only once its queued writes have run.
func TestPooledResponseWaitsForQueuedWrites(t *testing.T) {
	const size = 100_000 // one flush queued, then the handler returns
	for _, proto := range []string{"HTTP/1.1", "HTTP/1.0"} {
		t.Run(proto, func(t *testing.T) {
			m := newMemServer(xStream(size), Config{Mode: Pooled})
			m.c.quietAsync = true // only the worker's last wake-up runs Traffic
			in := []byte("GET /stream " + proto + "\r\nHost: x\r\n\r\n")
			deadline := time.After(5 * time.Second)
			in = in[m.traffic(in):]
			m.c.afterTraffic()
			for m.s.t != nil && !m.c.closing {
				select {
				case <-m.c.woken:
					// The stale wake-up first: Traffic and its batch reach
					// the socket before the writes queued after the wake-up.
					in = in[m.traffic(in):]
					_ = m.c.Flush()
					m.c.afterTraffic()
				case <-time.After(20 * time.Millisecond):
					m.c.afterTraffic() // the loop gets to the queued writes
				case <-deadline:
					t.Fatal("pooled handler did not finish")
				}
			}
			resps := readResponses(t, m.c.sent, "GET")
			require.Len(t, resps, 1)
			body, _ := io.ReadAll(resps[0].Body)
			assert.Equal(t, size, len(body))
			assert.Equal(t, strings.Repeat("x", size), string(body), "bytes in order")
		})
	}
}
