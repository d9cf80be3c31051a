package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kahttp/kahttp/internal/probe"
)

func startServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, "hello\n")
	})
	srv := &http.Server{Handler: h, IdleTimeout: 400 * time.Millisecond}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return "http://" + ln.Addr().String() + "/"
}

func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

var fast = []string{"-max-idle", "3", "-max-requests", "20", "-timeout", "2", "-close-wait", "300ms"}

func buildKaprobe(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kaprobe")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

func TestBuiltCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := buildKaprobe(t)
	url := startServer(t)

	t.Run("json", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, append([]string{"-json"}, append(fast, url)...)...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		require.NoError(t, cmd.Run(), "stderr: %s", stderr.String())
		assert.Equal(t, 0, cmd.ProcessState.ExitCode())

		var rep probe.Report
		require.NoError(t, json.Unmarshal(stdout.Bytes(), &rep), stdout.String())
		assert.Equal(t, url, rep.Target)
		assert.Equal(t, 200, rep.Baseline)
		require.Len(t, rep.Rows, 10) // no -path-large: 10 probes
		byID := map[string]probe.Row{}
		for _, r := range rep.Rows {
			byID[r.Probe] = r
			assert.NotEmpty(t, r.Codes, r.Probe)
			assert.NotEmpty(t, r.Verdict, r.Probe)
		}
		assert.Equal(t, probe.CodePersistent, byID["http11-persist"].Codes[0])
		assert.Equal(t, probe.CodePipelineOK, byID["pipeline-10"].Codes[0])
		idle := byID["idle-timeout"]
		assert.Equal(t, probe.CodeIdleMeasured, idle.Codes[0])
		require.NotNil(t, idle.Measured)
		assert.GreaterOrEqual(t, idle.Measured.Value, 0.25)
		assert.LessOrEqual(t, idle.Measured.Value, 1.4)
		assert.Equal(t, "s", idle.Measured.Unit)
	})

	t.Run("table", func(t *testing.T) {
		out, err := exec.Command(bin, append(fast, "-probes", "http11-persist,pipeline-2", url)...).Output()
		require.NoError(t, err)
		s := string(out)
		assert.Contains(t, s, "PROBE")
		assert.Contains(t, s, "VERDICT")
		assert.Contains(t, s, "OK persistent")
		assert.Contains(t, s, "OK pipeline-ok")
		assert.NotContains(t, s, "idle-timeout")
	})

	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unreachable", []string{"-dial-timeout", "1", "http://" + closedPort(t) + "/"}, 1, "target unreachable"},
		{"https", []string{"https://127.0.0.1:1/"}, 2, "https is out of scope"},
		{"no url", nil, 2, "want exactly one http:// URL"},
		{"two urls", []string{url, url}, 2, "want exactly one"},
		{"bad flag", []string{"-nope", url}, 2, "flag provided but not defined"},
		{"bad seconds", []string{"-max-idle", "soon", url}, 2, "want seconds"},
		{"unknown probe", []string{"-probes", "nope", url}, 2, "unknown probe"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			cmd := exec.Command(bin, tc.args...)
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			require.True(t, errors.As(err, &ee), "want a non-zero exit, got %v", err)
			assert.Equal(t, tc.code, ee.ExitCode())
			assert.Contains(t, stderr.String(), tc.msg)
		})
	}
}

// run() in process: flags after the URL, -json, and exit codes.
func TestRunInProcess(t *testing.T) {
	url := startServer(t)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{url, "-json", "-probes", "framing-http11,http10-close", "-close-wait", "0.2"}, &stdout, &stderr)
	require.Equal(t, 0, code, stderr.String())
	var rep probe.Report
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &rep))
	require.Len(t, rep.Rows, 2)
	assert.Equal(t, probe.CodeFramingContentLength, rep.Rows[1].Codes[0])

	stdout.Reset()
	assert.Equal(t, 0, run(context.Background(), []string{"-h"}, &stdout, &stderr))
	assert.True(t, strings.Contains(stderr.String(), "usage: kaprobe"))
	assert.Equal(t, 1, run(context.Background(), []string{"-dial-timeout", "1", "http://" + closedPort(t) + "/"}, &stdout, &stderr))
}

func TestSecondsFlag(t *testing.T) {
	var d time.Duration
	s := seconds{&d}
	for in, want := range map[string]time.Duration{"20": 20 * time.Second, "0.5": 500 * time.Millisecond, "1m": time.Minute, "250ms": 250 * time.Millisecond} {
		require.NoError(t, s.Set(in), in)
		assert.Equal(t, want, d, in)
	}
	assert.Error(t, s.Set("-1"))
	assert.Error(t, s.Set("-1s"))
	assert.Error(t, s.Set("x"))
	d = 1500 * time.Millisecond
	assert.Equal(t, "1.5", s.String())
}
