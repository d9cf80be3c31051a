package metrics_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/metrics"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The exposition parses with Prometheus's own text parser, and says what
// Stats says: requests, closes by reason, the histogram with its sum.
func TestHandlerParses(t *testing.T) {
	rt := kahttp.NewRouter()
	srv := kahttp.NewServer(rt, kahttp.Config{})
	rt.GET("/metrics", metrics.Handler(srv))
	rt.GET("/hello", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) { _, _ = w.WriteString("hi") }))
	require.NoError(t, srv.Start("127.0.0.1:0"))
	defer func() { _ = srv.Shutdown(t.Context()) }()
	base := "http://" + srv.Addr().String()
	for range 3 {
		req, _ := http.NewRequest("GET", base+"/hello", nil)
		req.Close = true // a connection each: closed with connection_close_asked, one request each
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	require.Eventually(t, func() bool { return srv.Stats().ClosedBy["connection_close_asked"] == 3 }, 5e9, 1e6)

	resp, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "text/plain; version=0.0.4; charset=utf-8", resp.Header.Get("Content-Type"))
	body, _ := io.ReadAll(resp.Body)
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	require.NoError(t, err, "%s", body)

	reqs := families["kahttp_requests_total"]
	require.NotNil(t, reqs)
	assert.GreaterOrEqual(t, reqs.Metric[0].GetCounter().GetValue(), 3.0)
	closed := map[string]float64{}
	for _, m := range families["kahttp_connections_closed_total"].Metric {
		closed[m.Label[0].GetValue()] = m.GetCounter().GetValue()
	}
	assert.Equal(t, 3.0, closed["connection_close_asked"])
	assert.Len(t, closed, len(kahttp.CloseReasons()), "every reason, 0 included")
	h := families["kahttp_requests_per_connection"].Metric[0].GetHistogram()
	assert.EqualValues(t, 3, h.GetSampleCount())
	assert.Equal(t, 3.0, h.GetSampleSum())
	assert.EqualValues(t, 3, h.Bucket[0].GetCumulativeCount(), "le=1: one request each")
	for _, name := range []string{"kahttp_connections_open", "kahttp_handlers_in_flight", "kahttp_pool_workers", "kahttp_pool_queued"} {
		assert.Contains(t, families, name)
	}
	assert.True(t, strings.HasSuffix(string(body), "\n"))
}
