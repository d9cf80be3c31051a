// These tests run kaprobe against real servers it was once wrong about:
// nginx (answers in order, the same body on every path) and Python's
// http.server (HTTP/1.0, closes after every response). Each is skipped, with
// a message saying so, only when its binary is not installed; .ci/run
// installs nginx.

package probe

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startProcess starts cmd and makes sure it is gone when the test ends,
// however the test ends: killed, then waited for (bounded).
func startProcess(t *testing.T, cmd *exec.Cmd) (exited <-chan struct{}) {
	t.Helper()
	require.NoError(t, cmd.Start(), "start %s", cmd.Path)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Errorf("%s (pid %d) did not exit after SIGKILL", cmd.Path, cmd.Process.Pid)
		}
	})
	return done
}

// waitListening dials addr until it accepts (or the process exits, or 10 s pass).
func waitListening(t *testing.T, addr string, exited <-chan struct{}, logFile string) bool {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			_ = c.Close()
			return true
		}
		select {
		case <-exited:
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	log, _ := os.ReadFile(logFile)
	t.Fatalf("nothing listening on %s after 10 s; log:\n%s", addr, log)
	return false
}

// freePort returns a port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// findNginx returns the nginx binary (Debian puts it in /usr/sbin, which a
// user's PATH may lack), or skips the test.
func findNginx(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	t.Skip("nginx is not installed (apt-get install nginx; .ci/run does): skipping kaprobe against a real nginx")
	return ""
}

// nginxConf is the server of the issue that found kaprobe's false
// out-of-order verdict: the same 200 "hello\n" on every path, at most 5
// requests and 3 s idle per connection. Everything nginx writes lives under
// the test's own prefix; no system nginx and no port 80 are involved.
const nginxConf = `daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    keepalive_timeout 3s;
    keepalive_requests 5;
    server {
        listen 127.0.0.1:%[2]d;
        location / { return 200 "hello\n"; }
    }
}
`

// startNginx runs nginx as configured above on a free 127.0.0.1 port and
// returns its URL. A port taken between the check and nginx's bind is
// retried with another.
func startNginx(t *testing.T) string {
	t.Helper()
	bin := findNginx(t)
	// -e (nginx ≥ 1.19.5) keeps even the log written before the config is
	// read out of /var/log/nginx.
	help, _ := exec.Command(bin, "-h").CombinedOutput()
	for try := 0; try < 3; try++ {
		dir := t.TempDir()
		port := freePort(t)
		conf := filepath.Join(dir, "nginx.conf")
		require.NoError(t, os.WriteFile(conf, fmt.Appendf(nil, nginxConf, dir, port), 0o644))
		args := []string{"-p", dir, "-c", conf}
		if strings.Contains(string(help), "-e filename") {
			args = append(args, "-e", filepath.Join(dir, "error.log"))
		}
		cmd := exec.Command(bin, args...)
		logFile := filepath.Join(dir, "error.log")
		exited := startProcess(t, cmd)
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		if waitListening(t, addr, exited, logFile) {
			return "http://" + addr + "/"
		}
		log, _ := os.ReadFile(logFile)
		if !strings.Contains(string(log), "Address already in use") {
			t.Fatalf("nginx exited before listening; error.log:\n%s", log)
		}
	}
	t.Fatal("nginx could not bind a free port in 3 tries")
	return ""
}

// TestRunAgainstNginx: nginx answers pipelines in order; with the same
// answer on every path kaprobe cannot tell the order and must say so, never
// report the answers out of order.
func TestRunAgainstNginx(t *testing.T) {
	t.Parallel()
	o := fastOptions(startNginx(t))
	o.MaxIdle = 6 * time.Second
	rep := mustRun(t, o)
	assert.Equal(t, 200, rep.Baseline)

	assertCodes(t, rep, "http11-persist", CodePersistent)
	assertCodes(t, rep, "http10-close", CodeHTTP10Closed)
	assertCodes(t, rep, "http10-keepalive", CodeKeepAliveHonoured, CodeKeepAliveEchoed)

	idle := assertCodes(t, rep, "idle-timeout", CodeIdleMeasured)
	require.NotNil(t, idle.Measured)
	assertSeconds(t, 3, idle.Measured.Value, "keepalive_timeout 3s")

	mr := assertCodes(t, rep, "max-requests", CodeMaxMeasured, CodeAnnouncedLast)
	require.NotNil(t, mr.Measured)
	assert.Equal(t, 5.0, mr.Measured.Value, "keepalive_requests 5")

	p2 := assertCodes(t, rep, "pipeline-2", CodePipelineUnverified)
	assert.Contains(t, p2.Verdict, "order not checkable")
	p10 := assertCodes(t, rep, "pipeline-10", CodePipelineLimited, CodeCloseHeaderSent)
	assert.Contains(t, p10.Verdict, "order not checkable")
	assert.Len(t, p10.Statuses, 5, "keepalive_requests 5")

	assertCodes(t, rep, "framing-http11", CodeFramingContentLength, CodeKeptOpen)
	assertCodes(t, rep, "framing-http10", CodeFramingContentLength, CodeKeptOpen)
	for _, r := range rep.Rows {
		assert.NotContains(t, r.Codes, CodePipelineOutOfOrder, r.Probe)
	}
}

// startPythonHTTP runs python3 -m http.server on 127.0.0.1, port chosen by
// the kernel, serving an empty temporary directory; it returns the URL.
func startPythonHTTP(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: skipping kaprobe against python3 -m http.server")
	}
	dir := t.TempDir()
	cmd := exec.Command(py, "-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory", dir, "0")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	logFile := filepath.Join(t.TempDir(), "stderr.log")
	stderr, err := os.Create(logFile)
	require.NoError(t, err)
	t.Cleanup(func() { _ = stderr.Close() })
	cmd.Stderr = stderr
	exited := startProcess(t, cmd)

	// "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	select {
	case line := <-lines:
		_, rest, ok := strings.Cut(line, "(http://")
		require.True(t, ok, "unexpected first line %q", line)
		u, _, _ := strings.Cut(rest, ")")
		addr := strings.TrimSuffix(u, "/")
		require.True(t, waitListening(t, addr, exited, logFile), "python3 -m http.server exited")
		return "http://" + addr + "/"
	case <-exited:
		log, _ := os.ReadFile(logFile)
		t.Fatalf("python3 -m http.server exited before listening:\n%s", log)
	case <-time.After(10 * time.Second):
		t.Fatal("python3 -m http.server did not print its listening line")
	}
	return ""
}

// TestRunAgainstPythonHTTPServer: http.server answers HTTP/1.0, with a
// length and no Connection field, and closes after every response. kaprobe
// must find it closed, not infer "kept open" from the missing
// Connection: close.
func TestRunAgainstPythonHTTPServer(t *testing.T) {
	t.Parallel()
	o := fastOptions(startPythonHTTP(t))
	o.Probes = []string{"http11-persist", "http10-close", "pipeline-2", "framing-http11", "framing-http10"}
	rep := mustRun(t, o)
	assert.Equal(t, 200, rep.Baseline)

	persist := assertCodes(t, rep, "http11-persist", CodeClosedUnannounced, CodeCloseHeaderMissing)
	assert.Equal(t, []int{200}, persist.Statuses)
	assertCodes(t, rep, "http10-close", CodeHTTP10Closed)
	assertCodes(t, rep, "pipeline-2", CodePipelinePartial)
	f11 := assertCodes(t, rep, "framing-http11", CodeFramingContentLength, CodeClosedAfter)
	assert.NotContains(t, f11.Verdict, "kept open")
	f10 := assertCodes(t, rep, "framing-http10", CodeFramingContentLength, CodeClosedAfter)
	assert.NotContains(t, f10.Verdict, "kept open")
}
