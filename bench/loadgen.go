package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Request is one request template of a load run. Scenarios rotate through
// their templates; every response is checked against Expect*.
type Request struct {
	Method      string
	Path        string // with query
	ContentType string
	Body        []byte
	Chunked     bool     // send Body with Transfer-Encoding: chunked (two chunks)
	Header      []string // more header lines ("Accept-Encoding: gzip, br")
	// ExpectStatus is the status every response must have (0 means 200).
	ExpectStatus int
	// ExpectLen is the body length every response must have; -1 accepts any.
	ExpectLen int64
}

// LoadSpec describes one load run.
type LoadSpec struct {
	Addr     string
	Conns    int // concurrent connections (one goroutine each)
	Pipeline int // requests written per write on a connection (>=1)
	// NewConnPerReq opens a fresh connection for every request. With HTTP/1.1
	// the request carries "Connection: close"; the generator reads the
	// response, then waits for the server's close (so TIME_WAIT stays on the
	// server's side and the client's ports do not run out).
	NewConnPerReq bool
	// ReqPerConn, if > 0, ends each connection after that many requests
	// (HttpArena's limited-conn, gcannon -r): the last one asks
	// "Connection: close" and the server's close is awaited, as with
	// NewConnPerReq.
	ReqPerConn  int
	HTTP10      bool // speak HTTP/1.0
	KeepAlive10 bool // with HTTP10: send "Connection: Keep-Alive" (ab -k)
	Requests    []Request
	Duration    time.Duration
	MaxRequests int64         // hard bound on requests sent (0: 50 million)
	Timeout     time.Duration // read/write bound past the end of the run (0: 5 s)
}

// LoadResult is what one run measured.
type LoadResult struct {
	OK         int64 // responses with the expected status and body length
	Errors     int64 // wrong status, wrong length, I/O and protocol errors
	Conns      int64 // connections opened
	SlowDials  int64 // connects that took over 500 ms (a dropped SYN is retried after 1 s)
	Elapsed    time.Duration
	Hist       Histogram
	ErrSamples []string // the first few distinct error messages
	// WrkLatency is p50, p99 and max in µs when wrk made the run (Hist is
	// then empty).
	WrkLatency []float64
	// ChildCPU is the CPU time of a load-generator child process (wrk),
	// which the orchestrator's own CPU clock does not include.
	ChildCPU time.Duration
}

// RPS is the rate of correct responses.
func (r *LoadResult) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

const maxErrSamples = 5

type errSink struct {
	mu      sync.Mutex
	samples []string
}

func (s *errSink) add(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) >= maxErrSamples {
		return
	}
	msg := err.Error()
	for _, m := range s.samples {
		if m == msg {
			return
		}
	}
	s.samples = append(s.samples, msg)
}

// formatRequest renders one request template as raw bytes, once per run;
// with last, as the last request of its connection (ReqPerConn).
func formatRequest(spec *LoadSpec, r *Request, last bool) []byte {
	proto := "HTTP/1.1"
	if spec.HTTP10 {
		proto = "HTTP/1.0"
	}
	b := make([]byte, 0, 128+len(r.Body))
	b = append(b, r.Method...)
	b = append(b, ' ')
	b = append(b, r.Path...)
	b = append(b, ' ')
	b = append(b, proto...)
	b = append(b, "\r\nHost: "...)
	b = append(b, spec.Addr...)
	b = append(b, "\r\n"...)
	switch {
	case spec.HTTP10 && spec.KeepAlive10 && !spec.NewConnPerReq:
		b = append(b, "Connection: Keep-Alive\r\n"...)
	case !spec.HTTP10 && (spec.NewConnPerReq || last):
		b = append(b, "Connection: close\r\n"...)
	}
	for _, h := range r.Header {
		b = append(b, h...)
		b = append(b, "\r\n"...)
	}
	if r.Body != nil || r.Method == "POST" {
		if r.ContentType != "" {
			b = append(b, "Content-Type: "...)
			b = append(b, r.ContentType...)
			b = append(b, "\r\n"...)
		}
		if r.Chunked && !spec.HTTP10 {
			b = append(b, "Transfer-Encoding: chunked\r\n\r\n"...)
			half := len(r.Body) / 2
			for _, part := range [][]byte{r.Body[:half], r.Body[half:]} {
				if len(part) == 0 {
					continue
				}
				b = strconv.AppendInt(b, int64(len(part)), 16)
				b = append(b, "\r\n"...)
				b = append(b, part...)
				b = append(b, "\r\n"...)
			}
			return append(b, "0\r\n\r\n"...)
		}
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(r.Body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	return append(b, r.Body...)
}

// RunLoad runs spec against spec.Addr and returns the merged result. It stops
// at spec.Duration or spec.MaxRequests, whichever comes first; requests in
// flight at the deadline are still awaited (bounded by spec.Timeout).
func RunLoad(spec LoadSpec) (*LoadResult, error) {
	if spec.Conns < 1 {
		spec.Conns = 1
	}
	if spec.Pipeline < 1 {
		spec.Pipeline = 1
	}
	if spec.NewConnPerReq || spec.ReqPerConn > 0 {
		spec.Pipeline = 1
	}
	if spec.HTTP10 && spec.Pipeline > 1 {
		return nil, errors.New("loadgen: HTTP/1.0 cannot be pipelined")
	}
	if len(spec.Requests) == 0 {
		return nil, errors.New("loadgen: no requests")
	}
	if spec.MaxRequests <= 0 {
		spec.MaxRequests = 50_000_000
	}
	if spec.Timeout <= 0 {
		spec.Timeout = 5 * time.Second
	}
	if spec.Duration <= 0 {
		spec.Duration = time.Second
	}
	raw := make([][]byte, len(spec.Requests))
	var rawLast [][]byte // the same, asking the server to close (ReqPerConn)
	for i := range spec.Requests {
		raw[i] = formatRequest(&spec, &spec.Requests[i], false)
		if spec.ReqPerConn > 0 {
			rawLast = append(rawLast, formatRequest(&spec, &spec.Requests[i], true))
		}
	}

	var (
		budget atomic.Int64
		sink   errSink
		wg     sync.WaitGroup
	)
	budget.Store(spec.MaxRequests)
	workers := make([]*worker, spec.Conns)
	start := time.Now()
	end := start.Add(spec.Duration)
	for i := range workers {
		w := &worker{
			spec:   &spec,
			raw:    raw,
			last:   rawLast,
			next:   i % len(raw),
			end:    end,
			budget: &budget,
			sink:   &sink,
		}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run()
		}()
	}
	wg.Wait()
	res := &LoadResult{Elapsed: time.Since(start)}
	for _, w := range workers {
		res.OK += w.ok
		res.Errors += w.errs
		res.Conns += w.conns
		res.SlowDials += w.slowDials
		res.Hist.Merge(&w.hist)
	}
	res.ErrSamples = sink.samples
	return res, nil
}

type worker struct {
	spec   *LoadSpec
	raw    [][]byte
	last   [][]byte // raw asking "Connection: close" (ReqPerConn)
	next   int
	onConn int // requests sent on the current connection
	end    time.Time
	budget *atomic.Int64
	sink   *errSink

	conn net.Conn
	rr   respReader
	out  []byte

	ok, errs, conns, slowDials int64
	hist                       Histogram
}

func (w *worker) fail(err error) {
	w.errs++
	w.sink.add(err)
}

func (w *worker) closeConn() {
	if w.conn != nil {
		w.conn.Close()
		w.conn = nil
	}
}

func (w *worker) dial() bool {
	t := time.Now()
	c, err := net.DialTimeout("tcp", w.spec.Addr, 2*time.Second)
	if time.Since(t) > 500*time.Millisecond {
		w.slowDials++
	}
	if err != nil {
		w.fail(err)
		// Do not spin on a refused port; the loop is still bounded by end.
		time.Sleep(10 * time.Millisecond)
		return false
	}
	w.conns++
	w.onConn = 0
	c.SetDeadline(w.end.Add(w.spec.Timeout))
	w.conn = c
	if w.rr.buf == nil {
		w.rr.buf = make([]byte, 32<<10)
	}
	w.rr.reset(c)
	return true
}

func (w *worker) run() {
	spec := w.spec
	d := spec.Pipeline
	for time.Now().Before(w.end) {
		if w.budget.Add(int64(-d)) < 0 {
			break
		}
		// For a new connection per request the latency includes the connect.
		tDial := time.Now()
		if w.conn == nil && !w.dial() {
			continue
		}
		w.out = w.out[:0]
		first := w.next
		lastOnConn := spec.ReqPerConn > 0 && w.onConn+d >= spec.ReqPerConn
		for i := 0; i < d; i++ {
			if lastOnConn {
				w.out = append(w.out, w.last[w.next]...)
			} else {
				w.out = append(w.out, w.raw[w.next]...)
			}
			w.onConn++
			w.next++
			if w.next == len(w.raw) {
				w.next = 0
			}
		}
		t0 := time.Now()
		if spec.NewConnPerReq {
			t0 = tDial
		}
		if _, err := w.conn.Write(w.out); err != nil {
			w.fail(fmt.Errorf("write: %w", err))
			w.closeConn()
			continue
		}
		idx := first
		closing := false
		for i := 0; i < d; i++ {
			req := &spec.Requests[idx]
			idx++
			if idx == len(spec.Requests) {
				idx = 0
			}
			status, n, keep, err := w.rr.readResponse(spec.HTTP10 && !spec.KeepAlive10)
			if err != nil {
				if errors.Is(err, io.EOF) && i > 0 {
					err = fmt.Errorf("server closed the connection after %d of %d pipelined responses", i, d)
				}
				w.fail(fmt.Errorf("read: %w", err))
				w.errs += int64(d - i - 1)
				w.closeConn()
				break
			}
			w.hist.Record(time.Since(t0))
			want := req.ExpectStatus
			if want == 0 {
				want = 200
			}
			switch {
			case status != want:
				w.fail(fmt.Errorf("%s %s: status %d, want %d", req.Method, req.Path, status, want))
			case req.ExpectLen >= 0 && n != req.ExpectLen:
				w.fail(fmt.Errorf("%s %s: body length %d, want %d", req.Method, req.Path, n, req.ExpectLen))
			default:
				w.ok++
			}
			if !keep {
				if i < d-1 {
					w.fail(fmt.Errorf("server closed the connection after %d of %d pipelined responses", i+1, d))
					w.errs += int64(d - i - 2)
				}
				closing = true
				break
			}
		}
		if w.conn != nil && (closing || spec.NewConnPerReq || lastOnConn) {
			// The server must close now ("Connection: close", or HTTP/1.0
			// without keep-alive); wait for it briefly so that it closes
			// first and TIME_WAIT stays on its side.
			w.conn.SetReadDeadline(time.Now().Add(time.Second))
			if err := w.rr.expectEOF(); err != nil {
				w.fail(fmt.Errorf("waiting for the server to close: %w", err))
			}
			w.closeConn()
		}
	}
	w.closeConn()
}

// respReader is a small allocation-free HTTP/1.x response parser over a
// fixed buffer. It understands Content-Length, chunked and close-delimited
// bodies, and counts body bytes without copying them anywhere.
type respReader struct {
	c    io.Reader
	buf  []byte
	r, w int
}

var (
	errLineTooLong = errors.New("response header line too long")
	errBadStatus   = errors.New("malformed status line")
	errBadChunk    = errors.New("malformed chunk size")
	errBadLength   = errors.New("malformed Content-Length")
	errNotClosed   = errors.New("server sent more bytes instead of closing")
)

func (rr *respReader) reset(c io.Reader) {
	rr.c = c
	rr.r, rr.w = 0, 0
}

// fill reads more bytes, compacting the buffer first when needed.
func (rr *respReader) fill() error {
	if rr.r == rr.w {
		rr.r, rr.w = 0, 0
	} else if rr.w == len(rr.buf) && rr.r > 0 {
		rr.w = copy(rr.buf, rr.buf[rr.r:rr.w])
		rr.r = 0
	}
	if rr.w == len(rr.buf) {
		return errLineTooLong
	}
	n, err := rr.c.Read(rr.buf[rr.w:])
	rr.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// line returns the next line without its CR LF; the view is valid until the
// next call.
func (rr *respReader) line() ([]byte, error) {
	for {
		for i := rr.r; i < rr.w; i++ {
			if rr.buf[i] == '\n' {
				l := rr.buf[rr.r:i]
				rr.r = i + 1
				if n := len(l); n > 0 && l[n-1] == '\r' {
					l = l[:n-1]
				}
				return l, nil
			}
		}
		if err := rr.fill(); err != nil {
			if err == io.EOF && rr.r < rr.w {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
}

// skip consumes n body bytes.
func (rr *respReader) skip(n int64) error {
	for n > 0 {
		if rr.r == rr.w {
			if err := rr.fill(); err != nil {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return err
			}
		}
		avail := int64(rr.w - rr.r)
		if avail > n {
			avail = n
		}
		rr.r += int(avail)
		n -= avail
	}
	return nil
}

// skipToEOF consumes everything until the peer closes and returns its length.
func (rr *respReader) skipToEOF() (int64, error) {
	n := int64(rr.w - rr.r)
	rr.r, rr.w = 0, 0
	for {
		m, err := rr.c.Read(rr.buf)
		n += int64(m)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// expectEOF succeeds when the peer closes without sending anything more.
func (rr *respReader) expectEOF() error {
	if rr.r != rr.w {
		return errNotClosed
	}
	var one [1]byte
	n, err := rr.c.Read(one[:])
	if n > 0 {
		return errNotClosed
	}
	if err == io.EOF {
		return nil
	}
	return err
}

// readResponse reads one response and returns its status, body length and
// whether the connection stays open. close10 says the request was HTTP/1.0
// without keep-alive, so only a close ends the exchange.
func (rr *respReader) readResponse(close10 bool) (status int, bodyLen int64, keep bool, err error) {
	l, err := rr.line()
	if err != nil {
		return 0, 0, false, err
	}
	// "HTTP/1.x SSS reason"
	if len(l) < 12 || string(l[:7]) != "HTTP/1." || l[8] != ' ' {
		return 0, 0, false, errBadStatus
	}
	keep = l[7] == '1' && !close10
	for _, c := range l[9:12] {
		if c < '0' || c > '9' {
			return 0, 0, false, errBadStatus
		}
		status = status*10 + int(c-'0')
	}
	contentLen := int64(-1)
	chunked := false
	for {
		l, err = rr.line()
		if err != nil {
			return status, 0, false, err
		}
		if len(l) == 0 {
			break
		}
		colon := -1
		for i, c := range l {
			if c == ':' {
				colon = i
				break
			}
		}
		if colon <= 0 {
			continue
		}
		name, val := l[:colon], trimSpace(l[colon+1:])
		switch {
		case equalFold(name, "content-length"):
			contentLen = 0
			if len(val) == 0 {
				return status, 0, false, errBadLength
			}
			for _, c := range val {
				if c < '0' || c > '9' {
					return status, 0, false, errBadLength
				}
				contentLen = contentLen*10 + int64(c-'0')
			}
		case equalFold(name, "transfer-encoding"):
			chunked = hasTokenFold(val, "chunked")
		case equalFold(name, "connection"):
			if hasTokenFold(val, "close") {
				keep = false
			} else if hasTokenFold(val, "keep-alive") && !close10 {
				keep = true
			}
		}
	}
	switch {
	case status < 200 || status == 204 || status == 304:
		return status, 0, keep, nil
	case chunked:
		n, err := rr.readChunked()
		return status, n, keep && err == nil, err
	case contentLen >= 0:
		err := rr.skip(contentLen)
		return status, contentLen, keep && err == nil, err
	default:
		n, err := rr.skipToEOF()
		return status, n, false, err
	}
}

func (rr *respReader) readChunked() (int64, error) {
	var total int64
	for {
		l, err := rr.line()
		if err != nil {
			return total, err
		}
		var size int64
		digits := 0
		for _, c := range l {
			var v byte
			switch {
			case c >= '0' && c <= '9':
				v = c - '0'
			case c >= 'a' && c <= 'f':
				v = c - 'a' + 10
			case c >= 'A' && c <= 'F':
				v = c - 'A' + 10
			case c == ';' || c == ' ' || c == '\t':
				goto done
			default:
				return total, errBadChunk
			}
			size = size<<4 | int64(v)
			digits++
			if digits > 15 {
				return total, errBadChunk
			}
		}
	done:
		if digits == 0 {
			return total, errBadChunk
		}
		if size == 0 {
			for { // trailers, then the empty line
				l, err := rr.line()
				if err != nil {
					return total, err
				}
				if len(l) == 0 {
					return total, nil
				}
			}
		}
		if err := rr.skip(size); err != nil {
			return total, err
		}
		total += size
		l, err = rr.line()
		if err != nil {
			return total, err
		}
		if len(l) != 0 {
			return total, errBadChunk
		}
	}
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// equalFold compares b with the lower-case ASCII string s, ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// hasTokenFold reports whether the comma-separated list v holds token.
func hasTokenFold(v []byte, token string) bool {
	for len(v) > 0 {
		i := 0
		for i < len(v) && v[i] != ',' {
			i++
		}
		if equalFold(trimSpace(v[:i]), token) {
			return true
		}
		if i == len(v) {
			break
		}
		v = v[i+1:]
	}
	return false
}
