package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/gorilla/websocket"
	"github.com/kahttp/kahttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testArena starts the arena on 127.0.0.1:0 (plain and TLS) over data,
// stopped when the test ends; it returns the server and a client that
// trusts its certificate, with time bounds.
func testArena(t *testing.T, data *Data) (*arena, *http.Client) {
	t.Helper()
	return testArenaWith(t, options{Data: data})
}

// testArenaWith is testArena with o's Data and StaticCache.
func testArenaWith(t *testing.T, o options) (*arena, *http.Client) {
	t.Helper()
	cert, certPEM, err := kahttp.SelfSignedCert("127.0.0.1")
	require.NoError(t, err)
	o.Addr, o.TLSAddr, o.Cert = "127.0.0.1:0", "127.0.0.1:0", &cert
	ar, err := start(o)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		assert.NoError(t, ar.Stop(ctx))
	})
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(certPEM))
	tr := &http.Transport{
		// h2 offered too: the server must pick http/1.1.
		TLSClientConfig:    &tls.Config{RootCAs: roots, NextProtos: []string{"h2", "http/1.1"}},
		DisableCompression: true, // the tests ask for encodings themselves
	}
	t.Cleanup(tr.CloseIdleConnections)
	return ar, &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func generated(t *testing.T) *Data {
	t.Helper()
	data, err := GenerateData()
	require.NoError(t, err)
	return data
}

// do does a request and returns the response and its (raw) body.
func do(t *testing.T, c *http.Client, method, url string, body io.Reader, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

// dial opens a raw connection with a deadline.
func dial(t *testing.T, addr net.Addr) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	return c
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestArena(t *testing.T) {
	data := generated(t)
	ar, c := testArena(t, data)
	base := "http://" + ar.Addr.String()

	t.Run("baseline", func(t *testing.T) {
		resp, body := do(t, c, "GET", base+"/baseline11?a=13&b=42", nil)
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "55", string(body))
		assert.Equal(t, "text/plain", resp.Header.Get("Content-Type"))

		resp, body = do(t, c, "POST", base+"/baseline11?a=13&b=42", strings.NewReader("20"), "Content-Type", "text/plain")
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "75", string(body))

		resp, _ = do(t, c, "GET", base+"/baseline11?a=x&b=1", nil)
		assert.Equal(t, 400, resp.StatusCode)

		// Chunked, its body in two chunks, the request written in pieces.
		conn := dial(t, ar.Addr)
		for _, piece := range []string{
			"POST /baseline11?a=13&b=42 HTTP/1.1\r\nHost: t\r\nTransfer-",
			"Encoding: chunked\r\n\r\n1\r\n2",
			"\r\n1\r\n0\r\n0\r\n\r\n",
		} {
			_, err := conn.Write([]byte(piece))
			require.NoError(t, err)
			time.Sleep(10 * time.Millisecond)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err)
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "75", readBody(t, resp))
	})

	t.Run("pipeline", func(t *testing.T) {
		// 16 requests in one write, /pipeline and /baseline11 in turn, so
		// that every answer says which request it is.
		conn := dial(t, ar.Addr)
		var reqs strings.Builder
		for i := range 16 {
			if i%2 == 0 {
				reqs.WriteString("GET /pipeline HTTP/1.1\r\nHost: t\r\n\r\n")
			} else {
				fmt.Fprintf(&reqs, "GET /baseline11?a=%d&b=1000 HTTP/1.1\r\nHost: t\r\n\r\n", i)
			}
		}
		_, err := conn.Write([]byte(reqs.String()))
		require.NoError(t, err)
		br := bufio.NewReader(conn)
		for i := range 16 {
			resp, err := http.ReadResponse(br, nil)
			require.NoError(t, err, "response %d", i)
			want := "ok"
			if i%2 == 1 {
				want = strconv.Itoa(i + 1000)
			}
			assert.Equal(t, want, readBody(t, resp), "response %d", i)
			assert.Equal(t, "text/plain", resp.Header.Get("Content-Type"))
		}
	})

	// checkJSON checks a /json answer against the dataset.
	checkJSON := func(t *testing.T, body []byte, count, m int) {
		t.Helper()
		var got struct {
			Items []struct {
				Item
				Total int `json:"total"`
			} `json:"items"`
			Count int `json:"count"`
		}
		require.NoError(t, json.Unmarshal(body, &got))
		assert.Equal(t, count, got.Count)
		require.Len(t, got.Items, count)
		for i, it := range got.Items {
			assert.Equal(t, data.Items[i], it.Item)
			assert.Equal(t, it.Price*it.Quantity*m, it.Total, "item %d", i)
		}
	}

	t.Run("json", func(t *testing.T) {
		for _, tc := range []struct{ count, m int }{{1, 3}, {12, 3}, {50, 5}, {22, 7}} {
			resp, body := do(t, c, "GET", fmt.Sprintf("%s/json/%d?m=%d", base, tc.count, tc.m), nil)
			assert.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			assert.Empty(t, resp.Header.Get("Content-Encoding"))
			checkJSON(t, body, tc.count, tc.m)
		}
		// m changes every total; no m is 1; past the dataset is all of it.
		_, one := do(t, c, "GET", base+"/json/5?m=1", nil)
		_, two := do(t, c, "GET", base+"/json/5?m=2", nil)
		assert.NotEqual(t, one, two)
		_, none := do(t, c, "GET", base+"/json/5", nil)
		assert.Equal(t, one, none)
		_, all := do(t, c, "GET", base+"/json/500?m=1", nil)
		checkJSON(t, all, len(data.Items), 1)
		resp, _ := do(t, c, "GET", base+"/json/five", nil)
		assert.Equal(t, 400, resp.StatusCode)
	})

	t.Run("json compressed", func(t *testing.T) {
		decoders := map[string]func(io.Reader) (io.Reader, error){
			"gzip": func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) },
			"br":   func(r io.Reader) (io.Reader, error) { return brotli.NewReader(r), nil },
		}
		for coding, decode := range decoders {
			resp, body := do(t, c, "GET", base+"/json/40?m=7", nil, "Accept-Encoding", coding)
			assert.Equal(t, 200, resp.StatusCode)
			assert.Equal(t, coding, resp.Header.Get("Content-Encoding"))
			assert.Contains(t, resp.Header.Values("Vary"), "Accept-Encoding")
			r, err := decode(bytes.NewReader(body))
			require.NoError(t, err)
			plain, err := io.ReadAll(r)
			require.NoError(t, err, coding)
			assert.Less(t, len(body), len(plain), coding)
			checkJSON(t, plain, 40, 7)
		}
		// HttpArena's json-comp asks with both.
		resp, _ := do(t, c, "GET", base+"/json/50?m=1", nil, "Accept-Encoding", "gzip, br")
		assert.Contains(t, []string{"br", "gzip"}, resp.Header.Get("Content-Encoding"))
	})

	t.Run("upload", func(t *testing.T) {
		const size = 5 << 20
		resp, body := do(t, c, "POST", base+"/upload", io.LimitReader(zeros{}, size), "Content-Type", "application/octet-stream")
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, strconv.Itoa(size), string(body))
		// Chunked (no length known): counted as it streams.
		req, err := http.NewRequest("POST", base+"/upload", io.MultiReader(strings.NewReader("abc"), strings.NewReader("de")))
		require.NoError(t, err)
		req.ContentLength = -1
		cresp, err := c.Do(req)
		require.NoError(t, err)
		assert.Equal(t, "5", readBody(t, cresp))
		// Past 20 MiB, declared: 413 before any byte is read.
		conn := dial(t, ar.Addr)
		_, err = fmt.Fprintf(conn, "POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n", maxUpload+1)
		require.NoError(t, err)
		big, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err)
		assert.Equal(t, 413, big.StatusCode)
		_ = big.Body.Close()
	})

	t.Run("static", func(t *testing.T) {
		plain := generatedFile(t, data, "app.js")
		resp, body := do(t, c, "GET", base+"/static/app.js", nil)
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, plain, body)
		assert.Empty(t, resp.Header.Get("Content-Encoding"))
		assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript"), resp.Header.Get("Content-Type"))

		// The client HttpArena's load generator is: br preferred, gzip taken.
		resp, body = do(t, c, "GET", base+"/static/app.js", nil, "Accept-Encoding", "br;q=1, gzip;q=0.8")
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "br", resp.Header.Get("Content-Encoding"))
		assert.Equal(t, generatedFile(t, data, "app.js.br"), body) // the sibling, as it is on disk
		dec, err := io.ReadAll(brotli.NewReader(bytes.NewReader(body)))
		require.NoError(t, err)
		assert.Equal(t, plain, dec)

		resp, body = do(t, c, "GET", base+"/static/app.js", nil, "Accept-Encoding", "gzip")
		assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
		assert.Equal(t, generatedFile(t, data, "app.js.gz"), body)

		// No sibling: as it is, whatever the client accepts.
		resp, body = do(t, c, "GET", base+"/static/hero.webp", nil, "Accept-Encoding", "br, gzip")
		assert.Equal(t, "image/webp", resp.Header.Get("Content-Type"))
		assert.Empty(t, resp.Header.Get("Content-Encoding"))
		assert.Equal(t, generatedFile(t, data, "hero.webp"), body)

		resp, _ = do(t, c, "GET", base+"/static/nonexistent.txt", nil)
		assert.Equal(t, 404, resp.StatusCode)
	})

	t.Run("websocket", func(t *testing.T) {
		d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
		ws, resp, err := d.Dial("ws://"+ar.Addr.String()+"/ws", nil)
		require.NoError(t, err)
		defer ws.Close()
		assert.Equal(t, 101, resp.StatusCode)
		require.NoError(t, ws.SetReadDeadline(time.Now().Add(5*time.Second)))
		for _, m := range []struct {
			kind int
			data []byte
		}{{websocket.TextMessage, []byte("hello")}, {websocket.BinaryMessage, []byte{0, 1, 2, 255}}, {websocket.TextMessage, bytes.Repeat([]byte("x"), 70000)}} {
			require.NoError(t, ws.WriteMessage(m.kind, m.data))
			kind, got, err := ws.ReadMessage()
			require.NoError(t, err)
			assert.Equal(t, m.kind, kind)
			assert.Equal(t, m.data, got)
		}
		// Not an upgrade: 400, and the server goes on.
		nresp, _ := do(t, c, "GET", base+"/ws", nil)
		assert.Equal(t, 400, nresp.StatusCode)
	})

	t.Run("json over TLS", func(t *testing.T) {
		resp, body := do(t, c, "GET", fmt.Sprintf("https://%s/json/23?m=11", ar.TLSAddr), nil)
		assert.Equal(t, 200, resp.StatusCode)
		require.NotNil(t, resp.TLS)
		assert.Equal(t, "http/1.1", resp.TLS.NegotiatedProtocol)
		assert.Equal(t, 1, resp.ProtoMinor)
		assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		checkJSON(t, body, 23, 11)
	})

	t.Run("other", func(t *testing.T) {
		resp, body := do(t, c, "GET", base+"/", nil)
		assert.Equal(t, 200, resp.StatusCode)
		assert.Contains(t, string(body), "/json/{count}")
		resp, _ = do(t, c, "GET", base+"/nope", nil)
		assert.Equal(t, 404, resp.StatusCode)
		resp, _ = do(t, c, "PUT", base+"/pipeline", nil)
		assert.Equal(t, 405, resp.StatusCode)
	})
}

// TestArenaDataDir serves a folder in HttpArena's data/ layout from disk.
func TestArenaDataDir(t *testing.T) {
	dir := t.TempDir()
	items := []Item{
		{ID: 1, Name: "Alpha Widget", Category: "electronics", Price: 328, Quantity: 15, Active: true, Tags: []string{"fast", "new"}, Rating: Rating{48, 127}},
		{ID: 2, Name: "Pro Valve", Category: "tools", Price: 347, Quantity: 95, Tags: []string{}, Rating: Rating{15, 259}},
	}
	b, err := json.Marshal(items)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "dataset.json"), b, 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "static"), 0o755))
	css := []byte(strings.Repeat("body { color: red; }\n", 100))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(css)
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "static", "reset.css"), css, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "static", "reset.css.gz"), gz.Bytes(), 0o644))

	data, err := LoadData(dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = data.Close() })
	ar, c := testArena(t, data)
	base := "http://" + ar.Addr.String()

	resp, body := do(t, c, "GET", base+"/json/5?m=2", nil)
	assert.Equal(t, 200, resp.StatusCode)
	assert.JSONEq(t, `{"count":2,"items":[
		{"id":1,"name":"Alpha Widget","category":"electronics","price":328,"quantity":15,"active":true,"tags":["fast","new"],"rating":{"score":48,"count":127},"total":9840},
		{"id":2,"name":"Pro Valve","category":"tools","price":347,"quantity":95,"active":false,"tags":[],"rating":{"score":15,"count":259},"total":65930}]}`, string(body))

	static := func(c *http.Client, base string) {
		t.Helper()
		resp, body := do(t, c, "GET", base+"/static/reset.css", nil, "Accept-Encoding", "br;q=1, gzip;q=0.8")
		assert.Equal(t, 200, resp.StatusCode)
		assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css"))
		assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding")) // no .br beside it
		assert.Equal(t, gz.Bytes(), body)
		resp, body = do(t, c, "GET", base+"/static/reset.css", nil)
		assert.Empty(t, resp.Header.Get("Content-Encoding"))
		assert.Equal(t, css, body)
	}
	static(c, base)
	// -static-cache: the same answers, from memory the second time.
	cached, cc := testArenaWith(t, options{Data: data, StaticCache: 1 << 20})
	for range 2 {
		static(cc, "http://"+cached.Addr.String())
	}

	_, err = LoadData(t.TempDir())
	assert.Error(t, err, "a folder without dataset.json")
}

// TestStopEndsWebSockets checks that stopping the server tells an open
// WebSocket (a close frame with 1001) and returns promptly.
func TestStopEndsWebSockets(t *testing.T) {
	ar, err := start(options{Addr: "127.0.0.1:0", Data: generated(t)})
	require.NoError(t, err)
	assert.Nil(t, ar.TLSAddr)
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	ws, _, err := d.Dial("ws://"+ar.Addr.String()+"/ws", nil)
	require.NoError(t, err)
	defer ws.Close()
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("hi")))
	require.NoError(t, ws.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, _, err = ws.ReadMessage()
	require.NoError(t, err)

	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stopped <- ar.Stop(ctx)
	}()
	_, _, err = ws.ReadMessage() // gorilla answers the close frame
	assert.True(t, websocket.IsCloseError(err, websocket.CloseGoingAway), "%v", err)
	select {
	case err := <-stopped:
		assert.NoError(t, err)
	case <-time.After(6 * time.Second):
		t.Fatal("Stop did not return")
	}
}

// generatedFile is a file of the static set as it is stored.
func generatedFile(t *testing.T, data *Data, name string) []byte {
	t.Helper()
	b, err := fs.ReadFile(data.Static, name)
	require.NoError(t, err)
	return b
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
