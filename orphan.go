package kahttp

import (
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/valyala/bytebufferpool"
)

// A client may half-close its connection after sending its requests
// (`printf '...' | nc host port` does) and still wait for the answers. gnet
// closes a connection on EOF, so a session that still owes answers — a
// pooled handler running, requests left in the buffer — keeps a dup of the
// socket and finishes on a goroutine, with blocking writes.

// blockingConn is the transport of a session served by a goroutine with
// blocking reads and writes instead of a loop: a half-closed client that
// outlived its gnet connection (below), a connection detached for a
// streamed body or an upgrade (stream.go, upgrade.go), a connection from a
// net.Listener (serve.go).
type blockingConn struct {
	// leftover: the requests buffered when gnet closed the connection
	leftover *bytebufferpool.ByteBuffer
	// redo: output the loop refused after the close, for the orphan to
	// send in order; guarded by session.mu
	redo []*bytebufferpool.ByteBuffer
	// s is the socket: f, a dup taken from the loop, or a connection from
	// a net.Listener (serve.go), where f is nil.
	s        sock
	f        *os.File
	deadline time.Time // the session's timer (SetDeadline): serve.go's reads end there
	hijacked bool      // a handler took the socket (Response.Hijack): not ours to close
	out      *bytebufferpool.ByteBuffer
	closing  bool
	err      error
	timeout  time.Duration
	until    time.Time // reads end here (ReadTimeout of a streamed request); zero: no bound
	shard    uint32    // Loop: off the loops, connections take the counters' shards in turn
}

// nextShard deals the counters' shards out to blocking connections.
var nextShard atomic.Uint32

// sock is what a blocking transport needs of its socket: *os.File and
// net.Conn both are.
type sock interface {
	io.ReadWriteCloser
	SetReadDeadline(t time.Time) error
	SetWriteDeadline(t time.Time) error
}

func newBlockingConn(fd int, timeout time.Duration) *blockingConn {
	// The dup shares the non-blocking flag, so os.NewFile puts it on Go's poller.
	f := os.NewFile(uintptr(fd), "kahttp-orphan")
	return &blockingConn{f: f, s: f, timeout: timeout, shard: nextShard.Add(1)}
}

func (o *blockingConn) write(b []byte) error {
	if o.hijacked {
		return ErrHijacked // the socket is the handler's: nothing of ours goes out
	}
	if o.err == nil && len(b) > 0 {
		_ = o.s.SetWriteDeadline(time.Now().Add(o.timeout))
		_, o.err = o.s.Write(b)
	}
	return o.err
}

// read reads from the socket, waiting at most the timeout for bytes, and
// never past until (if set).
func (o *blockingConn) read(p []byte) (int, error) {
	d := time.Now().Add(o.timeout)
	if !o.until.IsZero() && o.until.Before(d) {
		d = o.until
	}
	_ = o.s.SetReadDeadline(d)
	return o.s.Read(p)
}

func (o *blockingConn) Output() *bytebufferpool.ByteBuffer {
	if o.out == nil {
		o.out = bytebufferpool.Get()
	}
	return o.out
}

func (o *blockingConn) Flush() error {
	if o.out == nil {
		return o.err
	}
	err := o.write(o.out.B)
	o.out.Reset()
	return err
}

func (o *blockingConn) AsyncWrite(b []byte, done func(error)) error {
	err := o.write(b)
	if done != nil {
		done(err)
	}
	return err
}

// release lets go of the output buffer, leaving the socket open (it goes
// back to a loop).
func (o *blockingConn) release() {
	if o.out != nil {
		bytebufferpool.Put(o.out)
		o.out = nil
	}
}

func (o *blockingConn) close() {
	_ = o.Flush()
	if o.out != nil {
		bytebufferpool.Put(o.out)
		o.out = nil
	}
	_ = o.s.Close()
}

func (o *blockingConn) Pending() int                       { return 0 }
func (o *blockingConn) CloseAfterFlush(time.Duration)      { o.closing = true }
func (o *blockingConn) Abort()                             { o.closing = true }
func (o *blockingConn) Need(int, time.Duration, time.Time) {}
func (o *blockingConn) Unread() int                        { return 0 }
func (o *blockingConn) Closing() bool                      { return o.closing || o.err != nil }
func (o *blockingConn) SetDeadline(t time.Time)            { o.deadline = t }
func (o *blockingConn) Watch(bool)                         {}
func (o *blockingConn) Wake()                              {}
func (o *blockingConn) Buffered() []byte                   { return nil }
func (o *blockingConn) Loop() int                          { return int(o.shard) }
func (o *blockingConn) Dup() (int, error)                  { return -1, os.ErrInvalid }
func (o *blockingConn) Detach() (int, error)               { return -1, os.ErrInvalid }

// runOrphan finishes what the client is owed after gnet closed the
// connection: the pooled response in flight (once its handler is done),
// then every complete request left in the buffer, each run on this goroutine.
func (s *session) runOrphan() {
	o := s.orphan
	defer func() {
		o.close()
		if s.pending != nil {
			releaseRequest(s.pending)
			s.pending = nil
		}
		if o.leftover != nil {
			bytebufferpool.Put(o.leftover)
			o.leftover = nil
		}
	}()
	s.orphanCatchUp()
	if t := s.t; t != nil { // the pooled batch in flight at the close
		_ = o.write(t.sink.buf.B)
		bytebufferpool.Put(t.sink.buf)
		t.sink.buf = nil
		keep := t.keep
		s.mu.Lock()
		t.sink.releaseSpare()
		s.mu.Unlock()
		s.releaseTask(false) // a write callback may still come: orphanCatchUp's wait is bounded
		if !keep {
			return
		}
	}
	s.mu.Lock()
	s.c = o
	s.mu.Unlock()
	s.inlineOnly = true // blocking is fine here: this goroutine serves nobody else
	if o.leftover == nil {
		return
	}
	in := o.leftover.B
	for len(in) > 0 && !o.Closing() {
		n := s.traffic(in)
		_ = o.Flush()
		if n == 0 {
			break // a partial request: it will never be completed
		}
		in = in[n:]
	}
}
