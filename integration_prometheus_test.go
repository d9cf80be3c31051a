package kahttp_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A real Prometheus (Debian's; .ci/run installs it) scrapes hello's
// /metrics and answers a query for its request counter.
func TestIntegrationPrometheusScrapesHello(t *testing.T) {
	t.Parallel()
	prom, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus is not installed (apt-get install prometheus; .ci/run does)")
	}
	addr, _, _ := startHello(t)
	for range 5 {
		resp, err := http.Get("http://" + addr + "/plaintext")
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}

	dir := t.TempDir()
	config := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(config, []byte("global:\n  scrape_interval: 1s\nscrape_configs:\n"+
		"  - job_name: hello\n    static_configs:\n      - targets: ['"+addr+"']\n"), 0o644))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	web := ln.Addr().String()
	_ = ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, prom, "--config.file="+config, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+web)
	out, err := os.Create(filepath.Join(dir, "prometheus.log"))
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		_ = out.Close()
	})

	var got float64
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && got < 5 {
		time.Sleep(500 * time.Millisecond)
		resp, err := http.Get("http://" + web + "/api/v1/query?query=kahttp_requests_total")
		if err != nil {
			continue // not up yet
		}
		var answer struct {
			Status string
			Data   struct {
				Result []struct {
					Value [2]any
				}
			}
		}
		_ = json.NewDecoder(resp.Body).Decode(&answer)
		_ = resp.Body.Close()
		if answer.Status == "success" && len(answer.Data.Result) == 1 {
			if s, ok := answer.Data.Result[0].Value[1].(string); ok {
				got, _ = strconv.ParseFloat(s, 64)
			}
		}
	}
	log, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
	require.GreaterOrEqual(t, got, 5.0, "kahttp_requests_total as Prometheus scraped it; its log:\n%s", log)
}
