package kahttp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIntegrationNetHTTPClientReuse: Go's net/http client makes 100
// sequential GETs; every one after the first reuses the connection.
func TestIntegrationNetHTTPClientReuse(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		srv, addr := startServer(t, kahttp.Config{Mode: mode}, framingHandler)
		tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
		t.Cleanup(tr.CloseIdleConnections)
		client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
		sizes := []int{0, 100, 4096, 4097, 70000} // Content-Length and chunked framings alike
		for i := range 100 {
			size := sizes[i%len(sizes)]
			var reused bool
			trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused }}
			ctx := httptrace.WithClientTrace(context.Background(), trace)
			req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/stream?size="+strconv.Itoa(size), nil)
			require.NoError(t, err)
			resp, err := client.Do(req)
			require.NoError(t, err, "request %d", i)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, 200, resp.StatusCode)
			require.Len(t, body, size, "request %d", i)
			if i > 0 {
				require.True(t, reused, "request %d did not reuse the connection", i)
			}
		}
		assert.EqualValues(t, 1, srv.Stats().ConnsAccepted)
	})
}

// TestIntegrationCurlHTTP10KeepAlive: curl --http1.0 -H 'Connection:
// keep-alive' with two URLs reuses its connection. Skipped when curl is not
// installed.
func TestIntegrationCurlHTTP10KeepAlive(t *testing.T) {
	t.Parallel()
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed")
	}
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		srv, addr := startServer(t, kahttp.Config{Mode: mode}, echoPath)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, curl, "-v", "-sS", "--http1.0", "-H", "Connection: keep-alive",
			"http://"+addr+"/one", "http://"+addr+"/two")
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		require.NoError(t, cmd.Run(), "stderr:\n%s", stderr.String())
		assert.Equal(t, "GET /oneGET /two", stdout.String())
		assert.Contains(t, stderr.String(), "Re-using existing connection", "stderr:\n%s", stderr.String())
		assert.Contains(t, stderr.String(), "< Keep-Alive: timeout=75")
		assert.EqualValues(t, 1, srv.Stats().ConnsAccepted)
	})
}

// TestIntegrationApacheBench: ab -k -n 2000 -c 8 reports 2000 keep-alive
// requests and no failures. Skipped when ab (apache2-utils) is not installed.
func TestIntegrationApacheBench(t *testing.T) {
	t.Parallel()
	ab, err := exec.LookPath("ab")
	if err != nil {
		t.Skip("ab (apache2-utils) is not installed")
	}
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		srv, addr := startServer(t, kahttp.Config{Mode: mode}, func(w *kahttp.Response, _ *kahttp.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.WriteString("Hello, World!")
		})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, ab, "-q", "-s", "10", "-k", "-n", "2000", "-c", "8", "http://"+addr+"/plaintext").CombinedOutput()
		require.NoError(t, err, "%s", out)
		assert.Contains(t, string(out), "Complete requests:      2000", "%s", out)
		assert.Contains(t, string(out), "Failed requests:        0", "%s", out)
		assert.Contains(t, string(out), "Keep-Alive requests:    2000", "%s", out)
		assert.LessOrEqual(t, srv.Stats().ConnsAccepted, int64(8))
	})
}
