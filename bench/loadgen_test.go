package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// Every load run here is bounded by a small request count and a short
// duration, against servers on 127.0.0.1.

func newNetHTTP(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(netHTTPHandler())
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func newFastHTTP(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: fastHTTPHandler}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	return ln.Addr().String()
}

func run(t *testing.T, spec LoadSpec) *LoadResult {
	t.Helper()
	if spec.Duration == 0 {
		spec.Duration = 300 * time.Millisecond
	}
	if spec.MaxRequests == 0 {
		spec.MaxRequests = 400
	}
	res, err := RunLoad(spec)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.OK + res.Errors; got > spec.MaxRequests {
		t.Errorf("%d responses, more than the bound %d", got, spec.MaxRequests)
	}
	return res
}

func wantClean(t *testing.T, res *LoadResult) {
	t.Helper()
	if res.Errors != 0 || res.OK == 0 {
		t.Fatalf("ok %d errors %d, want ok > 0 and no errors; samples %v", res.OK, res.Errors, res.ErrSamples)
	}
	if res.Hist.Count() != uint64(res.OK+res.Errors) {
		t.Errorf("histogram holds %d latencies for %d responses", res.Hist.Count(), res.OK+res.Errors)
	}
	if res.Hist.Quantile(0.5) <= 0 || res.Hist.Quantile(0.99) > res.Hist.Max() {
		t.Errorf("odd latencies: p50 %v p99 %v max %v", res.Hist.Quantile(0.5), res.Hist.Quantile(0.99), res.Hist.Max())
	}
}

func TestLoadKeepAlive(t *testing.T) {
	addr := newNetHTTP(t)
	res := run(t, LoadSpec{Addr: addr, Conns: 4, Requests: []Request{getPlaintext()}})
	wantClean(t, res)
	if res.Conns != 4 {
		t.Errorf("opened %d connections, want 4 kept alive", res.Conns)
	}
}

func TestLoadPipelined(t *testing.T) {
	addr := newNetHTTP(t)
	res := run(t, LoadSpec{Addr: addr, Conns: 2, Pipeline: 8, Requests: []Request{getPlaintext()}})
	wantClean(t, res)
	if res.Conns != 2 {
		t.Errorf("opened %d connections, want 2", res.Conns)
	}
	if res.OK%8 != 0 {
		t.Errorf("%d responses is not a multiple of the pipeline depth", res.OK)
	}
}

func TestLoadNewConnPerRequest(t *testing.T) {
	addr := newNetHTTP(t)
	res := run(t, LoadSpec{Addr: addr, Conns: 2, NewConnPerReq: true, Requests: []Request{getPlaintext()}, MaxRequests: 100})
	wantClean(t, res)
	if res.Conns != res.OK {
		t.Errorf("%d connections for %d requests, want one each", res.Conns, res.OK)
	}
}

// ReqPerConn ends each connection after that many requests, the last one
// asking the server to close, and the header lines go out as given.
func TestLoadRequestsPerConn(t *testing.T) {
	addr := newNetHTTP(t)
	req := getPlaintext()
	req.Header = []string{"Accept-Encoding: gzip"}
	res := run(t, LoadSpec{Addr: addr, Conns: 1, ReqPerConn: 10, Requests: []Request{req}, MaxRequests: 100})
	wantClean(t, res)
	if res.OK != 100 || res.Conns != 10 {
		t.Errorf("%d connections for %d requests, want 10 for 100", res.Conns, res.OK)
	}
	spec := &LoadSpec{Addr: "h", ReqPerConn: 10}
	got := string(formatRequest(spec, &req, true))
	want := "GET /plaintext HTTP/1.1\r\nHost: h\r\nConnection: close\r\nAccept-Encoding: gzip\r\n\r\n"
	if got != want {
		t.Errorf("last request on a connection:\n%q\nwant\n%q", got, want)
	}
}

func TestLoadHTTP10KeepAlive(t *testing.T) {
	for name, addr := range map[string]string{"nethttp": newNetHTTP(t), "fasthttp": newFastHTTP(t)} {
		t.Run(name, func(t *testing.T) {
			res := run(t, LoadSpec{Addr: addr, Conns: 2, HTTP10: true, KeepAlive10: true, Requests: []Request{getPlaintext()}})
			wantClean(t, res)
			if res.Conns != 2 {
				t.Errorf("opened %d connections, want 2 kept alive", res.Conns)
			}
		})
	}
}

func TestLoadHTTP10Close(t *testing.T) {
	addr := newNetHTTP(t)
	res := run(t, LoadSpec{Addr: addr, Conns: 2, HTTP10: true, Requests: []Request{getPlaintext()}, MaxRequests: 100})
	wantClean(t, res)
	if res.Conns != res.OK {
		t.Errorf("%d connections for %d HTTP/1.0 requests, want one each", res.Conns, res.OK)
	}
}

// rawServer answers every connection with resp and closes it.
func rawServer(t *testing.T, resp string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for { // read the request head
					l, err := br.ReadString('\n')
					if err != nil || l == "\r\n" {
						break
					}
				}
				io.WriteString(c, resp)
			}()
		}
	}()
	return ln.Addr().String()
}

func TestLoadCloseDelimitedHTTP10(t *testing.T) {
	addr := rawServer(t, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nHello, World!")
	res := run(t, LoadSpec{Addr: addr, Conns: 2, HTTP10: true, Requests: []Request{getPlaintext()}, MaxRequests: 50})
	wantClean(t, res)
}

func TestLoadChunkedResponse(t *testing.T) {
	addr := newNetHTTP(t) // net/http chunks a 10000-byte response written in pieces
	res := run(t, LoadSpec{Addr: addr, Conns: 2, Requests: []Request{
		{Method: "GET", Path: "/stream?size=10000", ExpectLen: 10000},
	}})
	wantClean(t, res)
}

func TestLoadMixedChunkedRequest(t *testing.T) {
	for name, addr := range map[string]string{"nethttp": newNetHTTP(t), "fasthttp": newFastHTTP(t)} {
		t.Run(name, func(t *testing.T) {
			c, err := selectCases("mixed", false)
			if err != nil || len(c) != 1 {
				t.Fatal(err, c)
			}
			spec := c[0].Spec
			spec.Addr, spec.Conns = addr, 3
			wantClean(t, run(t, spec))
		})
	}
}

func TestLoadWrongLengthIsError(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/plaintext", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "Hello, World") // one byte short
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	res := run(t, LoadSpec{Addr: strings.TrimPrefix(srv.URL, "http://"), Conns: 2, Requests: []Request{getPlaintext()}, MaxRequests: 100})
	if res.OK != 0 || res.Errors == 0 {
		t.Fatalf("ok %d errors %d: a wrong body length must be an error", res.OK, res.Errors)
	}
	if len(res.ErrSamples) == 0 || !strings.Contains(res.ErrSamples[0], "body length 12, want 13") {
		t.Errorf("error samples %v", res.ErrSamples)
	}
}

func TestLoadWrongStatusIsError(t *testing.T) {
	addr := newNetHTTP(t)
	res := run(t, LoadSpec{Addr: addr, Conns: 1, Requests: []Request{{Method: "GET", Path: "/nope", ExpectLen: -1}}, MaxRequests: 20})
	if res.OK != 0 || res.Errors != 20 {
		t.Fatalf("ok %d errors %d, want 20 errors for 404s", res.OK, res.Errors)
	}
}

func TestLoadRefusedIsBounded(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	start := time.Now()
	res := run(t, LoadSpec{Addr: addr, Conns: 2, Requests: []Request{getPlaintext()}, Duration: 100 * time.Millisecond})
	if res.OK != 0 || res.Errors == 0 {
		t.Fatalf("ok %d errors %d against a closed port", res.OK, res.Errors)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}

func TestRespReaderChunkedWithExtensionsAndTrailers(t *testing.T) {
	raw := "HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n" +
		"5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: y\r\n\r\n" +
		"HTTP/1.1 204 No Content\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"
	rr := respReader{buf: make([]byte, 40)} // small: forces refills mid-line
	rr.reset(strings.NewReader(raw))
	for i, want := range []struct {
		status int
		n      int64
		keep   bool
	}{{200, 15, true}, {204, 0, true}, {200, 3, false}} {
		st, n, keep, err := rr.readResponse(false)
		if err != nil || st != want.status || n != want.n || keep != want.keep {
			t.Fatalf("response %d: %d %d %v %v, want %+v", i, st, n, keep, err, want)
		}
	}
	if _, _, _, err := rr.readResponse(false); err != io.EOF {
		t.Errorf("after the last response: %v, want EOF", err)
	}
}

func TestRespReaderMalformed(t *testing.T) {
	for _, raw := range []string{
		"HTP/1.1 200 OK\r\n\r\n",
		"HTTP/1.1 2x0 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
	} {
		rr := respReader{buf: make([]byte, 64)}
		rr.reset(strings.NewReader(raw))
		if _, _, _, err := rr.readResponse(false); err == nil {
			t.Errorf("%q: no error", raw)
		}
	}
}

func TestFormatRequest(t *testing.T) {
	spec := &LoadSpec{Addr: "127.0.0.1:1", HTTP10: true, KeepAlive10: true}
	got := string(formatRequest(spec, &Request{Method: "GET", Path: "/plaintext"}, false))
	want := "GET /plaintext HTTP/1.0\r\nHost: 127.0.0.1:1\r\nConnection: Keep-Alive\r\n\r\n"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	spec = &LoadSpec{Addr: "h"}
	got = string(formatRequest(spec, &Request{Method: "POST", Path: "/echo", ContentType: "a/b", Body: []byte("abcde"), Chunked: true}, false))
	want = "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Type: a/b\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// The servers must answer every route with the same bytes.
func TestServersAnswerAlike(t *testing.T) {
	for name, addr := range map[string]string{"nethttp": newNetHTTP(t), "fasthttp": newFastHTTP(t)} {
		checks, err := checkRoutes(addr, nil)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		for _, c := range checks {
			if c.Route == "GET /plaintext" {
				for _, h := range []string{"content-length", "content-type", "date", "server"} {
					if !strings.Contains(strings.Join(c.Headers, ","), h) {
						t.Errorf("%s: /plaintext lacks %s: %v", name, h, c.Headers)
					}
				}
			}
		}
	}
}

func TestHistogram(t *testing.T) {
	var h Histogram
	for v := int64(1); v <= 100_000; v++ {
		h.Record(time.Duration(v * 1000)) // 1µs .. 100ms uniform
	}
	for _, q := range []float64{0.5, 0.9, 0.99} {
		got := float64(h.Quantile(q))
		want := q * 100_000 * 1000
		if got < want*0.99 || got > want*1.04 {
			t.Errorf("q%.2f = %v, want ~%v", q, time.Duration(got), time.Duration(want))
		}
	}
	if h.Max() != 100*time.Millisecond || h.Quantile(1) != h.Max() {
		t.Errorf("max %v q1 %v", h.Max(), h.Quantile(1))
	}
	prev := -1
	for v := int64(0); v < 1<<40; v = v*9/8 + 1 {
		b := histBucket(v)
		if b < prev || v > histUpper(b) || (b > 0 && v <= histUpper(b-1)) {
			t.Fatalf("value %d in bucket %d [.., %d], previous bucket ends %d", v, b, histUpper(b), histUpper(b-1))
		}
		prev = b
	}
	var m Histogram
	m.Merge(&h)
	m.Merge(&h)
	if m.Count() != 2*h.Count() || m.Quantile(0.5) != h.Quantile(0.5) {
		t.Errorf("merge: count %d p50 %v", m.Count(), m.Quantile(0.5))
	}
}

func TestOpenIdle(t *testing.T) {
	addr := newFastHTTP(t)
	conns, errs := openIdle(addr, 50)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	if len(conns) != 50 || errs != 0 {
		t.Fatalf("%d connections, %d errors", len(conns), errs)
	}
}

func TestCheckRoutesCatchesAWrongServer(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/", netHTTPHandler())
	mux.HandleFunc("GET /json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctJSON)
		io.WriteString(w, `{"message":"Hello, World"}`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	_, err := checkRoutes(strings.TrimPrefix(srv.URL, "http://"), nil)
	if err == nil || !strings.Contains(err.Error(), "GET /json") {
		t.Fatalf("err = %v, want the /json route named", err)
	}
}
