package kahttp_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/nethttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testCert is a self-signed certificate for 127.0.0.1 and localhost, its
// own CA, written to PEM files as well.
func testCert(t testing.TB) (cert tls.Certificate, pool *x509.CertPool, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kahttp test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	cert, err = tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err)
	parsed, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(parsed)
	return cert, pool, certFile, keyFile
}

// startTLS serves echoPath over TLS from a listener on 127.0.0.1:0.
func startTLS(t *testing.T, cfg kahttp.Config) (srv *kahttp.Server, addr string, pool *x509.CertPool, certFile string) {
	cert, pool, certFile, _ := testCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv = kahttp.NewServer(kahttp.HandlerFunc(echoPath), cfg)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(tls.NewListener(ln, kahttp.TLSConfig(cert))) }()
	t.Cleanup(func() {
		shutdown(t, srv)
		assert.ErrorIs(t, <-served, kahttp.ErrServerClosed)
	})
	return srv, ln.Addr().String(), pool, certFile
}

// Go's client over TLS: 100 requests on one kept-alive connection.
func TestIntegrationTLSKeepAlive(t *testing.T) {
	srv, addr, pool, _ := startTLS(t, kahttp.Config{})
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	reused := 0
	for i := range 100 {
		req, err := http.NewRequest("GET", "https://"+addr+"/n", nil)
		require.NoError(t, err)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) {
				if info.Reused {
					reused++
				}
			},
		}))
		resp, err := client.Do(req)
		require.NoError(t, err, "request %d", i)
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		assert.Equal(t, "GET /n", string(body))
		assert.Equal(t, "HTTP/1.1", resp.Proto)
	}
	assert.Equal(t, 99, reused, "one connection for all")
	assert.EqualValues(t, 1, srv.Stats().ConnsAccepted)
}

// HTTP/1.0 keep-alive over TLS, with ALPN http/1.0 as curl --http1.0
// offers it, and curl itself when installed.
func TestIntegrationTLSHTTP10(t *testing.T) {
	_, addr, pool, certFile := startTLS(t, kahttp.Config{IdleTimeout: 30 * time.Second})
	tc, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, NextProtos: []string{"http/1.0"}})
	require.NoError(t, err)
	defer tc.Close()
	assert.Equal(t, "http/1.0", tc.ConnectionState().NegotiatedProtocol)
	br := bufio.NewReader(tc)
	for range 2 {
		_ = tc.SetDeadline(time.Now().Add(ioTimeout))
		_, err := io.WriteString(tc, "GET /ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
		require.NoError(t, err)
		r, err := parseResponse(br, false)
		require.NoError(t, err)
		assert.Equal(t, "GET /ka", string(r.Body))
		assert.Equal(t, "keep-alive", r.header(t, "Connection"))
		assert.Equal(t, "timeout=30", r.header(t, "Keep-Alive"))
	}

	curl, err := exec.LookPath("curl")
	if err != nil {
		return
	}
	for _, v := range []string{"--http1.1", "--http1.0"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := exec.CommandContext(ctx, curl, "-sS", v, "--cacert", certFile,
			"https://"+addr+"/a", "https://"+addr+"/b").CombinedOutput()
		cancel()
		require.NoError(t, err, "curl %s: %s", v, out)
		assert.Equal(t, "GET /aGET /b", string(out), v)
	}
}

// A client that opens TLS and sends nothing is closed after HeaderTimeout;
// plain HTTP to the TLS port gets a clear 400; the server serves on.
func TestIntegrationTLSHostileClients(t *testing.T) {
	_, addr, pool, _ := startTLS(t, kahttp.Config{HeaderTimeout: 300 * time.Millisecond})
	silent := dial(t, addr)
	closed, _ := silent.closedWithin(5 * time.Second)
	assert.True(t, closed, "a silent client is closed by the handshake timeout")

	plain := dial(t, addr)
	plain.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	r := plain.readResponse(false)
	assert.Equal(t, 400, r.Status)
	assert.Contains(t, string(r.Body), "HTTPS")

	tc, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool})
	require.NoError(t, err)
	defer tc.Close()
	_ = tc.SetDeadline(time.Now().Add(ioTimeout))
	_, err = io.WriteString(tc, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	resp, err := parseResponse(bufio.NewReader(tc), false)
	require.NoError(t, err)
	assert.Equal(t, "GET /ok", string(resp.Body))
}

// Shutdown closes an idle TLS connection and Serve returns ErrServerClosed.
func TestIntegrationTLSShutdown(t *testing.T) {
	cert, pool, _, _ := testCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := kahttp.NewServer(kahttp.HandlerFunc(echoPath), kahttp.Config{})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(tls.NewListener(ln, kahttp.TLSConfig(cert))) }()
	tc, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool})
	require.NoError(t, err)
	defer tc.Close()
	_ = tc.SetDeadline(time.Now().Add(ioTimeout))
	_, err = io.WriteString(tc, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(tc)
	_, err = parseResponse(br, false)
	require.NoError(t, err)
	assert.EqualValues(t, 1, srv.Stats().ConnsOpen)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	require.NoError(t, srv.Shutdown(ctx), "the idle connection closes at once")
	_, err = br.ReadByte()
	assert.Error(t, err, "closed")
	select {
	case err := <-served:
		assert.ErrorIs(t, err, kahttp.ErrServerClosed)
	case <-time.After(ioTimeout):
		t.Fatal("Serve did not return")
	}
	assert.EqualValues(t, 0, srv.Stats().ConnsOpen)
}

// WebSocket over TLS: gorilla's Upgrader through nethttp.Wrap hijacks a
// listener connection; the native upgrade gets the bytes pipelined after
// its request.
func TestIntegrationTLSWebSocket(t *testing.T) {
	cert, pool, _, _ := testCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	rt := kahttp.NewRouter()
	rt.GET("/ws", nethttp.Wrap(wsEcho()))
	rt.GET("/native", kahttp.HandlerFunc(nativeEcho))
	srv := kahttp.NewServer(rt, kahttp.Config{})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(tls.NewListener(ln, kahttp.TLSConfig(cert))) }()
	t.Cleanup(func() { shutdown(t, srv); <-served })
	addr := ln.Addr().String()

	d := websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: pool}}
	c, _, err := d.Dial("wss://"+addr+"/ws", nil)
	require.NoError(t, err)
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
	for _, size := range []int{1, 1000, 64 << 10} {
		msg := bytes.Repeat([]byte("w"), size)
		require.NoError(t, c.WriteMessage(websocket.BinaryMessage, msg))
		_, got, err := c.ReadMessage()
		require.NoError(t, err)
		assert.True(t, bytes.Equal(msg, got), "%d bytes", size)
	}

	tc, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool})
	require.NoError(t, err)
	defer tc.Close()
	_ = tc.SetDeadline(time.Now().Add(ioTimeout))
	_, err = io.WriteString(tc, "GET /native HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nfirst bytes")
	require.NoError(t, err)
	br := bufio.NewReader(tc)
	r := &response{}
	require.NoError(t, readHead(br, r))
	assert.Equal(t, 101, r.Status)
	got := make([]byte, len("first bytes"))
	_, err = io.ReadFull(br, got)
	require.NoError(t, err)
	assert.Equal(t, "first bytes", string(got))
	_ = c.Close() // the WebSocket handler runs until its connection ends
	assert.Eventually(t, func() bool { return srv.Stats().ClosedBy["hijacked"] == 2 }, ioTimeout, 10*time.Millisecond,
		"both hijacked connections left Serve: %v", srv.Stats().ClosedBy)
}
