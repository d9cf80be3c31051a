package eventloop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTemporaryAcceptErrors(t *testing.T) {
	opErr := func(err error) error {
		return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", err)}
	}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{opErr(syscall.EMFILE), true},
		{opErr(syscall.ENFILE), true},
		{opErr(syscall.ENOBUFS), true},
		{opErr(syscall.ENOMEM), true},
		{opErr(syscall.ECONNABORTED), true},
		{opErr(syscall.EPROTO), true},
		{opErr(syscall.EBADF), false},
		{opErr(syscall.EINVAL), false},
		{opErr(net.ErrClosed), false},
		{errors.New("something else"), false},
	} {
		assert.Equal(t, tc.want, Temporary(tc.err), "%v", tc.err)
	}
}

// scriptListener fails Accept with its errors in turn, then blocks until closed.
type scriptListener struct {
	errs   chan error
	closed chan struct{}
}

func (l *scriptListener) Accept() (net.Conn, error) {
	select {
	case err := <-l.errs:
		return nil, err
	case <-l.closed:
		return nil, net.ErrClosed
	}
}
func (l *scriptListener) Close() error   { close(l.closed); return nil }
func (l *scriptListener) Addr() net.Addr { return &net.TCPAddr{} }

// countHandler counts the records logged at Warn and above.
type countHandler struct{ n atomic.Int32 }

func (h *countHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (h *countHandler) Handle(context.Context, slog.Record) error    { h.n.Add(1); return nil }
func (h *countHandler) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *countHandler) WithGroup(string) slog.Handler                { return h }

// Out of descriptors, the accept loop backs off and tries again, logs the
// episode once, and ends cleanly when closed in the middle of a backoff.
func TestAcceptBacksOffOnEMFILE(t *testing.T) {
	ln := &scriptListener{errs: make(chan error, 4), closed: make(chan struct{})}
	for range 4 {
		ln.errs <- &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	logs := &countHandler{}
	a := newAcceptor(ln, func(net.Conn) error { return nil }, slog.New(logs))
	done := make(chan error, 1)
	go func() { done <- a.run() }()
	require.Eventually(t, func() bool { return a.failed.Load() == 4 }, 5*time.Second, time.Millisecond)
	a.close()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("the accept loop did not end")
	}
	assert.EqualValues(t, 1, logs.n.Load(), "one log line per backoff episode")
	assert.True(t, a.guarded.Load(), "after an EMFILE the loop keeps a spare descriptor")
}

// A process that never runs out of descriptors keeps no spare: swapping it
// would cost two system calls on every accepted connection.
func TestAcceptKeepsNoSpareUntilEMFILE(t *testing.T) {
	ln := &scriptListener{errs: make(chan error, 1), closed: make(chan struct{})}
	ln.errs <- &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.ECONNABORTED)}
	a := newAcceptor(ln, func(net.Conn) error { return nil }, slog.New(&countHandler{}))
	done := make(chan error, 1)
	go func() { done <- a.run() }()
	require.Eventually(t, func() bool { return a.failed.Load() == 1 }, 5*time.Second, time.Millisecond)
	a.close()
	require.NoError(t, <-done)
	assert.False(t, a.guarded.Load())
	assert.Equal(t, -1, a.spare)
}

// A listener that fails for good stops the engine, which says why and
// closes its connections: no process left serving nothing.
func TestListenerFailureStopsEngine(t *testing.T) {
	p := &lineProto{closed: make(chan error, 1)}
	e := start(t, p)
	c := dial(t, e)
	_, err := io.WriteString(c, "x\n")
	require.NoError(t, err)
	_, err = io.ReadFull(c, make([]byte, 2))
	require.NoError(t, err)

	require.NoError(t, e.acc.ln.Close()) // underneath the engine
	select {
	case <-e.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the engine did not stop")
	}
	assert.ErrorIs(t, e.Err(), net.ErrClosed)
	_, err = c.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF)
	assert.Zero(t, e.Open())
}

// StopAccepting refuses new connections and keeps serving the open ones.
func TestStopAcceptingRefusesNewConnections(t *testing.T) {
	e := start(t, &lineProto{closed: make(chan error, 1)})
	c := dial(t, e)
	_, err := io.WriteString(c, "x\n") // answered: accepted, not just queued in the backlog
	require.NoError(t, err)
	_, err = io.ReadFull(c, make([]byte, 2))
	require.NoError(t, err)
	e.StopAccepting()
	_, err = net.Dial("tcp", e.Addr().String())
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	_, err = io.WriteString(c, "still\n")
	require.NoError(t, err)
	buf := make([]byte, 6)
	_, err = io.ReadFull(c, buf)
	require.NoError(t, err)
	assert.Equal(t, "still\n", string(buf))
}

// With ReusePort, two engines (two processes, in production) bind the same port.
func TestReusePortSharesThePort(t *testing.T) {
	opts := Options{Loops: 1, ReusePort: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	a, err := Start("127.0.0.1:0", &lineProto{}, opts)
	require.NoError(t, err)
	b, err := Start(a.Addr().String(), &lineProto{}, opts)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, e := range []*Engine{a, b} {
		c, err := net.Dial("tcp", e.Addr().String())
		require.NoError(t, err)
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_, err = fmt.Fprint(c, "hi\n")
		require.NoError(t, err)
		_, err = io.ReadFull(c, make([]byte, 3))
		require.NoError(t, err)
		c.Close()
		require.NoError(t, e.Stop(ctx))
	}
}

// A burst of connections is handed over concurrently (a loop opens them
// between two batches of its events, all in one go), at most maxHandOvers
// at a time; after an EMFILE, one at a time with the spare. run returns
// only once every hand-over has ended.
func TestHandOversOverlap(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	entered := make(chan net.Conn, 64)
	release := make(chan struct{})
	var ended atomic.Int32
	a := newAcceptor(ln, func(c net.Conn) error {
		entered <- c
		<-release // the loop's batch
		ended.Add(1)
		_ = c.Close()
		return nil
	}, slog.New(slog.DiscardHandler))
	done := make(chan error, 1)
	go func() { done <- a.run() }()

	const burst = maxHandOvers + 4
	var clients []net.Conn
	for range burst {
		c, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		clients = append(clients, c)
	}
	defer func() {
		for _, c := range clients {
			_ = c.Close()
		}
	}()
	for i := range maxHandOvers {
		select {
		case <-entered:
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d hand-overs under way at once", i)
		}
	}
	select {
	case <-entered:
		t.Fatal("more than maxHandOvers hand-overs at once")
	case <-time.After(50 * time.Millisecond):
	}

	a.close() // with hand-overs in flight: run waits for them
	select {
	case <-done:
		t.Fatal("run returned with hand-overs in flight")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	require.NoError(t, <-done)
	assert.EqualValues(t, maxHandOvers+len(entered), ended.Load(), "every hand-over begun has ended")
	assert.Zero(t, a.inflight.Load())
}
