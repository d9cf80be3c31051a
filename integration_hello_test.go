package kahttp_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startHello builds examples/hello, starts it on 127.0.0.1:0 with args, and
// returns the address it prints; the process is interrupted when the test
// ends. wait reports how it exited.
func startHello(t *testing.T, args ...string) (addr string, proc *exec.Cmd, wait <-chan error) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs examples/hello")
	}
	bin := filepath.Join(t.TempDir(), "hello")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "./examples/hello").CombinedOutput()
	require.NoError(t, err, "%s", out)

	cmd := exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	// A pipe of the test's own, not StdoutPipe: Wait closes that once the
	// process exits, and the processes a restart starts write to the same
	// stdout after their parent has gone.
	stdout, w, err := os.Pipe()
	require.NoError(t, err)
	cmd.Stdout = w
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	_ = w.Close() // the process, and those it starts, hold it
	done := make(chan error, 1)
	exited := make(chan struct{}) // closed once done has its value
	go func() { done <- cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
		_ = stdout.Close()
	})

	lines := make(chan string, 1)
	go func() {
		br := bufio.NewReader(stdout)
		line, _ := br.ReadString('\n')
		lines <- line
		_, _ = io.Copy(io.Discard, br) // later processes' lines, until the pipe closes
	}()
	select {
	case line := <-lines:
		require.True(t, strings.HasPrefix(line, "listening on "), "first line %q", line)
		addr = strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	case <-time.After(10 * time.Second):
		t.Fatal("hello did not print its address")
	}
	return addr, cmd, done
}

// TestIntegrationHello drives the reference app's contract (examples/hello's package doc) over
// one keep-alive connection, then stops it with SIGINT.
func TestIntegrationHello(t *testing.T) {
	t.Parallel()
	addr, cmd, done := startHello(t)
	c := dial(t, addr)

	r := c.roundTrip(getReq("/"))
	assert.Equal(t, 200, r.Status)
	assert.Contains(t, string(r.Body), "/plaintext")

	r = c.roundTrip(getReq("/plaintext"))
	assert.Equal(t, 200, r.Status)
	assert.Equal(t, "Hello, World!", string(r.Body))
	assert.True(t, strings.HasPrefix(r.header(t, "Content-Type"), "text/plain"))
	assert.Equal(t, "13", r.header(t, "Content-Length"))

	r = c.roundTrip(getReq("/json"))
	assert.Equal(t, 200, r.Status)
	assert.Equal(t, `{"message":"Hello, World!"}`, string(r.Body))
	assert.Equal(t, "application/json", r.header(t, "Content-Type"))

	r = c.roundTrip("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-test\r\nContent-Length: 6\r\n\r\nab\x00\xffcd")
	assert.Equal(t, 200, r.Status)
	assert.Equal(t, "ab\x00\xffcd", string(r.Body))
	assert.Equal(t, "application/x-test", r.header(t, "Content-Type"))

	for _, row := range []struct {
		size    string
		framing string
	}{{"100", "length"}, {"4096", "length"}, {"4097", "chunked"}, {"1048576", "chunked"}} {
		r = c.roundTrip(getReq("/stream?size=" + row.size))
		assert.Equal(t, 200, r.Status)
		assert.Equal(t, row.framing, r.Framing, row.size)
		assert.Equal(t, strings.Repeat("x", len(r.Body)), string(r.Body))
		assert.Equal(t, row.size, strconv.Itoa(len(r.Body)))
	}

	r = c.roundTrip(getReq("/sleep?ms=20"))
	assert.Equal(t, 200, r.Status)
	assert.Equal(t, "slept 20 ms", string(r.Body))

	r = c.roundTrip(getReq("/nope"))
	assert.Equal(t, 404, r.Status)

	r = c.roundTrip("POST /plaintext HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
	assert.Equal(t, 405, r.Status)
	assert.Equal(t, "GET, HEAD, OPTIONS", r.header(t, "Allow"))

	get := c.roundTrip(getReq("/json"))
	head := c.roundTrip("HEAD /json HTTP/1.1\r\nHost: x\r\n\r\n")
	assert.Equal(t, withoutDate(get.Fields), withoutDate(head.Fields))
	c.expectOpen()

	// SIGINT: graceful shutdown, exit status 0, the idle connection closed.
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	c.expectClosed()
	select {
	case err := <-done:
		assert.NoError(t, err, "exit status")
	case <-time.After(10 * time.Second):
		t.Fatal("hello did not exit on SIGINT")
	}
}

// TestIntegrationHelloUsersRoute: the examples/hello contract has
// GET /users/:id → 200 "user <id>".
func TestIntegrationHelloUsersRoute(t *testing.T) {
	t.Parallel()
	addr, _, _ := startHello(t)
	c := dial(t, addr)
	r := c.roundTrip(getReq("/users/42"))
	assert.Equal(t, 200, r.Status)
	assert.Equal(t, "user 42", string(r.Body))
	r = c.roundTrip("HEAD /users/42 HTTP/1.1\r\nHost: x\r\n\r\n")
	assert.Equal(t, 200, r.Status)
}

// TestIntegrationHelloUpload: POST /upload streams the body, past
// MaxBodyBytes, to a hash: curl --data-binary and curl -T, with and
// without Expect: 100-continue, and Go's client with a chunked body.
func TestIntegrationHelloUpload(t *testing.T) {
	t.Parallel()
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed (.ci/run installs it)")
	}
	addr, _, _ := startHello(t)
	body := bytes.Repeat([]byte("kahttp upload\n"), (20<<20)/14)
	file := filepath.Join(t.TempDir(), "body")
	require.NoError(t, os.WriteFile(file, body, 0o600))
	sum := sha256.Sum256(body)
	want := strconv.Itoa(len(body)) + " " + hex.EncodeToString(sum[:]) + "\n"
	for _, args := range [][]string{
		{"--data-binary", "@" + file},                  // curl sends Expect: 100-continue for it
		{"--data-binary", "@" + file, "-H", "Expect:"}, // without
		{"-X", "POST", "-T", file},
		{"-X", "POST", "-T", file, "-H", "Expect:"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, err := exec.CommandContext(ctx, curl, append([]string{"-sS", "--fail", "http://" + addr + "/upload"}, args...)...).Output()
		cancel()
		require.NoError(t, err, "curl %v", args)
		assert.Equal(t, want, string(out), "curl %v", args)
	}
	resp, err := http.Post("http://"+addr+"/upload", "application/octet-stream", io.MultiReader(bytes.NewReader(body)))
	require.NoError(t, err)
	got, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, want, string(got), "Go's client, chunked")
}

// TestIntegrationHelloWebSocket: GET /ws echoes every text and binary
// message as it came (gorilla's Upgrader through nethttp.Wrap).
func TestIntegrationHelloWebSocket(t *testing.T) {
	t.Parallel()
	addr, _, _ := startHello(t)
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
	require.NoError(t, err)
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
	for i, msg := range [][]byte{[]byte("hello"), bytes.Repeat([]byte{0, 1, 2, 255}, 20_000)} {
		kind := websocket.TextMessage
		if i == 1 {
			kind = websocket.BinaryMessage
		}
		require.NoError(t, c.WriteMessage(kind, msg))
		gotKind, got, err := c.ReadMessage()
		require.NoError(t, err)
		assert.Equal(t, kind, gotKind)
		assert.True(t, bytes.Equal(msg, got))
	}
}

// TestIntegrationHelloShutdownWithWebSockets: 100 WebSockets open, then
// SIGTERM: hello exits 0 within 3 s (Shutdown does not wait for hijacked
// connections), and every client gets a close frame with 1001 (going
// away) rather than a dropped connection.
func TestIntegrationHelloShutdownWithWebSockets(t *testing.T) {
	t.Parallel()
	addr, cmd, done := startHello(t)
	const n = 100
	conns := make([]*websocket.Conn, n)
	for i := range conns {
		c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.WriteMessage(websocket.TextMessage, []byte("hi")))
		_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
		_, msg, err := c.ReadMessage()
		require.NoError(t, err)
		require.Equal(t, "hi", string(msg))
		conns[i] = c
	}
	start := time.Now()
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	codes := make(chan int, n)
	for _, c := range conns {
		go func() {
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, _, err := c.ReadMessage() // gorilla answers the close frame itself
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				codes <- ce.Code
			} else {
				codes <- -1
			}
		}()
	}
	for range n {
		assert.Equal(t, websocket.CloseGoingAway, <-codes, "each client's close code")
	}
	select {
	case err := <-done:
		assert.NoError(t, err, "exit status")
		t.Logf("hello exited %v after SIGTERM with %d WebSockets open", time.Since(start).Round(time.Millisecond), n)
		assert.Less(t, time.Since(start), 3*time.Second)
	case <-time.After(10 * time.Second):
		t.Fatal("hello did not exit on SIGTERM")
	}
}

// TestIntegrationHelloTLS: -tls-self-signed serves HTTPS with a
// certificate made at start and written to -tls-ca-out, which a client
// then trusts.
func TestIntegrationHelloTLS(t *testing.T) {
	t.Parallel()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	addr, _, _ := startHello(t, "-tls-self-signed", "-tls-ca-out", ca)
	pem, err := os.ReadFile(ca)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	for _, path := range []string{"/plaintext", "/users/7"} {
		resp, err := client.Get("https://" + addr + path)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode)
		assert.NotEmpty(t, body)
	}
}
