package kahttp_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/stretchr/testify/require"
)

// ioTimeout bounds every single read or write a test makes on a socket.
const ioTimeout = 5 * time.Second

// modes are the two places a handler can run; key tests run in both.
var modes = []kahttp.Mode{kahttp.Inline, kahttp.Pooled}

// forModes runs fn as one subtest per handler mode.
func forModes(t *testing.T, fn func(t *testing.T, mode kahttp.Mode)) {
	t.Helper()
	for _, m := range modes {
		t.Run(m.String(), func(t *testing.T) { fn(t, m) })
	}
}

// startServer starts a server for h on 127.0.0.1:0 and shuts it down when
// the test ends. It returns the server and its address.
func startServer(t *testing.T, cfg kahttp.Config, h kahttp.HandlerFunc) (*kahttp.Server, string) {
	t.Helper()
	if cfg.Loops == 0 {
		cfg.Loops = 2
	}
	srv := kahttp.NewServer(h, cfg)
	require.NoError(t, srv.Start("127.0.0.1:0"))
	t.Cleanup(func() { shutdown(t, srv) })
	return srv, srv.Addr().String()
}

// shutdown stops srv within a few seconds (Shutdown takes ≥500 ms itself).
func shutdown(t *testing.T, srv *kahttp.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Logf("shutdown: %v", err)
	}
}

// echoPath answers every request with its method and path in a small body
// (Content-Length computed by the buffered writer).
func echoPath(w *kahttp.Response, r *kahttp.Request) {
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.WriteString(r.Method() + " " + r.Path())
}

// client is one raw TCP connection to the server with a buffered reader.
type client struct {
	t    *testing.T
	conn *net.TCPConn
	br   *bufio.Reader
}

// dial opens a raw connection to addr, closed when the test ends.
func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return &client{t: t, conn: c.(*net.TCPConn), br: bufio.NewReaderSize(c, 64<<10)}
}

// send writes s in one write.
func (c *client) send(s string) {
	c.t.Helper()
	require.NoError(c.t, c.conn.SetWriteDeadline(time.Now().Add(ioTimeout)))
	_, err := io.WriteString(c.conn, s)
	require.NoError(c.t, err)
}

// sendByteByByte writes s one byte per write (TCP_NODELAY is on by default
// in Go, so most bytes leave in their own segment).
func (c *client) sendByteByByte(s string) {
	c.t.Helper()
	require.NoError(c.t, c.conn.SetWriteDeadline(time.Now().Add(ioTimeout+time.Duration(len(s))*time.Millisecond)))
	for i := 0; i < len(s); i++ {
		_, err := c.conn.Write([]byte{s[i]})
		require.NoError(c.t, err, "byte %d", i)
	}
}

// response is one parsed HTTP response.
type response struct {
	StatusLine string
	Status     int
	Fields     [][2]string // header fields in order, names as sent
	Body       []byte
	Framing    string // "length", "chunked", "close", "none"
	Trailers   [][2]string
}

// get returns the values of the header field name (case-insensitive).
func (r *response) get(name string) []string {
	var vs []string
	for _, f := range r.Fields {
		if strings.EqualFold(f[0], name) {
			vs = append(vs, f[1])
		}
	}
	return vs
}

// header returns the single value of name, "" if absent; it fails the test
// when the field is repeated.
func (r *response) header(t *testing.T, name string) string {
	t.Helper()
	vs := r.get(name)
	require.LessOrEqual(t, len(vs), 1, "field %s repeated: %q", name, vs)
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

func (r *response) has(name string) bool { return len(r.get(name)) > 0 }

// readResponse reads ONE response; head is true for a response to HEAD
// (no body whatever its fields say).
func (c *client) readResponse(head bool) *response {
	c.t.Helper()
	r, err := c.tryReadResponse(head)
	require.NoError(c.t, err)
	return r
}

// tryReadResponse is readResponse returning the error instead of failing.
func (c *client) tryReadResponse(head bool) (*response, error) {
	if err := c.conn.SetReadDeadline(time.Now().Add(ioTimeout)); err != nil {
		return nil, err
	}
	return parseResponse(c.br, head)
}

// readInterim reads one 1xx interim response (status line + fields, no body).
func (c *client) readInterim() *response {
	c.t.Helper()
	require.NoError(c.t, c.conn.SetReadDeadline(time.Now().Add(ioTimeout)))
	r := &response{}
	require.NoError(c.t, readHead(c.br, r))
	return r
}

// readLine reads a CRLF-terminated line and returns it without the CRLF.
func readLine(br *bufio.Reader) (string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(line, "\r\n") {
		return "", fmt.Errorf("line not ended by CRLF: %q", line)
	}
	return line[:len(line)-2], nil
}

// readHead reads the status line and header fields into r.
func readHead(br *bufio.Reader, r *response) error {
	line, err := readLine(br)
	if err != nil {
		return fmt.Errorf("status line: %w", err)
	}
	r.StatusLine = line
	parts := strings.SplitN(line, " ", 3)
	if len(parts) < 2 || !strings.HasPrefix(parts[0], "HTTP/1.") || len(parts[1]) != 3 {
		return fmt.Errorf("malformed status line %q", line)
	}
	if r.Status, err = strconv.Atoi(parts[1]); err != nil {
		return fmt.Errorf("malformed status %q", line)
	}
	for i := 0; ; i++ {
		if i > 200 {
			return errors.New("too many header fields")
		}
		line, err := readLine(br)
		if err != nil {
			return fmt.Errorf("header field: %w", err)
		}
		if line == "" {
			return nil
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return fmt.Errorf("malformed header field %q", line)
		}
		r.Fields = append(r.Fields, [2]string{name, strings.Trim(value, " \t")})
	}
}

// parseResponse reads one response: head, then the body by the framing its
// fields announce (RFC 9112 §6.3).
func parseResponse(br *bufio.Reader, head bool) (*response, error) {
	r := &response{}
	if err := readHead(br, r); err != nil {
		return nil, err
	}
	te, cl := r.get("Transfer-Encoding"), r.get("Content-Length")
	switch {
	case head || r.Status/100 == 1 || r.Status == 204 || r.Status == 304:
		r.Framing = "none"
	case len(te) > 0:
		if len(te) != 1 || !strings.EqualFold(te[0], "chunked") {
			return nil, fmt.Errorf("unexpected Transfer-Encoding %q", te)
		}
		if len(cl) > 0 {
			return nil, errors.New("both Transfer-Encoding and Content-Length")
		}
		r.Framing = "chunked"
		if err := readChunked(br, r); err != nil {
			return nil, err
		}
	case len(cl) > 0:
		if len(cl) != 1 {
			return nil, fmt.Errorf("repeated Content-Length %q", cl)
		}
		n, err := strconv.ParseInt(cl[0], 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("malformed Content-Length %q", cl[0])
		}
		r.Framing = "length"
		r.Body = make([]byte, n)
		if _, err := io.ReadFull(br, r.Body); err != nil {
			return nil, fmt.Errorf("body (%d bytes): %w", n, err)
		}
	default:
		r.Framing = "close"
		b, err := io.ReadAll(io.LimitReader(br, 64<<20))
		if err != nil && !isReset(err) {
			return nil, fmt.Errorf("close-delimited body: %w", err)
		}
		r.Body = b
	}
	return r, nil
}

func readChunked(br *bufio.Reader, r *response) error {
	var body bytes.Buffer
	for i := 0; ; i++ {
		if i > 1<<20 {
			return errors.New("too many chunks")
		}
		line, err := readLine(br)
		if err != nil {
			return fmt.Errorf("chunk size: %w", err)
		}
		size, _, _ := strings.Cut(line, ";")
		n, err := strconv.ParseInt(strings.TrimSpace(size), 16, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("malformed chunk size %q", line)
		}
		if n == 0 {
			break
		}
		if _, err := io.CopyN(&body, br, n); err != nil {
			return fmt.Errorf("chunk data: %w", err)
		}
		if crlf, err := readLine(br); err != nil || crlf != "" {
			return fmt.Errorf("chunk data not followed by CRLF (%q, %v)", crlf, err)
		}
	}
	for i := 0; ; i++ {
		if i > 100 {
			return errors.New("too many trailer fields")
		}
		line, err := readLine(br)
		if err != nil {
			return fmt.Errorf("trailer: %w", err)
		}
		if line == "" {
			break
		}
		name, value, _ := strings.Cut(line, ":")
		r.Trailers = append(r.Trailers, [2]string{name, strings.TrimSpace(value)})
	}
	r.Body = body.Bytes()
	return nil
}

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// closedWithin reports whether the peer closed the connection within d: a
// read returns io.EOF or ECONNRESET. Bytes received before that are
// returned as well (a healthy closed connection sends none).
func (c *client) closedWithin(d time.Duration) (closed bool, extra []byte) {
	c.t.Helper()
	require.NoError(c.t, c.conn.SetReadDeadline(time.Now().Add(d)))
	buf := make([]byte, 4096)
	for i := 0; i < 10000; i++ {
		n, err := c.br.Read(buf)
		extra = append(extra, buf[:n]...)
		if err != nil {
			if errors.Is(err, io.EOF) || isReset(err) {
				return true, extra
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return false, extra
			}
			c.t.Fatalf("unexpected read error: %v", err)
		}
	}
	return false, extra
}

// expectClosed asserts the server closes the connection within a few
// seconds without sending anything more.
func (c *client) expectClosed() {
	c.t.Helper()
	closed, extra := c.closedWithin(3 * time.Second)
	require.Empty(c.t, string(extra), "bytes received before the close")
	require.True(c.t, closed, "connection still open")
}

// expectOpen asserts the connection stays open (nothing to read, no EOF)
// for a short while.
func (c *client) expectOpen() {
	c.t.Helper()
	closed, extra := c.closedWithin(150 * time.Millisecond)
	require.Empty(c.t, string(extra), "unexpected bytes")
	require.False(c.t, closed, "connection closed")
}

// get sends a GET for path over HTTP/1.1 and reads its response.
func (c *client) roundTrip(req string) *response {
	c.t.Helper()
	c.send(req)
	return c.readResponse(strings.HasPrefix(req, "HEAD "))
}

// getReq is a minimal HTTP/1.1 GET for path, with extra header lines (each
// ending in CRLF).
func getReq(path string, extra ...string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: x\r\n" + strings.Join(extra, "") + "\r\n"
}

// closedBy waits (bounded) until the server's stats count at least want
// closes for reason, and returns the count seen.
func closedBy(srv *kahttp.Server, reason string, want int64) int64 {
	deadline := time.Now().Add(3 * time.Second)
	for {
		n := srv.Stats().ClosedBy[reason]
		if n >= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// serveAndDial serves srv on the event loops (Start), or over TLS on a
// listener of its own (Serve), and dials it. served delivers what Serve
// returned once the server has stopped: ErrServerClosed on both.
func serveAndDial(t *testing.T, srv *kahttp.Server, overTLS bool) (net.Conn, <-chan error) {
	t.Helper()
	served := make(chan error, 1)
	if !overTLS {
		require.NoError(t, srv.Start("127.0.0.1:0"))
		served <- kahttp.ErrServerClosed // Start's loops: nothing to wait for
		conn, err := net.Dial("tcp", srv.Addr().String())
		require.NoError(t, err)
		return conn, served
	}
	cert, pool, _, _ := testCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { served <- srv.Serve(tls.NewListener(ln, kahttp.TLSConfig(cert))) }()
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool})
	require.NoError(t, err)
	return conn, served
}
