package middleware_test

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/kahttptest"
	"github.com/kahttp/kahttp/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func randomHex(n int) string {
	r := rand.New(rand.NewPCG(1, 2)) // test data, the same every run
	b := make([]byte, n/2)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return hex.EncodeToString(b)
}

func gunzip(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	out, err := io.ReadAll(zr)
	require.NoError(t, err)
	return string(out)
}

func TestCompress(t *testing.T) {
	text := strings.Repeat("kahttp compresses text well. ", 100) // 2.9 KiB, compresses far under 4 KiB
	big := randomHex(200_000)                                    // compresses to about half: past the buffer
	tests := []struct {
		name      string
		method    string
		ae        string
		ctype     string
		status    int
		body      string
		gzipped   bool
		framing   kahttptest.Framing
		extraHead map[string]string
	}{
		{name: "text that fits: gzip with Content-Length", ae: "gzip, deflate, br", ctype: "text/plain", body: text, gzipped: true, framing: kahttptest.FramingLength},
		{name: "a large body: gzip, chunked", ae: "gzip", ctype: "text/plain", body: big, gzipped: true, framing: kahttptest.FramingChunked},
		{name: "no Accept-Encoding", ctype: "text/plain", body: text, framing: kahttptest.FramingLength},
		{name: "gzip refused with q=0", ae: "gzip;q=0, br", ctype: "text/plain", body: text, framing: kahttptest.FramingLength},
		{name: "any coding", ae: "*", ctype: "application/json", body: text, gzipped: true, framing: kahttptest.FramingLength},
		{name: "small body", ae: "gzip", ctype: "text/plain", body: "tiny", framing: kahttptest.FramingLength},
		{name: "already compressed type", ae: "gzip", ctype: "image/png", body: text, framing: kahttptest.FramingLength},
		{name: "SVG is text", ae: "gzip", ctype: "image/svg+xml", body: text, gzipped: true, framing: kahttptest.FramingLength},
		{name: "already encoded", ae: "gzip", ctype: "text/plain", body: text, framing: kahttptest.FramingLength,
			extraHead: map[string]string{"Content-Encoding": "br"}},
		{name: "a range", ae: "gzip", ctype: "text/plain", status: 206, body: text, framing: kahttptest.FramingLength,
			extraHead: map[string]string{"Content-Range": "bytes 0-2899/9000"}},
		{name: "HEAD", method: "HEAD", ae: "gzip", ctype: "text/plain", body: text},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := middleware.Compress()(kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
				w.Header().Set("Content-Type", tt.ctype)
				for k, v := range tt.extraHead {
					w.Header().Set(k, v)
				}
				if tt.status != 0 {
					w.WriteHeader(tt.status)
				}
				for i := 0; i < len(tt.body); i += 1000 {
					_, _ = w.WriteString(tt.body[i:min(i+1000, len(tt.body))])
				}
			}))
			method := tt.method
			if method == "" {
				method = "GET"
			}
			req, _ := http.NewRequest(method, "http://x/", nil)
			if tt.ae != "" {
				req.Header.Set("Accept-Encoding", tt.ae)
			}
			resp, err := kahttptest.Do(h, req)
			require.NoError(t, err)
			if method == "HEAD" {
				assert.Empty(t, resp.Header.Get("Content-Encoding"))
				return
			}
			assert.Equal(t, tt.framing, resp.Framing)
			assert.True(t, resp.KeepAlive, "keep-alive kept")
			if tt.gzipped {
				assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
				assert.Equal(t, "Accept-Encoding", resp.Header.Get("Vary"))
				assert.Equal(t, tt.body, gunzip(t, resp.Body))
				if tt.framing == kahttptest.FramingLength {
					assert.Less(t, len(resp.Body), len(tt.body)/4, "compressed")
				}
				return
			}
			assert.NotEqual(t, "gzip", resp.Header.Get("Content-Encoding"))
			assert.Equal(t, tt.body, string(resp.Body))
		})
	}
}

// Real clients: Go's transport (asks for gzip and decompresses by itself)
// and curl --compressed, over a socket.
func TestCompressRealClients(t *testing.T) {
	body := strings.Repeat("hello, compressed world\n", 500)
	srv := kahttp.NewServer(middleware.Compress()(kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.WriteString(body)
	})), kahttp.Config{})
	require.NoError(t, srv.Start("127.0.0.1:0"))
	defer func() { _ = srv.Shutdown(t.Context()) }()
	url := "http://" + srv.Addr().String() + "/"

	resp, err := http.Get(url)
	require.NoError(t, err)
	got, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.True(t, resp.Uncompressed, "Go's client received gzip and decompressed it")
	assert.Equal(t, body, string(got))

	curl, err := exec.LookPath("curl")
	if err != nil {
		return
	}
	out, err := exec.Command(curl, "-sS", "--compressed", "-D", "-", url).Output()
	require.NoError(t, err)
	assert.Contains(t, strings.ToLower(string(out)), "content-encoding: gzip")
	assert.True(t, strings.HasSuffix(string(out), body), "curl decompressed the body")
}

func ExampleCompress() {
	rt := kahttp.NewRouter()
	static := rt.Group("/static", middleware.Compress())
	static.GET("/app.js", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = w.WriteString("console.log('hello')\n")
	}))
	_ = kahttp.NewServer(rt, kahttp.Config{})
}
