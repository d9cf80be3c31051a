package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/kahttp/kahttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The page, the counter over SSE (plain HTTP, on the event loops) and over
// a WebSocket (HTTPS with a self-signed certificate), and the streams'
// goodbye at shutdown.
func TestLive(t *testing.T) {
	a := newApp()
	srv := kahttp.NewServer(a.router(), kahttp.Config{})
	require.NoError(t, srv.Start("127.0.0.1:0"))
	plain := srv.Addr().String()
	cert, certPEM, err := kahttp.SelfSignedCert("127.0.0.1")
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(tls.NewListener(ln, kahttp.TLSConfig(cert))) }()
	shut := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
	defer shut()

	resp, err := http.Get("http://" + plain + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Contains(t, string(body), "kahttp live counter")

	// SSE over plain HTTP: the current value, then each new one.
	sse, err := http.Get("http://" + plain + "/events")
	require.NoError(t, err)
	defer sse.Body.Close()
	events := bufio.NewReader(sse.Body)
	assert.Equal(t, "data: 0", readEvent(t, events))
	a.add()
	assert.Equal(t, "data: 1", readEvent(t, events))

	// WebSocket over HTTPS: the current value; a message counts one more.
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(certPEM))
	d := websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: pool}, HandshakeTimeout: 5 * time.Second}
	c, _, err := d.Dial("wss://"+ln.Addr().String()+"/ws", nil)
	require.NoError(t, err)
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, msg, err := c.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "1", string(msg))
	require.NoError(t, c.WriteMessage(websocket.TextMessage, []byte("+1")))
	_, msg, err = c.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "2", string(msg))
	assert.Equal(t, "data: 2", readEvent(t, events), "SSE follows the WebSocket's increment")
	n, _ := strconv.Atoi(string(msg))
	assert.Equal(t, int64(n), a.value())

	_ = c.Close()
	shut()
	assert.Equal(t, "event: bye", readEvent(t, events), "the stream says goodbye at shutdown")
	assert.ErrorIs(t, <-served, kahttp.ErrServerClosed)
}

// readEvent returns the first line of the next server-sent event.
func readEvent(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var first string
	for {
		line, err := br.ReadString('\n')
		require.NoError(t, err)
		line = strings.TrimRight(line, "\n")
		if line == "" {
			return first
		}
		if first == "" {
			first = line
		}
	}
}
