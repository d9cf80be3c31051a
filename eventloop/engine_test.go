package eventloop

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lineProto answers each "\n"-terminated line: "big N" sends N bytes then
// closes after flush, "wait" arms a 50 ms deadline, "watch" turns watching on,
// anything else is echoed.
type lineProto struct {
	expired atomic.Int32
	empty   atomic.Int32 // Traffic calls with no input
	closed  chan error
}

func (p *lineProto) Open(c *Conn) bool { return true }

func (p *lineProto) Traffic(c *Conn, in []byte) int {
	if len(in) == 0 {
		p.empty.Add(1)
	}
	n := 0
	for {
		i := bytes.IndexByte(in[n:], '\n')
		if i < 0 {
			return n
		}
		line := string(in[n : n+i])
		n += i + 1
		out := c.Output()
		switch {
		case strings.HasPrefix(line, "big "):
			size := 0
			for _, d := range line[4:] {
				size = size*10 + int(d-'0')
			}
			out.B = append(out.B, bytes.Repeat([]byte("x"), size)...)
			c.CloseAfterFlush(5 * time.Second)
			return n
		case line == "wait":
			c.SetDeadline(time.Now().Add(50 * time.Millisecond))
		case line == "watch":
			c.Watch(true)
		default:
			out.B = append(out.B, line+"\n"...)
		}
	}
}

func (p *lineProto) Expired(c *Conn) {
	p.expired.Add(1)
	c.Output().B = append(c.Output().B, "expired\n"...)
}

func (p *lineProto) Closed(c *Conn, err error) {
	select {
	case p.closed <- err:
	default:
	}
}

func start(t *testing.T, p *lineProto) *Engine {
	t.Helper()
	e, err := Start("127.0.0.1:0", p, Options{Loops: 2, Sweep: 10 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.Stop(ctx)
	})
	return e
}

func dial(t *testing.T, e *Engine) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", e.Addr().String())
	require.NoError(t, err)
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	t.Cleanup(func() { c.Close() })
	return c
}

func TestEchoAndBatching(t *testing.T) {
	e := start(t, &lineProto{closed: make(chan error, 1)})
	addr, ok := e.Addr().(*net.TCPAddr)
	require.True(t, ok)
	assert.NotZero(t, addr.Port)

	c := dial(t, e)
	_, err := io.WriteString(c, "a\nb\nc") // "c" waits for its newline
	require.NoError(t, err)
	buf := make([]byte, 4)
	_, err = io.ReadFull(c, buf)
	require.NoError(t, err)
	assert.Equal(t, "a\nb\n", string(buf))
	_, err = io.WriteString(c, "\n")
	require.NoError(t, err)
	_, err = io.ReadFull(c, buf[:2])
	require.NoError(t, err)
	assert.Equal(t, "c\n", string(buf[:2]))
	require.Eventually(t, func() bool { return e.Open() == 1 }, time.Second, time.Millisecond)
}

// gnet's Close drops unsent output: CloseAfterFlush must deliver all of it first.
func TestCloseAfterFlushDeliversEverything(t *testing.T) {
	e := start(t, &lineProto{closed: make(chan error, 1)})
	c := dial(t, e).(*net.TCPConn)
	_ = c.SetReadBuffer(16 << 10)
	_, err := io.WriteString(c, "big 8000000\nignored\n")
	require.NoError(t, err)
	time.Sleep(100 * time.Millisecond) // let the server's socket buffer fill
	got, err := io.ReadAll(c)
	require.NoError(t, err, "the connection ends with a clean close")
	assert.Equal(t, 8000000, len(got))
}

func TestDeadlineExpires(t *testing.T) {
	p := &lineProto{closed: make(chan error, 1)}
	e := start(t, p)
	c := dial(t, e)
	_, err := io.WriteString(c, "wait\n")
	require.NoError(t, err)
	buf := make([]byte, 8)
	_, err = io.ReadFull(c, buf)
	require.NoError(t, err)
	assert.Equal(t, "expired\n", string(buf))
	assert.Equal(t, int32(1), p.expired.Load())
}

func TestWatchWakes(t *testing.T) {
	p := &lineProto{closed: make(chan error, 1)}
	e := start(t, p)
	c := dial(t, e)
	_, err := io.WriteString(c, "watch\n")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return p.empty.Load() >= 3 }, 2*time.Second, time.Millisecond)
}

func TestEachAndClose(t *testing.T) {
	p := &lineProto{closed: make(chan error, 1)}
	e := start(t, p)
	c := dial(t, e)
	_, _ = io.WriteString(c, "x\n")
	_, _ = io.ReadFull(c, make([]byte, 2))
	n := 0
	e.Each(func(conn *Conn) { n++; conn.Close() })
	assert.Equal(t, 1, n)
	_, err := c.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF)
	select {
	case err := <-p.closed:
		assert.NoError(t, err, "closed by this side")
	case <-time.After(2 * time.Second):
		t.Fatal("Closed not called")
	}
}

func TestStartOnBusyPortFails(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	_, err = Start(ln.Addr().String(), &lineProto{}, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	assert.Error(t, err)
}

// Watch is called by the loop and by pooled workers at once: the flag and
// the engine's map change together, and a connection that is gone never
// enters the map again (it would keep the fast tick alive and leak).
func TestWatchFlagAndMapAgree(t *testing.T) {
	e := &Engine{watching: map[*Conn]struct{}{}}
	c := &Conn{eng: e}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				c.Watch((i+g)%2 == 0)
			}
		}()
	}
	wg.Wait()
	e.watchMu.Lock()
	_, inMap := e.watching[c]
	e.watchMu.Unlock()
	assert.Equal(t, c.watched.Load(), inMap, "flag and map disagree")

	e.unwatch(c) // gone
	c.Watch(true)
	assert.False(t, c.watched.Load())
	assert.Empty(t, e.watching, "a gone connection entered the map again")
}

// A storm of deadlines passing at once (connections opened together) is
// acted on a few at a time (expiryQuota), and its wake-ups looked at
// maxWakesAtOnce per loop task: every connection still expires, once.
func TestExpiryStormSpread(t *testing.T) {
	p := &lineProto{closed: make(chan error, 1)}
	e := start(t, p)
	const n = 5*minExpiriesPerTick + 7
	require.Equal(t, minExpiriesPerTick, expiryQuota(n), "spread over ticks")
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", e.Addr().String())
		require.NoError(t, err)
		defer c.Close()
		_, err = io.WriteString(c, "wait\n")
		require.NoError(t, err)
		conns[i] = c
	}
	for _, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line := make([]byte, len("expired\n"))
		_, err := io.ReadFull(c, line)
		require.NoError(t, err)
		assert.Equal(t, "expired\n", string(line))
	}
	assert.EqualValues(t, n, p.expired.Load())
}

// The quota of expiries a tick grows with the sweep's list, so that any
// list is acted on within expireWaveTicks ticks: a fixed quota would let
// connections opened faster than it expires them pile up.
func TestExpiryQuota(t *testing.T) {
	for _, tc := range []struct{ n, want int }{
		{0, minExpiriesPerTick},
		{1, minExpiriesPerTick},
		{2000, minExpiriesPerTick}, // slowloris: 2,000 over 1,000 ticks
		{2 * expireWaveTicks, 2},
		{2*expireWaveTicks + 1, 3},
		{100_000, 100},
	} {
		q := expiryQuota(tc.n)
		assert.Equal(t, tc.want, q, "n = %d", tc.n)
		assert.LessOrEqual(t, tc.n, q*expireWaveTicks, "n = %d: within expireWaveTicks ticks", tc.n)
	}
}
