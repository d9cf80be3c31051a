//go:build linux

package kahttp_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Behind real load balancers: nginx and HAProxy (.ci/run installs both),
// each with keep-alive to two hello processes; each backend is restarted
// in turn (SIGHUP, hello -restart), twice, under load through both
// proxies: every answer is a 200 and no client sees an error. HAProxy runs
// without retry-on, nginx with its defaults: no retry hides a connection
// the draining backend closed under a reused request.
func TestIntegrationBehindProxies(t *testing.T) {
	t.Parallel()
	nginx, haproxy := lookFor("nginx", "/usr/sbin/nginx"), lookFor("haproxy", "/usr/sbin/haproxy")
	if nginx == "" || haproxy == "" {
		t.Skip("nginx and haproxy are not both installed (.ci/run installs them)")
	}
	type backend struct{ addr, pidFile string }
	var backends []backend
	for i := range 2 {
		pidFile := filepath.Join(t.TempDir(), fmt.Sprintf("hello%d.pid", i))
		addr, cmd, _ := startHello(t, "-restart", "-pid-file", pidFile)
		first := cmd.Process.Pid
		require.Eventually(t, func() bool { return readPid(pidFile) == first }, 5*time.Second, 10*time.Millisecond)
		t.Cleanup(func() {
			if pid := readPid(pidFile); pid > 0 && pid != first {
				_ = syscall.Kill(pid, syscall.SIGTERM)
				waitGone(pid, 10*time.Second)
			}
		})
		backends = append(backends, backend{addr, pidFile})
	}

	dir := t.TempDir()
	nginxPort, haproxyPort := freeAddr(t), freeAddr(t)
	nginxConf := filepath.Join(dir, "nginx.conf")
	require.NoError(t, os.WriteFile(nginxConf, []byte(fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/nginx-error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    upstream hello { server %[2]s; server %[3]s; keepalive 16; keepalive_timeout 60s; }
    server {
        listen %[4]s;
        location / { proxy_pass http://hello; proxy_http_version 1.1; proxy_set_header Connection ""; }
    }
}
`, dir, backends[0].addr, backends[1].addr, nginxPort)), 0o644))
	haproxyConf := filepath.Join(dir, "haproxy.cfg")
	require.NoError(t, os.WriteFile(haproxyConf, []byte(fmt.Sprintf(`defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 60s
frontend web
    bind %s
    default_backend hello
backend hello
    http-reuse always
    server a %s
    server b %s
`, haproxyPort, backends[0].addr, backends[1].addr)), 0o644))
	for _, c := range []*exec.Cmd{
		exec.Command(nginx, "-p", dir, "-c", nginxConf, "-e", filepath.Join(dir, "nginx-error.log")),
		exec.Command(haproxy, "-db", "-f", haproxyConf),
	} {
		c.Stderr = os.Stderr
		require.NoError(t, c.Start())
		t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
	}
	for _, a := range []string{nginxPort, haproxyPort} {
		require.Eventually(t, func() bool {
			c, err := net.Dial("tcp", a)
			if err == nil {
				_ = c.Close()
			}
			return err == nil
		}, 10*time.Second, 20*time.Millisecond, "%s listens", a)
	}

	ctx, stopLoad := context.WithCancel(context.Background())
	var answered atomic.Int64
	var mu sync.Mutex
	var failures []string
	var load sync.WaitGroup
	for _, front := range []string{nginxPort, haproxyPort} {
		for range 3 {
			load.Add(1)
			go func() {
				defer load.Done()
				for ctx.Err() == nil {
					if err := keepAliveClient(ctx, front, &answered); err != nil {
						mu.Lock()
						failures = append(failures, front+": "+err.Error())
						mu.Unlock()
						return
					}
				}
			}()
		}
	}
	for round := range 2 {
		for i, b := range backends {
			time.Sleep(400 * time.Millisecond)
			pid := readPid(b.pidFile)
			require.NoError(t, syscall.Kill(pid, syscall.SIGHUP))
			require.Eventually(t, func() bool { p := readPid(b.pidFile); return p != 0 && p != pid }, 10*time.Second,
				10*time.Millisecond, "round %d, backend %d restarted", round, i)
		}
	}
	time.Sleep(1500 * time.Millisecond) // past the old processes' drain
	stopLoad()
	load.Wait()
	assert.Empty(t, failures, "non-200 answers or client errors")
	assert.Greater(t, answered.Load(), int64(200))
	t.Logf("%d answers through nginx and HAProxy across 4 backend restarts", answered.Load())
	if log, _ := os.ReadFile(filepath.Join(dir, "nginx-error.log")); strings.Contains(string(log), "[error]") {
		t.Logf("nginx's error log:\n%s", log)
	}
}

func lookFor(name, fallback string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if _, err := os.Stat(fallback); err == nil {
		return fallback
	}
	return ""
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}
