//go:build linux

package kahttp_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hello -restart, restarted 10 times with SIGHUP under load: keep-alive
// clients and a new-connection client never see a refused connection, a
// reset or a request without an answer; every old process exits; the last
// one holds as many descriptors as the first did.
func TestIntegrationHelloRestart(t *testing.T) {
	t.Parallel()
	pidFile := filepath.Join(t.TempDir(), "hello.pid")
	addr, cmd, _ := startHello(t, "-restart", "-pid-file", pidFile)
	first := cmd.Process.Pid
	require.Eventually(t, func() bool { return readPid(pidFile) == first }, 5*time.Second, 10*time.Millisecond)
	t.Cleanup(func() {
		if pid := readPid(pidFile); pid > 0 && pid != first {
			_ = syscall.Kill(pid, syscall.SIGTERM)
			waitGone(pid, 10*time.Second)
		}
	})
	baseFDs := countFDs(t, first)

	ctx, stopLoad := context.WithCancel(context.Background())
	var answered atomic.Int64
	var mu sync.Mutex
	var failures []string
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, fmt.Sprintf(format, args...))
	}
	var load sync.WaitGroup
	for i := range 4 { // keep-alive clients, reconnecting when told to close
		load.Add(1)
		go func() {
			defer load.Done()
			for ctx.Err() == nil {
				if err := keepAliveClient(ctx, addr, &answered); err != nil {
					fail("keep-alive client %d: %v", i, err)
					return
				}
			}
		}()
	}
	load.Add(1)
	go func() { // a new connection per request
		defer load.Done()
		for ctx.Err() == nil {
			if err := oneShot(addr); err != nil {
				fail("new connection: %v", err)
				return
			}
			answered.Add(1)
			time.Sleep(5 * time.Millisecond)
		}
	}()

	pids := []int{first}
	for i := range 10 {
		time.Sleep(300 * time.Millisecond)
		pid := pids[len(pids)-1]
		require.NoError(t, syscall.Kill(pid, syscall.SIGHUP), "restart %d", i)
		require.Eventually(t, func() bool { p := readPid(pidFile); return p != 0 && p != pid }, 10*time.Second,
			10*time.Millisecond, "restart %d: a new process serves", i)
		pids = append(pids, readPid(pidFile))
	}
	time.Sleep(300 * time.Millisecond)
	stopLoad()
	load.Wait()
	mu.Lock()
	assert.Empty(t, failures, "refused, reset or unanswered requests")
	mu.Unlock()
	assert.Greater(t, answered.Load(), int64(100))
	t.Logf("%d requests answered across %d processes", answered.Load(), len(pids))

	for _, pid := range pids[:len(pids)-1] {
		assert.True(t, waitGone(pid, 10*time.Second), "old process %d exited", pid)
	}
	last := pids[len(pids)-1]
	time.Sleep(200 * time.Millisecond) // the clients' connections closed
	assert.InDelta(t, baseFDs, countFDs(t, last), 3, "descriptors of the last process against the first's")
}

// keepAliveClient makes GET requests on one connection until the server
// answers one with Connection: close (or ctx ends); any other end is an
// error: a dial refused, a write or a read failing with no answer.
func keepAliveClient(ctx context.Context, addr string, answered *atomic.Int64) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for ctx.Err() == nil {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.WriteString(c, "GET /plaintext HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		r, err := parseResponse(br, false)
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		if r.Status != 200 {
			return fmt.Errorf("status %d", r.Status)
		}
		answered.Add(1)
		if strings.EqualFold(strings.Join(r.get("Connection"), ","), "close") {
			return nil // the old process drains: reconnect
		}
	}
	return nil
}

// oneShot makes one request on a new connection.
func oneShot(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET /plaintext HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	r, err := parseResponse(bufio.NewReader(c), false)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	if r.Status != 200 {
		return fmt.Errorf("status %d", r.Status)
	}
	return nil
}

func readPid(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// waitGone waits until pid has exited (gone, or a zombie); false when it
// has not within d.
func waitGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return true
		}
		if f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:])); len(f) > 0 && f[0] == "Z" {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func countFDs(t *testing.T, pid int) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	require.NoError(t, err)
	return len(entries)
}
