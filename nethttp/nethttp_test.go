package nethttp_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/nethttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func start(t testing.TB, h kahttp.Handler, cfg kahttp.Config) string {
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := kahttp.NewServer(h, cfg)
	require.NoError(t, srv.Start("127.0.0.1:0"))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return "http://" + srv.Addr().String()
}

func do(t *testing.T, method, url string, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// seen is what the http.Handler saw of its request.
type seen struct {
	Method, Path, RawPath, RawQuery, EscapedPath, Proto string
	ProtoMinor                                          int
	Header                                              http.Header
	Host, RemoteAddr, RequestURI                        string
	ContentLength                                       int64
	Body, ID, Q                                         string
	Close                                               bool
}

func TestAdapterRequestAndResponse(t *testing.T) {
	inspect := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		s := seen{
			Method: r.Method, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery,
			EscapedPath: r.URL.EscapedPath(), Proto: r.Proto, ProtoMinor: r.ProtoMinor, Header: r.Header,
			Host: r.Host, RemoteAddr: r.RemoteAddr, RequestURI: r.RequestURI, ContentLength: r.ContentLength,
			Body: string(b), ID: r.PathValue("id"), Q: r.URL.Query().Get("q"), Close: r.Close,
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Add("X-Multi", "1")
		w.Header().Add("X-Multi", "2")
		w.WriteHeader(http.StatusCreated)
		w.Header().Set("X-Late", "ignored") // after WriteHeader, as net/http
		_ = json.NewEncoder(w).Encode(s)
	})
	rt := kahttp.NewRouter()
	rt.Handle("POST", "/things/:id", nethttp.Wrap(inspect))
	rt.Handle("PURGE", "/things/:id", nethttp.Wrap(inspect))
	rt.GET("/sniff", nethttp.WrapFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "<!DOCTYPE html><html><body>hi</body></html>")
	}))
	rt.GET("/empty", nethttp.WrapFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Only", "header")
	}))
	rt.GET("/nobody", nethttp.WrapFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
		_, err := w.Write([]byte("x"))
		w.Header().Set("X-Err", "unused")
		assert.ErrorIs(t, err, http.ErrBodyNotAllowed)
	}))
	rt.GET("/ctx", nethttp.WrapFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		default:
			_, _ = io.WriteString(w, "live")
		}
	}))
	base := start(t, rt, kahttp.Config{})

	resp, body := do(t, "POST", base+"/things/a%20b?q=go+lang&x=1", "hello body",
		"X-Custom", "v1", "x-custom", "v2", "content-type", "text/plain")
	require.Equal(t, 201, resp.StatusCode, body)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, []string{"1", "2"}, resp.Header.Values("X-Multi"))
	assert.Empty(t, resp.Header.Get("X-Late"))
	var s seen
	require.NoError(t, json.Unmarshal([]byte(body), &s))
	assert.Equal(t, "POST", s.Method)
	assert.Equal(t, "/things/a b", s.Path)
	assert.Equal(t, "/things/a%20b", s.EscapedPath)
	assert.Equal(t, "q=go+lang&x=1", s.RawQuery)
	assert.Equal(t, "go lang", s.Q)
	assert.Equal(t, "HTTP/1.1", s.Proto)
	assert.Equal(t, 1, s.ProtoMinor)
	assert.Equal(t, []string{"v1", "v2"}, s.Header["X-Custom"], "canonical keys, values in order")
	assert.Equal(t, []string{"text/plain"}, s.Header["Content-Type"])
	assert.Equal(t, []string{"10"}, s.Header["Content-Length"])
	assert.NotContains(t, s.Header, "Host", "Host moves to Request.Host, as in net/http")
	assert.Equal(t, strings.TrimPrefix(base, "http://"), s.Host)
	assert.Contains(t, s.RemoteAddr, "127.0.0.1:")
	assert.Equal(t, "/things/a%20b?q=go+lang&x=1", s.RequestURI)
	assert.Equal(t, int64(10), s.ContentLength)
	assert.Equal(t, "hello body", s.Body)
	assert.Equal(t, "a b", s.ID, "router parameters are PathValues")
	assert.False(t, s.Close)

	_, body = do(t, "PURGE", base+"/things/7", "", "Connection", "close")
	require.NoError(t, json.Unmarshal([]byte(body), &s))
	assert.Equal(t, "PURGE", s.Method)
	assert.True(t, s.Close)

	resp, body = do(t, "GET", base+"/sniff", "")
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"), "Content-Type sniffed as net/http does")
	assert.Contains(t, body, "<html>")

	resp, body = do(t, "GET", base+"/empty", "")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "header", resp.Header.Get("X-Only"), "header copied when the handler writes nothing")
	assert.Empty(t, body)

	resp, _ = do(t, "GET", base+"/nobody", "")
	assert.Equal(t, 204, resp.StatusCode)

	_, body = do(t, "GET", base+"/ctx", "")
	assert.Equal(t, "live", body)
}

func TestAdapterFlush(t *testing.T) {
	proceed := make(chan struct{})
	rt := kahttp.NewRouter()
	rt.GET("/stream", nethttp.WrapFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-proceed:
		case <-time.After(5 * time.Second):
		}
		_, _ = io.WriteString(w, "second\n")
		require.NoError(t, http.NewResponseController(w).Flush())
	}))
	base := start(t, rt, kahttp.Config{})

	resp, err := http.Get(base + "/stream")
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, []string{"chunked"}, resp.TransferEncoding)
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "first\n", line, "flushed before the handler finished")
	close(proceed)
	rest, err := io.ReadAll(br)
	require.NoError(t, err)
	assert.Equal(t, "second\n", string(rest))
}

// TestAdapterFileServer mounts http.FileServer under /files/*path: full
// bodies, ranges, conditional requests, HEAD, large files, listings.
func TestAdapterFileServer(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("0123456789"), 0o644))
	big := strings.Repeat("kahttp big file\n", 20000) // 320 KB: streamed past the response buffer
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big.txt"), []byte(big), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sub", "a b.txt"), []byte("spaced"), 0o644))
	fi, err := os.Stat(filepath.Join(dir, "hello.txt"))
	require.NoError(t, err)
	modtime := fi.ModTime().UTC().Format(http.TimeFormat)

	rt := kahttp.NewRouter()
	rt.GET("/files/*path", nethttp.Wrap(http.StripPrefix("/files", http.FileServer(http.Dir(dir)))),
		kahttp.WithMode(kahttp.Pooled))
	base := start(t, rt, kahttp.Config{Mode: kahttp.Inline}) // the route runs Pooled anyway

	resp, body := do(t, "GET", base+"/files/hello.txt", "")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "0123456789", body)
	assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "bytes", resp.Header.Get("Accept-Ranges"))
	assert.Equal(t, modtime, resp.Header.Get("Last-Modified"))
	assert.Equal(t, int64(10), resp.ContentLength)

	resp, body = do(t, "GET", base+"/files/hello.txt", "", "Range", "bytes=2-5")
	assert.Equal(t, 206, resp.StatusCode)
	assert.Equal(t, "2345", body)
	assert.Equal(t, "bytes 2-5/10", resp.Header.Get("Content-Range"))
	assert.Equal(t, int64(4), resp.ContentLength)

	resp, body = do(t, "GET", base+"/files/hello.txt", "", "Range", "bytes=-3")
	assert.Equal(t, 206, resp.StatusCode)
	assert.Equal(t, "789", body)

	resp, body = do(t, "GET", base+"/files/hello.txt", "", "Range", "bytes=0-1,4-5")
	assert.Equal(t, 206, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("Content-Type"), "multipart/byteranges")
	assert.Contains(t, body, "01")
	assert.Contains(t, body, "45")

	resp, _ = do(t, "GET", base+"/files/hello.txt", "", "Range", "bytes=20-30")
	assert.Equal(t, 416, resp.StatusCode)

	resp, body = do(t, "GET", base+"/files/hello.txt", "", "If-Modified-Since", modtime)
	assert.Equal(t, 304, resp.StatusCode)
	assert.Empty(t, body)

	old := fi.ModTime().Add(-time.Hour).UTC().Format(http.TimeFormat)
	resp, body = do(t, "GET", base+"/files/hello.txt", "", "If-Modified-Since", old)
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "0123456789", body)

	resp, _ = do(t, "GET", base+"/files/hello.txt", "", "If-Unmodified-Since", old)
	assert.Equal(t, 412, resp.StatusCode)

	resp, body = do(t, "HEAD", base+"/files/hello.txt", "")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, int64(10), resp.ContentLength)
	assert.Empty(t, body)

	resp, body = do(t, "GET", base+"/files/big.txt", "")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, int64(len(big)), resp.ContentLength)
	assert.Equal(t, big, body)

	resp, body = do(t, "GET", base+"/files/big.txt", "", "Range", "bytes=160000-160015")
	assert.Equal(t, 206, resp.StatusCode)
	assert.Equal(t, big[160000:160016], body)

	resp, body = do(t, "GET", base+"/files/sub/a%20b.txt", "")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "spaced", body)

	resp, body = do(t, "GET", base+"/files/", "")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Contains(t, body, `<a href="hello.txt">hello.txt</a>`)

	resp, _ = do(t, "GET", base+"/files/missing.txt", "")
	assert.Equal(t, 404, resp.StatusCode)

	// FileServer's own redirect of ".../index.html" and of directories.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r2, err := client.Get(base + "/files/sub")
	require.NoError(t, err)
	r2.Body.Close()
	assert.Equal(t, 301, r2.StatusCode)
	assert.Equal(t, "sub/", r2.Header.Get("Location"))
}

func ExampleWrap() {
	rt := kahttp.NewRouter()
	rt.GET("/hello/:name", nethttp.WrapFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello, %s", r.PathValue("name"))
	}))
	srv := kahttp.NewServer(rt, kahttp.Config{})
	if err := srv.Start("127.0.0.1:0"); err != nil {
		panic(err)
	}
	defer srv.Shutdown(context.Background())

	resp, err := http.Get("http://" + srv.Addr().String() + "/hello/gopher")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"), string(b))
	// Output: 200 text/plain; charset=utf-8 hello, gopher
}
