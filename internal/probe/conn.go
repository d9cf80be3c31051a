package probe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// session is one raw TCP connection to the target. Every read and write is
// bounded by the probe's context deadline and by a per-operation timeout.
type session struct {
	conn   net.Conn
	br     *bufio.Reader
	opTO   time.Duration
	lim    Limits
	stop   func() bool
	target target
}

func dial(ctx context.Context, t target, o Options) (*session, error) {
	d := net.Dialer{Timeout: o.DialTimeout}
	c, err := d.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return nil, err
	}
	s := &session{conn: c, br: newReader(c), opTO: o.Timeout, lim: o.Limits, target: t}
	// Cancelling the context unblocks any pending read or write.
	s.stop = context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Now()) })
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	return s, nil
}

func newReader(c net.Conn) *bufio.Reader { return bufio.NewReaderSize(c, 16<<10) }

func (s *session) close() {
	s.stop()
	_ = s.conn.Close()
}

// deadline sets the connection deadline to now+d, never past the context's.
func (s *session) deadline(ctx context.Context, d time.Duration) {
	dl := time.Now().Add(d)
	if cd, ok := ctx.Deadline(); ok && cd.Before(dl) {
		dl = cd
	}
	if ctx.Err() != nil {
		dl = time.Now()
	}
	_ = s.conn.SetDeadline(dl)
}

func (s *session) send(ctx context.Context, b []byte) error {
	s.deadline(ctx, s.opTO)
	_, err := s.conn.Write(b)
	return err
}

func (s *session) read(ctx context.Context, method string) (*Response, error) {
	s.deadline(ctx, s.opTO)
	return ReadResponse(s.br, method, s.lim)
}

// roundTrip sends req and reads one response.
func (s *session) roundTrip(ctx context.Context, method string, req []byte) (*Response, error) {
	if err := s.send(ctx, req); err != nil {
		return nil, err
	}
	return s.read(ctx, method)
}

// waitClose waits up to d for the server to close the connection. It
// reports closed (EOF or reset) and after how long; bytes arriving instead
// are an unsolicitedError.
func (s *session) waitClose(ctx context.Context, d time.Duration) (closed bool, after time.Duration, err error) {
	start := time.Now()
	s.deadline(ctx, d)
	var b [1]byte
	n, err := s.br.Read(b[:])
	after = time.Since(start)
	switch {
	case n > 0:
		extra, _ := s.br.Peek(s.br.Buffered())
		return false, after, &unsolicitedError{data: append(b[:1:1], extra...)}
	case errors.Is(err, io.EOF) || isReset(err):
		return true, after, nil
	case isTimeout(err) && ctx.Err() == nil:
		return false, after, nil
	}
	return false, after, err
}

type unsolicitedError struct{ data []byte }

func (e *unsolicitedError) Error() string {
	d := e.data
	if len(d) > 40 {
		d = d[:40]
	}
	return fmt.Sprintf("unsolicited bytes from the server: %q", d)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED)
}

// isClosed reports whether err means the server ended the connection
// (cleanly or with a reset) rather than a hang or garbage.
func isClosed(err error) bool {
	return errors.Is(err, ErrNoResponse) || isReset(err) || errors.Is(err, io.EOF)
}

// classify turns a low-level error into a verdict code and a short phrase.
func classify(err error) (Code, string) {
	var pe *ParseError
	var ue *unsolicitedError
	switch {
	case err == nil:
		return "", ""
	case errors.As(err, &pe):
		return CodeGarbage, "answered garbage (" + pe.Error() + ")"
	case errors.As(err, &ue):
		return CodeUnsolicited, ue.Error()
	case isTimeout(err):
		return CodeTimeout, "no answer before the deadline (the server hangs)"
	case isReset(err):
		return CodeReset, "the server reset the connection"
	case errors.Is(err, ErrTruncated):
		return CodeTruncated, "the server closed in the middle of a response"
	case errors.Is(err, ErrNoResponse) || errors.Is(err, io.EOF):
		return CodeClosed, "the server closed without answering"
	}
	return CodeGarbage, err.Error()
}

// fail gives the row an error verdict for err, prefixed with what was going on.
func (r *Row) fail(what string, err error) {
	code, phrase := classify(err)
	r.set(LevelError, what+": "+phrase, code)
	r.Error = err.Error()
}

// request builds a raw request. Headers are given as "Name: value" lines.
func request(method, path, proto, host string, headers ...string) []byte {
	b := []byte(method + " " + path + " " + proto + "\r\nHost: " + host + "\r\nUser-Agent: kaprobe\r\n")
	for _, h := range headers {
		b = append(b, h...)
		b = append(b, "\r\n"...)
	}
	return append(b, "\r\n"...)
}

// withQuery appends kaprobe=<v> to path's query.
func withQuery(path, v string) string {
	for i := 0; i < len(path); i++ {
		if path[i] == '?' {
			return path + "&kaprobe=" + v
		}
	}
	return path + "?kaprobe=" + v
}
