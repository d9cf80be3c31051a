//go:build linux

package kahttp_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fdChildEnv makes the test binary run fdLimitChild instead of the test: a
// server under a low RLIMIT_NOFILE, in a process of its own so that the
// limit does not reach the other tests.
const fdChildEnv = "KAHTTP_EMFILE_CHILD"

// fdHeadroom is how many descriptors the child may open beyond those open
// when it starts: the listener, the loops' pollers and a few connections.
const fdHeadroom = 16

// TestIntegrationFDExhaustion: a server that runs out of file descriptors
// keeps serving the connections it has, pauses accepting, and serves new
// connections normally once descriptors are free again (gnet's own acceptor
// shut the whole engine down at the first EMFILE).
func TestIntegrationFDExhaustion(t *testing.T) {
	if os.Getenv(fdChildEnv) == "1" {
		fdLimitChild()
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestIntegrationFDExhaustion$")
	cmd.Env = append(os.Environ(), fdChildEnv+"=1")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = stdin.Close()
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("child stderr:\n%s", stderr.String())
		}
	})
	lines := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	line := nextLine(t, lines)
	addr, ok := strings.CutPrefix(line, "listening on ")
	require.True(t, ok, "child said %q", line)

	keep := dial(t, addr)
	require.Equal(t, 200, keep.roundTrip(getReq("/keep")).Status)

	// Far more connections than the child has descriptors for: the kernel
	// completes their handshakes, the server accepts until it runs out.
	var extra []*client
	for range 4 * fdHeadroom {
		c := dial(t, addr)
		c.send(getReq("/extra"))
		extra = append(extra, c)
	}
	// The connection the server already has keeps being served meanwhile.
	for i := range 5 {
		r, err := func() (*response, error) {
			keep.send(getReq(fmt.Sprintf("/during/%d", i)))
			return keep.tryReadResponse(false)
		}()
		require.NoError(t, err, "request %d on the kept connection during the exhaustion", i)
		assert.Equal(t, "GET /during/"+fmt.Sprint(i), string(r.Body))
		time.Sleep(20 * time.Millisecond)
	}
	for _, c := range extra {
		_ = c.conn.Close()
	}

	// Descriptors are free again: a new connection is served (after at most
	// one backoff of a second, plus the connections queued before it).
	deadline := time.Now().Add(15 * time.Second)
	for {
		c := dial(t, addr)
		c.send(getReq("/after"))
		r, err := c.tryReadResponse(false)
		_ = c.conn.Close()
		if err == nil {
			assert.Equal(t, "GET /after", string(r.Body))
			break
		}
		require.True(t, time.Now().Before(deadline), "no new connection served after the exhaustion: %v", err)
		time.Sleep(50 * time.Millisecond)
	}
	require.Equal(t, 200, keep.roundTrip(getReq("/keep")).Status)

	// The child reports its counters when its stdin closes: the exhaustion
	// must really have happened for this test to mean anything.
	require.NoError(t, stdin.Close())
	stats := nextLine(t, lines)
	var acceptErrors, dropped int64
	_, err = fmt.Sscanf(stats, "accept_errors=%d dropped=%d", &acceptErrors, &dropped)
	require.NoError(t, err, "child said %q", stats)
	t.Logf("child: %s", stats)
	assert.Positive(t, acceptErrors+dropped, "the child never ran out of descriptors")
}

func nextLine(t *testing.T, lines <-chan string) string {
	t.Helper()
	select {
	case l, ok := <-lines:
		require.True(t, ok, "child exited")
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("child said nothing")
		return ""
	}
}

// fdLimitChild serves under a low RLIMIT_NOFILE until its stdin closes,
// then prints its accept counters and exits.
func fdLimitChild() {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(2)
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		fail(err)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fail(err)
	}
	lim.Cur = uint64(len(fds) + fdHeadroom)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		fail(err)
	}
	srv := kahttp.NewServer(kahttp.HandlerFunc(echoPath), kahttp.Config{Loops: 2})
	if err := srv.Start("127.0.0.1:0"); err != nil {
		fail(err)
	}
	fmt.Printf("listening on %s\n", srv.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	st := srv.Stats()
	fmt.Printf("accept_errors=%d dropped=%d\n", st.AcceptErrors, st.ConnsDropped)
	os.Exit(0)
}
