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

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"

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

// decode undoes a content coding.
func decode(t *testing.T, coding string, b []byte) string {
	t.Helper()
	var r io.Reader
	switch coding {
	case "gzip":
		return gunzip(t, b)
	case "br":
		r = brotli.NewReader(bytes.NewReader(b))
	case "zstd":
		zr, err := zstd.NewReader(bytes.NewReader(b))
		require.NoError(t, err)
		defer zr.Close()
		r = zr
	default:
		return string(b)
	}
	out, err := io.ReadAll(r)
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
		coding    string // the Content-Encoding expected, "" for none
		vary      bool   // Vary: Accept-Encoding expected
		framing   kahttptest.Framing
		extraHead map[string]string
	}{
		{name: "a browser's list: br first among equals", ae: "gzip, deflate, br, zstd", ctype: "text/plain", body: text, coding: "br", vary: true, framing: kahttptest.FramingLength},
		{name: "q-values decide", ae: "br;q=0.5, zstd;q=0.8, gzip;q=0.2", ctype: "text/plain", body: text, coding: "zstd", vary: true, framing: kahttptest.FramingLength},
		{name: "a large body: gzip, chunked", ae: "gzip", ctype: "text/plain", body: big, coding: "gzip", vary: true, framing: kahttptest.FramingChunked},
		{name: "no Accept-Encoding: not compressed, but it varies", ctype: "text/plain", body: text, vary: true, framing: kahttptest.FramingLength},
		{name: "gzip refused with q=0", ae: "gzip;q=0, br", ctype: "text/plain", body: text, coding: "br", vary: true, framing: kahttptest.FramingLength},
		{name: "only what is refused", ae: "gzip;q=0, identity", ctype: "text/plain", body: text, vary: true, framing: kahttptest.FramingLength},
		{name: "any coding", ae: "*", ctype: "application/json", body: text, coding: "br", vary: true, framing: kahttptest.FramingLength},
		{name: "any but brotli", ae: "*, br;q=0", ctype: "application/json", body: text, coding: "zstd", vary: true, framing: kahttptest.FramingLength},
		{name: "small body", ae: "gzip", ctype: "text/plain", body: "tiny", vary: true, framing: kahttptest.FramingLength},
		{name: "already compressed type", ae: "gzip", ctype: "image/png", body: text, framing: kahttptest.FramingLength},
		{name: "SVG is text", ae: "gzip", ctype: "image/svg+xml", body: text, coding: "gzip", vary: true, framing: kahttptest.FramingLength},
		{name: "already encoded", ae: "gzip", ctype: "text/plain", body: text, framing: kahttptest.FramingLength,
			extraHead: map[string]string{"Content-Encoding": "br"}},
		{name: "a range", ae: "gzip", ctype: "text/plain", status: 206, body: text, framing: kahttptest.FramingLength,
			extraHead: map[string]string{"Content-Range": "bytes 0-2899/9000"}},
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
			req, _ := http.NewRequest("GET", "http://x/", nil)
			if tt.ae != "" {
				req.Header.Set("Accept-Encoding", tt.ae)
			}
			resp, err := kahttptest.Do(h, req)
			require.NoError(t, err)
			assert.Equal(t, tt.framing, resp.Framing)
			assert.True(t, resp.KeepAlive, "keep-alive kept")
			if tt.vary {
				assert.Equal(t, "Accept-Encoding", resp.Header.Get("Vary"))
			} else {
				assert.Empty(t, resp.Header.Get("Vary"))
			}
			if tt.coding != "" {
				assert.Equal(t, tt.coding, resp.Header.Get("Content-Encoding"))
				if tt.framing == kahttptest.FramingLength {
					assert.Less(t, len(resp.Body), len(tt.body)/4, "compressed")
				}
			} else if tt.extraHead["Content-Encoding"] == "" {
				assert.Empty(t, resp.Header.Get("Content-Encoding"))
			}
			assert.Equal(t, tt.body, decode(t, tt.coding, resp.Body))

			// HEAD says what GET would: the same coding, length and Vary.
			req, _ = http.NewRequest("HEAD", "http://x/", nil)
			if tt.ae != "" {
				req.Header.Set("Accept-Encoding", tt.ae)
			}
			head, err := kahttptest.Do(h, req)
			require.NoError(t, err)
			for _, f := range []string{"Content-Encoding", "Content-Length", "Vary", "Transfer-Encoding"} {
				assert.Equal(t, resp.Header.Get(f), head.Header.Get(f), "HEAD's %s", f)
			}
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
	assert.True(t, resp.Uncompressed, "Go's client asked for gzip, received it and decompressed it")
	assert.Equal(t, body, string(got))

	curl, err := exec.LookPath("curl")
	if err != nil {
		return
	}
	out, err := exec.Command(curl, "-sS", "--compressed", "-D", "-", url).Output()
	require.NoError(t, err)
	assert.Regexp(t, `(?i)content-encoding: (br|zstd|gzip)`, string(out), "curl asked for what it decodes")
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
