package kahttp_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Bodies stream over TLS as they do on the event loops: the same cases as
// integration_stream_test.go and hello's upload test, on a listener's
// connection. MaxBodyBytes is 1 MiB and the uploads are larger: a body
// held whole would be refused.

// startTLSRoutes serves rt over TLS from a listener on 127.0.0.1:0.
func startTLSRoutes(t *testing.T, cfg kahttp.Config, rt kahttp.Handler) (addr string, pool *x509.CertPool, certFile string) {
	cert, pool, certFile, _ := testCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := kahttp.NewServer(rt, cfg)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(tls.NewListener(ln, kahttp.TLSConfig(cert))) }()
	t.Cleanup(func() {
		shutdown(t, srv)
		assert.ErrorIs(t, <-served, kahttp.ErrServerClosed)
	})
	return ln.Addr().String(), pool, certFile
}

// uploadRoutes: /upload hashes a streamed body (1 GiB limit), /deny
// answers 401 without reading, /held hashes a body held whole (inline).
func uploadRoutes() *kahttp.Router {
	rt := kahttp.NewRouter()
	rt.POST("/upload", kahttp.HandlerFunc(hashBody), kahttp.WithMode(kahttp.Pooled), kahttp.WithBodyLimit(1<<30))
	rt.POST("/deny", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		w.Error(kahttp.StatusUnauthorized, "log in first")
	}), kahttp.WithMode(kahttp.Pooled))
	rt.POST("/held", kahttp.HandlerFunc(hashBody), kahttp.WithMode(kahttp.Inline))
	return rt
}

func dialTLS(t *testing.T, addr string, pool *x509.CertPool) (*tls.Conn, *bufio.Reader) {
	t.Helper()
	tc, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool})
	require.NoError(t, err)
	t.Cleanup(func() { _ = tc.Close() })
	_ = tc.SetDeadline(time.Now().Add(2 * ioTimeout))
	return tc, bufio.NewReader(tc)
}

// curl -T and --data-binary, with and without Expect: 100-continue, and
// Go's client with a chunked body, with and without it.
func TestIntegrationTLSStreamedUploadRealClients(t *testing.T) {
	t.Parallel()
	addr, pool, certFile := startTLSRoutes(t, kahttp.Config{MaxBodyBytes: 1 << 20}, uploadRoutes())
	body := bytes.Repeat([]byte("kahttp tls upload\n"), (8<<20)/18)
	want := sumOf(body)

	if curl, err := exec.LookPath("curl"); err == nil {
		file := filepath.Join(t.TempDir(), "body")
		require.NoError(t, os.WriteFile(file, body, 0o600))
		for _, args := range [][]string{
			{"--data-binary", "@" + file}, // curl sends Expect: 100-continue for it
			{"--data-binary", "@" + file, "-H", "Expect:"},
			{"-X", "POST", "-T", file},
			{"-X", "POST", "-T", file, "-H", "Expect:"},
		} {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			out, err := exec.CommandContext(ctx, curl, append([]string{"-sS", "--fail", "--cacert", certFile,
				"https://" + addr + "/upload"}, args...)...).Output()
			cancel()
			require.NoError(t, err, "curl %v", args)
			assert.Equal(t, want, string(out), "curl %v", args)
		}
	} else {
		t.Log("curl not installed (.ci/run installs it): Go's client only")
	}

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool},
		ExpectContinueTimeout: 5 * time.Second}}
	defer client.CloseIdleConnections()
	for _, expect := range []bool{false, true} {
		req, err := http.NewRequest("POST", "https://"+addr+"/upload", io.MultiReader(bytes.NewReader(body))) // no length: chunked
		require.NoError(t, err)
		if expect {
			req.Header.Set("Expect", "100-continue")
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		got, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		assert.Equal(t, want, string(got), "Go's client, chunked, expect %v", expect)
	}
}

// A streamed body, then a request pipelined behind it on the same TLS
// connection; a body held whole keeps MaxBodyBytes.
func TestIntegrationTLSStreamedThenPipelined(t *testing.T) {
	t.Parallel()
	addr, pool, _ := startTLSRoutes(t, kahttp.Config{MaxBodyBytes: 1 << 20}, uploadRoutes())
	tc, br := dialTLS(t, addr, pool)
	body := bytes.Repeat([]byte("p"), 3<<20)
	for i, chunked := range []bool{false, true, false} {
		var req bytes.Buffer
		if chunked {
			req.WriteString("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
			for off := 0; off < len(body); off += 100_000 {
				piece := body[off:min(off+100_000, len(body))]
				req.WriteString(strconv.FormatInt(int64(len(piece)), 16) + "\r\n" + string(piece) + "\r\n")
			}
			req.WriteString("0\r\n\r\n")
		} else {
			req.WriteString("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n")
			req.Write(body)
		}
		req.WriteString("POST /held HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
		_, err := tc.Write(req.Bytes())
		require.NoError(t, err)
		r, err := parseResponse(br, false)
		require.NoError(t, err, "round %d", i)
		assert.Equal(t, sumOf(body), string(r.Body), "round %d", i)
		r, err = parseResponse(br, false)
		require.NoError(t, err, "round %d", i)
		assert.Equal(t, sumOf([]byte("hello")), string(r.Body), "round %d: the request after it", i)
	}
	// Held whole, past MaxBodyBytes: 413 before the body.
	_, err := io.WriteString(tc, "POST /held HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n")
	require.NoError(t, err)
	r, err := parseResponse(br, false)
	require.NoError(t, err)
	assert.Equal(t, 413, r.Status)
}

// Expect: 100-continue to a handler that answers without reading: no 100
// Continue, and the connection closes after the answer.
func TestIntegrationTLSNotReadAfterExpect(t *testing.T) {
	t.Parallel()
	addr, pool, _ := startTLSRoutes(t, kahttp.Config{}, uploadRoutes())
	tc, br := dialTLS(t, addr, pool)
	_, err := io.WriteString(tc, "POST /deny HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n")
	require.NoError(t, err)
	r, err := parseResponse(br, false)
	require.NoError(t, err)
	assert.Equal(t, 401, r.Status, "a final answer, not 100 Continue")
	assert.Equal(t, "close", r.header(t, "Connection"))
	_, err = br.ReadByte()
	assert.Error(t, err, "closed")
}

// A slow handler slows a TLS client down (the server's heap stays small
// while 64 MiB go through), and a client that vanishes mid-body makes the
// handler's read fail, leaving no goroutine behind.
func TestIntegrationTLSStreamedBackpressureAndAbort(t *testing.T) {
	readErr := make(chan error, 1)
	rt := kahttp.NewRouter()
	rt.POST("/*path", countBody(readErr), kahttp.WithBodyLimit(1<<30), kahttp.WithMode(kahttp.Pooled))
	addr, pool, _ := startTLSRoutes(t, kahttp.Config{}, rt)
	runtime.GC()
	before := heapInUse()
	goroutines := runtime.NumGoroutine()

	const size = 64 << 20
	tc, br := dialTLS(t, addr, pool)
	_, err := io.WriteString(tc, "POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: "+strconv.Itoa(size)+"\r\n\r\n")
	require.NoError(t, err)
	piece := bytes.Repeat([]byte("b"), 1<<20)
	var peak int64
	for range size / len(piece) {
		_, err := tc.Write(piece)
		require.NoError(t, err)
		peak = max(peak, heapInUse())
	}
	r, err := parseResponse(br, false)
	require.NoError(t, err)
	assert.Equal(t, strconv.Itoa(size), string(r.Body))
	t.Logf("heap in use grew by at most %d KiB while %d MiB streamed over TLS to a slow handler", (peak-before)>>10, size>>20)
	assert.Less(t, peak-before, int64(16<<20), "the body must not be held")

	a, _ := dialTLS(t, addr, pool)
	_, err = io.WriteString(a, "POST /abort HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n"+strings.Repeat("a", 200_000))
	require.NoError(t, err)
	_ = a.Close()
	select {
	case err := <-readErr:
		assert.Error(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the handler's read did not fail")
	}
	_ = tc.Close()
	assert.Eventually(t, func() bool { return runtime.NumGoroutine() <= goroutines+1 }, 5*time.Second, 10*time.Millisecond,
		"goroutines %d, before %d", runtime.NumGoroutine(), goroutines)
}
