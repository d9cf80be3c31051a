package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/kahttptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testApp(t *testing.T) *app {
	return newApp("s3cret", t.TempDir(), "https://ui.example")
}

// do sends one request in process, with the Bearer token when auth is set.
func do(t *testing.T, a *app, method, target, body string, header map[string]string) *kahttptest.Response {
	t.Helper()
	req, err := http.NewRequest(method, "http://device"+target, strings.NewReader(body))
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := kahttptest.Do(a.router(), req)
	require.NoError(t, err)
	return resp
}

var bearer = map[string]string{"Authorization": "Bearer s3cret", "Content-Type": "application/json"}

func TestDevicesCRUD(t *testing.T) {
	a := testApp(t)
	r := do(t, a, "POST", "/api/devices", `{"name":"router","ip":"10.0.0.1"}`, bearer)
	require.Equal(t, 201, r.Status, "%s", r.Body)
	var d Device
	require.NoError(t, json.Unmarshal(r.Body, &d))
	assert.Equal(t, Device{ID: "1", Name: "router", IP: "10.0.0.1"}, d)
	assert.Equal(t, "/api/devices/1", r.Header.Get("Location"))
	assert.NotEmpty(t, r.Header.Get("X-Request-Id"))

	r = do(t, a, "PUT", "/api/devices/1", `{"name":"gateway","ip":"10.0.0.1"}`, bearer)
	assert.Equal(t, 200, r.Status)
	r = do(t, a, "GET", "/api/devices", "", bearer)
	assert.JSONEq(t, `[{"id":"1","name":"gateway","ip":"10.0.0.1"}]`, string(r.Body))
	r = do(t, a, "DELETE", "/api/devices/1", "", bearer)
	assert.Equal(t, 204, r.Status)
	r = do(t, a, "GET", "/api/devices/1", "", bearer)
	assert.Equal(t, 404, r.Status)

	for _, tt := range []struct {
		name, body string
		header     map[string]string
		status     int
	}{
		{"unknown field", `{"name":"x","color":"red"}`, bearer, 400},
		{"not JSON", `name=x`, map[string]string{"Authorization": "Bearer s3cret", "Content-Type": "text/plain"}, 415},
		{"no name", `{"ip":"10.0.0.2"}`, bearer, 422},
		{"no password", `{"name":"x"}`, map[string]string{"Content-Type": "application/json"}, 401},
	} {
		r := do(t, a, "POST", "/api/devices", tt.body, tt.header)
		assert.Equal(t, tt.status, r.Status, tt.name)
	}
	// The router's own answers run through the API's auth: nothing leaks.
	assert.Equal(t, 401, do(t, a, "GET", "/api/nothing-here", "", nil).Status)
	assert.Equal(t, 404, do(t, a, "GET", "/api/nothing-here", "", bearer).Status)
}

func TestCORSPreflightAndLogin(t *testing.T) {
	a := testApp(t)
	r := do(t, a, "OPTIONS", "/api/devices", "", map[string]string{
		"Origin": "https://ui.example", "Access-Control-Request-Method": "POST"})
	assert.Equal(t, 204, r.Status)
	assert.Equal(t, "https://ui.example", r.Header.Get("Access-Control-Allow-Origin"))
	r = do(t, a, "GET", "/api/devices", "", map[string]string{"Origin": "https://evil.example"})
	assert.Equal(t, 401, r.Status)
	assert.Empty(t, r.Header.Get("Access-Control-Allow-Origin"))

	// The login form sets a session cookie that opens the admin UI.
	assert.Equal(t, 303, do(t, a, "GET", "/admin/", "", nil).Status, "to the login form")
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	assert.Equal(t, 401, do(t, a, "POST", "/login", url.Values{"password": {"nope"}}.Encode(), form).Status)
	r = do(t, a, "POST", "/login", url.Values{"password": {"s3cret"}}.Encode(), form)
	require.Equal(t, 303, r.Status)
	cookie := r.Header.Get("Set-Cookie")
	require.Contains(t, cookie, "HttpOnly")
	session := strings.Split(cookie, ";")[0]

	r = do(t, a, "GET", "/admin/", "", map[string]string{"Cookie": session, "Accept-Encoding": "gzip"})
	assert.Equal(t, 200, r.Status)
	assert.Equal(t, "private, max-age=3600", r.Header.Get("Cache-Control"))
	assert.Equal(t, kahttptest.FramingLength, r.Framing, "compressed, it fits: Content-Length kept")
	page := r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(r.Body))
		require.NoError(t, err)
		page, _ = io.ReadAll(zr)
	}
	assert.Contains(t, string(page), "Device admin")
	assert.Equal(t, 200, do(t, a, "GET", "/api/devices", "", map[string]string{"Cookie": session}).Status)
}

// Over a socket: a firmware upload streamed to disk, and the status that
// follows it over SSE and WebSocket.
func TestFirmwareAndLiveStatus(t *testing.T) {
	a := testApp(t)
	srv := kahttp.NewServer(a.router(), kahttp.Config{})
	require.NoError(t, srv.Start("127.0.0.1:0"))
	defer func() { _ = srv.Shutdown(t.Context()) }()
	base := "http://" + srv.Addr().String()

	req, _ := http.NewRequest("GET", base+"/api/status/events", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	sse, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer sse.Body.Close()
	events := bufio.NewReader(sse.Body)
	assert.Equal(t, "data: idle", nextEvent(t, events))

	ws, _, err := websocket.DefaultDialer.Dial("ws://"+srv.Addr().String()+"/api/status/ws",
		http.Header{"Authorization": {"Bearer s3cret"}})
	require.NoError(t, err)
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, msg, err := ws.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "idle", string(msg))

	image := bytes.Repeat([]byte("firmware!"), 1<<20) // 9 MiB: streams to disk
	got := postFirmware(t, http.DefaultClient, base+"/api/firmware", image)
	stored, err := os.ReadFile(filepath.Join(a.firmwareDir, got.SHA256+".bin"))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(image, stored))

	want := "firmware " + got.SHA256[:12] + " stored"
	assert.Equal(t, "data: "+want, nextEvent(t, events))
	_, msg, err = ws.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, want, string(msg))
}

func nextEvent(t *testing.T, br *bufio.Reader) string {
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

// The session cookie is Secure when the service serves HTTPS, and a
// session ends when it expires; the Bearer token opens the API.
func TestSessionSecureAndExpiring(t *testing.T) {
	a := testApp(t)
	a.secure = true
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	r := do(t, a, "POST", "/login", url.Values{"password": {"s3cret"}}.Encode(), form)
	require.Equal(t, 303, r.Status)
	cookie := r.Header.Get("Set-Cookie")
	assert.Contains(t, cookie, "Secure")
	session := strings.Split(cookie, ";")[0]
	assert.Equal(t, 200, do(t, a, "GET", "/api/devices", "", map[string]string{"Cookie": session}).Status)

	a.mu.Lock()
	for id := range a.sessions {
		a.sessions[id] = time.Now().Add(-time.Second) // as if sessionTTL had passed
	}
	a.mu.Unlock()
	assert.Equal(t, 401, do(t, a, "GET", "/api/devices", "", map[string]string{"Cookie": session}).Status, "expired")
	assert.Equal(t, 200, do(t, a, "GET", "/api/devices", "", map[string]string{"Authorization": "Bearer s3cret"}).Status)
	assert.Equal(t, 401, do(t, a, "GET", "/api/devices", "", map[string]string{"Authorization": "Bearer s3cre"}).Status)
}

// The admin UI is served natively: an ETag and 304, and HEAD says what GET
// sends, compressed.
func TestUIFiles(t *testing.T) {
	a := testApp(t)
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	r := do(t, a, "POST", "/login", url.Values{"password": {"s3cret"}}.Encode(), form)
	require.Equal(t, 303, r.Status)
	session := strings.Split(r.Header.Get("Set-Cookie"), ";")[0]
	fields := map[string]string{"Cookie": session, "Accept-Encoding": "gzip"}
	page := do(t, a, "GET", "/admin/", "", fields)
	require.Equal(t, 200, page.Status)
	etag := page.Header.Get("ETag")
	require.NotEmpty(t, etag)
	head := do(t, a, "HEAD", "/admin/", "", fields)
	for _, f := range []string{"Content-Length", "Content-Encoding", "Vary", "ETag"} {
		assert.Equal(t, page.Header.Get(f), head.Header.Get(f), "HEAD's %s", f)
	}
	fields["If-None-Match"] = etag
	assert.Equal(t, 304, do(t, a, "GET", "/admin/", "", fields).Status)
}

// The appliance serves HTTPS by default: a firmware image larger than the
// server holds in memory (MaxBodyBytes, 4 MiB) streams to disk over TLS too.
func TestFirmwareOverHTTPS(t *testing.T) {
	a := testApp(t)
	cert, certPEM, err := kahttp.SelfSignedCert("127.0.0.1")
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(certPEM))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := kahttp.NewServer(a.router(), kahttp.Config{})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(tls.NewListener(ln, kahttp.TLSConfig(cert))) }()
	defer func() { _ = srv.Shutdown(t.Context()); <-served }()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()

	image := bytes.Repeat([]byte("firmware over TLS "), 500_000) // 8.6 MiB
	postFirmware(t, client, "https://"+ln.Addr().String()+"/api/firmware", image)
}

// firmwareStored is the answer to a firmware upload.
type firmwareStored struct {
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// postFirmware uploads image to url with the admin's token and checks the
// answer: 201, its length and its SHA-256.
func postFirmware(t *testing.T, client *http.Client, url string, image []byte) firmwareStored {
	t.Helper()
	req, _ := http.NewRequest("POST", url, bytes.NewReader(image))
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := client.Do(req)
	require.NoError(t, err)
	var got firmwareStored
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&got))
	_ = resp.Body.Close()
	sum := sha256.Sum256(image)
	assert.Equal(t, 201, resp.StatusCode)
	assert.Equal(t, int64(len(image)), got.Bytes)
	assert.Equal(t, hex.EncodeToString(sum[:]), got.SHA256)
	return got
}
