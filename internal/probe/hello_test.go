// This test drives kahttp's examples/hello, built from the repository, with
// a short idle timeout and a low request cap, and checks every verdict.

package probe

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startHello builds examples/hello and runs it with a 1 s idle timeout and
// at most 5 requests per connection; it returns the server's URL.
func startHello(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hello")
	build := exec.Command("go", "build", "-o", bin, "../../examples/hello")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build examples/hello: %s", out)

	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-idle", "1s", "-max-requests", "5")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	lines := make(chan string, 1)
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		_ = cmd.Wait()
	}()
	select {
	case line := <-lines:
		addr, ok := strings.CutPrefix(line, "listening on ")
		require.True(t, ok, "unexpected first line %q", line)
		return "http://" + strings.TrimSpace(addr) + "/"
	case <-exited:
		t.Fatal("hello exited before listening")
	case <-time.After(10 * time.Second):
		t.Fatal("hello did not print its listening line")
	}
	return ""
}

func TestRunAgainstHello(t *testing.T) {
	u := startHello(t)
	o := fastOptions(u)
	o.MaxIdle = 5 * time.Second
	o.MaxRequests = 50
	o.PathLarge = "/stream?size=100000"
	o.PathPost = "/echo"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := Run(ctx, o)
	require.NoError(t, err)
	for _, r := range rep.Rows {
		t.Logf("%-20s %-5s %v | %s", r.Probe, r.Level, r.Codes, r.Verdict)
	}
	assert.Equal(t, 200, rep.Baseline)

	assertCodes(t, rep, "http11-persist", CodePersistent)
	assertCodes(t, rep, "http10-close", CodeHTTP10Closed)

	ka := assertCodes(t, rep, "http10-keepalive", CodeKeepAliveHonoured, CodeKeepAliveEchoed, CodeKeepAliveAdvertised)
	require.NotEmpty(t, ka.responses)
	kav, ok := ka.responses[0].Get("Keep-Alive")
	require.True(t, ok)
	timeout, ok := keepAliveParam(kav, "timeout")
	require.True(t, ok, "Keep-Alive %q has timeout=", kav)
	assert.Equal(t, 1, timeout)
	_, ok = keepAliveParam(kav, "max")
	assert.True(t, ok, "Keep-Alive %q has max=", kav)

	idle := assertCodes(t, rep, "idle-timeout", CodeIdleMeasured, CodeAdvertisedMatches)
	require.NotNil(t, idle.Measured)
	assertSeconds(t, 1.0, idle.Measured.Value, "hello -idle 1s")

	mr := assertCodes(t, rep, "max-requests", CodeMaxMeasured, CodeAnnouncedLast, CodeAdvertisedMatches)
	require.NotNil(t, mr.Measured)
	assert.True(t, mr.Measured.Reached)
	assert.Equal(t, 5.0, mr.Measured.Value, "hello -max-requests 5")

	assertCodes(t, rep, "pipeline-2", CodePipelineOK)
	// 10 pipelined requests on a connection limited to 5: 5 answered in
	// order, the 5th with Connection: close.
	p10 := assertCodes(t, rep, "pipeline-10", CodePipelineLimited)
	assert.Len(t, p10.Statuses, 5)

	assertCodes(t, rep, "post-crlf", CodeCRLFOK)
	assertCodes(t, rep, "framing-http11", CodeFramingContentLength, CodeKeptOpen)
	assertCodes(t, rep, "framing-http10", CodeFramingContentLength, CodeKeptOpen)
	assertCodes(t, rep, "framing-http11-large", CodeFramingChunked, CodeKeptOpen)
	assertCodes(t, rep, "framing-http10-large", CodeFramingCloseDelimited, CodeClosedAfter)
}
