package kahttp

import (
	"context"
	"errors"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Clients that pipeline requests without end and never read: gnet cannot
// stop reading a connection, so the server bounds what each may hold
// unconsumed (the next request plus a margin) and closes it past that,
// counted as overloaded. The heap stays bounded while they write, is given
// back once they are gone, and others are served meanwhile.
func TestPipelineFloodNeverReadKeepsMemoryBounded(t *testing.T) {
	for _, mode := range []Mode{Inline, Pooled} {
		t.Run(mode.String(), func(t *testing.T) {
			const conns = 20
			answer := strings.Repeat("x", 4000) // so unread answers pile up fast
			srv := startServer(t, HandlerFunc(func(w *Response, r *Request) {
				_, _ = w.WriteString(answer)
			}), Config{Mode: mode, Loops: 2})
			runtime.GC()
			runtime.GC() // twice: sync.Pool's victim cache too
			base := heapInUse()

			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			var peak heapPeak
			go peak.sample(ctx)
			var wg sync.WaitGroup
			req := []byte(strings.Repeat("GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n", 1000))
			for range conns {
				c := dial(t, srv).(*net.TCPConn)
				_ = c.SetReadBuffer(4096) // and never read
				wg.Add(1)
				go func() {
					defer wg.Done()
					for ctx.Err() == nil { // until the server closes it
						_ = c.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
						if _, err := c.Write(req); err != nil && !isTimeout(err) {
							return // closed by the server
						}
					}
				}()
			}

			assertOthersServed(t, srv, answer)
			wg.Wait()
			cancel()

			growth := peak.max() - base
			t.Logf("%s: peak heap %d MiB over %d MiB at start with %d flooding clients; closed as overloaded: %d",
				mode, growth>>20, base>>20, conns, srv.Stats().ClosedBy["overloaded"])
			// Each: MaxOutboundBytes of unread answers plus one request and
			// its margin of input; 60 MiB is the bound for 20.
			assert.Less(t, growth, int64(60<<20))
			assert.Equal(t, int64(conns), srv.Stats().ClosedBy["overloaded"])
			require.Eventually(t, func() bool { return srv.Stats().ConnsOpen == 0 }, 5*time.Second, 10*time.Millisecond)
			runtime.GC()
			runtime.GC()
			assert.Less(t, heapInUse()-base, int64(8<<20), "memory is given back once they are gone")
		})
	}
}

func heapInUse() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// heapPeak samples the heap in use until ctx ends.
type heapPeak struct {
	mu   sync.Mutex
	peak int64
}

func (p *heapPeak) sample(ctx context.Context) {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		h := heapInUse()
		p.mu.Lock()
		p.peak = max(p.peak, h)
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (p *heapPeak) max() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak
}

func isTimeout(err error) bool {
	var ne net.Error
	return err != nil && errors.As(err, &ne) && ne.Timeout()
}

func TestOverInbound(t *testing.T) {
	get := "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	head := func(field string) string { return "POST /up HTTP/1.1\r\nHost: x\r\n" + field + "\r\n\r\n" }
	headMax := 8<<10 + 16<<10 // the default request line and header limits
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"a few pipelined requests", strings.Repeat(get, 100), false},
		{"requests up to the margin", strings.Repeat("x", headMax+inboundMargin), false},
		{"pipelined past the margin", strings.Repeat(get, (headMax+inboundMargin)/len(get)+1), true},
		{"a body within its length", head("Content-Length: 1000000") + strings.Repeat("x", 1000000), false},
		{"past the body and the margin", head("Content-Length: 1000000") + strings.Repeat("x", 1000000+inboundMargin+1), true},
		{"a chunked body up to MaxBodyBytes", head("Transfer-Encoding: chunked") + "400000\r\n" + strings.Repeat("x", 4<<20), false},
		{"a chunked body far past it", head("Transfer-Encoding: chunked") + "500000\r\n" + strings.Repeat("x", 5<<20), true},
		{"garbage", strings.Repeat("\x00", headMax+inboundMargin+1), true},
	}
	m := newMemServer(pathHandler, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			assert.Equal(t, tt.want, m.s.overInbound(in))
			assert.Equal(t, tt.in, string(in), "the input is left as it came")
		})
	}
}
