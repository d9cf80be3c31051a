//go:build linux

package eventloop

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// A busy loop that never parks (here: this test's goroutine, with the only
// P) hands the accept loop its turn through assist: the connection waiting
// in the backlog is accepted within that one call and handed over within
// the next few, not when sysmon next polls the network (every 10 ms),
// which is how long a new connection waited under keep-alive load before.
func TestAssistAcceptsForABusyLoop(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	enrolled := make(chan net.Conn, 4)
	a := newAcceptor(ln, func(c net.Conn) error { enrolled <- c; return nil }, slog.New(slog.DiscardHandler))
	require.GreaterOrEqual(t, a.lnfd, 0)
	done := make(chan error, 1)
	go func() { done <- a.run() }()
	defer func() {
		a.close()
		require.NoError(t, <-done)
		for len(enrolled) > 0 {
			_ = (<-enrolled).Close()
		}
	}()
	for deadline := time.Now().Add(2 * time.Second); a.stage.Load() != inAccept; {
		require.True(t, time.Now().Before(deadline), "the accept loop never waited in Accept")
		runtime.Gosched()
	}

	assert.False(t, a.assist(), "nothing waiting: returns at once")
	assert.Empty(t, enrolled)

	// A connect that does not park this goroutine (net.Dial would, and
	// the scheduler would run the accept loop meanwhile): the connection
	// waits in the backlog until this goroutine lets go of the P. On a
	// loaded machine sysmon may preempt this goroutine while the handshake
	// is still on its way, and the accept loop takes the connection before
	// it is seen queued: then the setting is tried again with a new one.
	port := ln.Addr().(*net.TCPAddr).Port
	queued := false
	for try := 0; try < 20 && !queued; try++ {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		require.NoError(t, err)
		defer unix.Close(fd)
		if err := unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
			require.ErrorIs(t, err, unix.EINPROGRESS)
		}
		for deadline := time.Now().Add(2 * time.Second); !queued && len(enrolled) == 0; queued = readable(a.lnfd) {
			require.True(t, time.Now().Before(deadline), "the connection was neither queued nor accepted")
		}
		if !queued {
			_ = (<-enrolled).Close() // preempted: the accept loop was first
		}
	}
	require.True(t, queued, "the connection never waited in the backlog")
	assert.Empty(t, enrolled)
	// assist waits assistWait for the accept loop; on a loaded machine the
	// thread that runs it may get no CPU that long, and the busy loop
	// calls assist again at its next callbacks, as here.
	took := a.assist()
	for i := 0; i < 5 && !took; i++ {
		took = a.assist()
	}
	assert.True(t, took, "the accept loop took the connection")
	// The hand-over runs on a hander, which the loop's next callbacks
	// yield to (busy calls assist at each while it reports true).
	for i := 0; i < 10 && len(enrolled) == 0; i++ {
		a.assist()
	}
	assert.Len(t, enrolled, 1, "handed over within the busy loop's next callbacks")
}

// Connections in the listener's accept queue when accepting stops were
// established (the kernel completed their handshakes) and their clients
// have sent requests: closing the listener with them queued resets them,
// and a request sent on a connection that succeeded is lost. They are
// taken and handed over before the listener closes. Here the accept loop
// starts only after close, so every connection is still queued then.
func TestCloseTakesTheQueuedConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan string, 16)
	a := newAcceptor(ln, func(c net.Conn) error {
		defer c.Close()
		buf := make([]byte, 3)
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, buf); err != nil {
			return err
		}
		served <- string(buf)
		_, err := c.Write([]byte("ok\n"))
		return err
	}, slog.New(slog.DiscardHandler))

	const queued = 5
	var clients []net.Conn
	for i := range queued {
		c, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		defer c.Close()
		_, err = fmt.Fprintf(c, "r%d\n", i)
		require.NoError(t, err)
		clients = append(clients, c)
	}
	require.Eventually(t, func() bool { return a.queuedNow() == queued }, 5*time.Second, time.Millisecond)

	a.close()
	done := make(chan error, 1)
	go func() { done <- a.run() }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return")
	}
	assert.Len(t, served, queued, "every queued connection was handed over")
	for i, c := range clients {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 3)
		_, err := io.ReadFull(c, buf)
		assert.NoError(t, err, "client %d: answered, not reset", i)
		assert.Equal(t, "ok\n", string(buf))
	}
	_, err = net.Dial("tcp", ln.Addr().String())
	assert.ErrorIs(t, err, syscall.ECONNREFUSED, "the listener is closed once they are taken")
}

// timeoutCounter counts the Accepts that ended at their deadline.
type timeoutCounter struct {
	*net.TCPListener
	timeouts atomic.Int32
}

func (l *timeoutCounter) Accept() (net.Conn, error) {
	c, err := l.TCPListener.Accept()
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		l.timeouts.Add(1)
	}
	return c, err
}

// A connection counted in the queue by close may be taken by run's own
// Accept before the deadline wakes it: takeQueued reads the queue again
// before each Accept, and does not wait out queuedWait for one that is no
// longer there.
func TestCloseTakesNoMoreThanIsQueued(t *testing.T) {
	tl, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	ln := &timeoutCounter{TCPListener: tl}
	var handed atomic.Int32
	a := newAcceptor(ln, func(c net.Conn) error { handed.Add(1); return c.Close() }, slog.New(slog.DiscardHandler))
	for range 3 {
		c, err := net.Dial("tcp", tl.Addr().String())
		require.NoError(t, err)
		defer c.Close()
	}
	require.Eventually(t, func() bool { return a.queuedNow() == 3 }, 5*time.Second, time.Millisecond)
	a.close() // counts 3
	_ = tl.SetDeadline(time.Time{})
	early, err := tl.Accept() // as run's Accept would, just before the deadline woke it
	require.NoError(t, err)
	defer early.Close()
	_ = tl.SetDeadline(time.Now())
	require.NoError(t, a.run())
	assert.EqualValues(t, 2, handed.Load(), "the two still queued were handed over")
	assert.EqualValues(t, 1, ln.timeouts.Load(), "only the wake-up ended at a deadline")
}
