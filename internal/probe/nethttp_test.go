package probe

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startNetHTTP starts Go's net/http server on 127.0.0.1:0 with the given
// idle timeout and returns its URL.
func startNetHTTP(t *testing.T, idle time.Duration) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, "hello from net/http\n")
	})
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("size"))
		_, _ = io.WriteString(w, strings.Repeat("x", n)) // no Content-Length: net/http buffers 4 KiB
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(w, r.Body) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: mux, IdleTimeout: idle, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
	})
	return "http://" + ln.Addr().String() + "/"
}

func TestRunAgainstNetHTTP(t *testing.T) {
	t.Parallel()
	o := fastOptions(startNetHTTP(t, 500*time.Millisecond))
	o.PathLarge = "/stream?size=100000"
	o.PathPost = "/echo"
	rep := mustRun(t, o)
	assert.Equal(t, 200, rep.Baseline)
	assert.Len(t, rep.Rows, len(ProbeIDs()))

	assertCodes(t, rep, "http11-persist", CodePersistent)
	assertCodes(t, rep, "http10-close", CodeHTTP10Closed)
	// net/http echoes Connection: keep-alive on 1.0 but sends no Keep-Alive header.
	ka := assertCodes(t, rep, "http10-keepalive", CodeKeepAliveHonoured, CodeKeepAliveEchoed, CodeKeepAliveNoParams)
	assert.Equal(t, "keep-alive ×2", ka.Connection)

	idle := assertCodes(t, rep, "idle-timeout", CodeIdleMeasured, CodeAdvertisedNone)
	require.NotNil(t, idle.Measured)
	assert.True(t, idle.Measured.Reached)
	assertSeconds(t, 0.5, idle.Measured.Value, "net/http IdleTimeout is 500 ms")

	mr := assertCodes(t, rep, "max-requests", CodeMaxUnlimited)
	assert.Equal(t, float64(o.MaxRequests), mr.Measured.Value)
	assert.False(t, mr.Measured.Reached)

	p2 := assertCodes(t, rep, "pipeline-2", CodePipelineOK)
	assert.Equal(t, []int{200, 404}, p2.Statuses)
	p10 := assertCodes(t, rep, "pipeline-10", CodePipelineOK)
	assert.Len(t, p10.Statuses, 10)

	crlf := assertCodes(t, rep, "post-crlf", CodeCRLFOK)
	assert.Equal(t, []int{200, 200}, crlf.Statuses)

	assertCodes(t, rep, "framing-http11", CodeFramingContentLength, CodeKeptOpen)
	assertCodes(t, rep, "framing-http10", CodeFramingContentLength, CodeKeptOpen)
	large11 := assertCodes(t, rep, "framing-http11-large", CodeFramingChunked, CodeKeptOpen)
	assert.Equal(t, "chunked 100000", large11.Framing)
	large10 := assertCodes(t, rep, "framing-http10-large", CodeFramingCloseDelimited, CodeClosedAfter)
	assert.Equal(t, "close 100000", large10.Framing)

	for _, r := range rep.Rows {
		assert.Equal(t, LevelOK, r.Level, "%s: %s", r.Probe, r.Verdict)
	}
}

// Only the selected probes run.
func TestRunSelectedProbes(t *testing.T) {
	t.Parallel()
	o := fastOptions(startNetHTTP(t, time.Second))
	o.Probes = []string{"pipeline-2", "framing-http11"}
	rep := mustRun(t, o)
	require.Len(t, rep.Rows, 2)
	assert.Equal(t, "pipeline-2", rep.Rows[0].Probe)
	assert.Equal(t, "framing-http11", rep.Rows[1].Probe)
}
