package kahttp_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/kahttptest"
	"github.com/kahttp/kahttp/nethttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// staticFS is a site as an embed.FS would hold it: no modification times.
var staticFS = fstest.MapFS{
	"index.html":     {Data: []byte("<h1>home</h1>")},
	"app.js":         {Data: []byte(strings.Repeat("console.log('kahttp');\n", 100))},
	"app.js.br":      {Data: []byte("BROTLI-BYTES")},
	"app.js.gz":      {Data: []byte("GZIP-BYTES")},
	"docs/guide.txt": {Data: []byte("0123456789")},
	"docs/blob":      {Data: []byte("%PDF-1.4 not really")},
	"empty/.keep":    {Data: nil},
}

func staticRouter(fsys kahttp.Handler) *kahttp.Router {
	rt := kahttp.NewRouter()
	rt.GET("/static/*file", fsys)
	return rt
}

func get(t *testing.T, h kahttp.Handler, method, target string, fields ...string) *kahttptest.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(fields); i += 2 {
		req.Header.Set(fields[i], fields[i+1])
	}
	resp, err := kahttptest.Do(h, req)
	require.NoError(t, err)
	return resp
}

// bothFileServers runs test against FileServer without and with the
// cache (twice: loading, then from memory): the answers must be the same.
func bothFileServers(t *testing.T, fsys fs.FS, test func(t *testing.T, h kahttp.Handler)) {
	t.Run("uncached", func(t *testing.T) { test(t, staticRouter(kahttp.FileServer(fsys))) })
	t.Run("cached", func(t *testing.T) {
		h := staticRouter(kahttp.FileServer(fsys, kahttp.WithFileCache(1<<20, time.Hour)))
		test(t, h)
		test(t, h)
	})
}

func TestFileServer(t *testing.T) { bothFileServers(t, staticFS, testFileServer) }

func testFileServer(t *testing.T, h kahttp.Handler) {

	r := get(t, h, "GET", "/static/docs/guide.txt")
	assert.Equal(t, 200, r.Status)
	assert.Equal(t, "0123456789", r.Text())
	assert.Equal(t, "text/plain; charset=utf-8", r.Header.Get("Content-Type"))
	assert.Equal(t, "10", r.Header.Get("Content-Length"))
	assert.Equal(t, "bytes", r.Header.Get("Accept-Ranges"))
	etag := r.Header.Get("ETag")
	assert.Regexp(t, `^"[0-9a-f]{24}"$`, etag, "from the content: embed.FS has no times")
	assert.Empty(t, r.Header.Get("Last-Modified"))
	assert.Equal(t, etag, get(t, h, "GET", "/static/docs/guide.txt").Header.Get("ETag"), "stable")

	head := get(t, h, "HEAD", "/static/docs/guide.txt")
	assert.Equal(t, 200, head.Status)
	assert.Equal(t, "10", head.Header.Get("Content-Length"))
	assert.Empty(t, head.Body)

	assert.Equal(t, "application/pdf", get(t, h, "GET", "/static/docs/blob").Header.Get("Content-Type"), "sniffed")

	r = get(t, h, "GET", "/static/docs/guide.txt", "If-None-Match", `"x", `+etag)
	assert.Equal(t, 304, r.Status)
	assert.Empty(t, r.Body)
	assert.Equal(t, etag, r.Header.Get("ETag"))

	for _, tc := range []struct {
		rng, want, contentRange string
		status                  int
	}{
		{"bytes=2-5", "2345", "bytes 2-5/10", 206},
		{"bytes=7-", "789", "bytes 7-9/10", 206},
		{"bytes=-3", "789", "bytes 7-9/10", 206},
		{"bytes=5-100", "56789", "bytes 5-9/10", 206},
		{"bytes=0-1,4-5", "0123456789", "", 200}, // several: the whole file
		{"bytes=10-", "", "bytes */10", 416},
	} {
		r = get(t, h, "GET", "/static/docs/guide.txt", "Range", tc.rng)
		assert.Equal(t, tc.status, r.Status, tc.rng)
		assert.Equal(t, tc.contentRange, r.Header.Get("Content-Range"), tc.rng)
		if tc.status != 416 {
			assert.Equal(t, tc.want, r.Text(), tc.rng)
		}
	}
	r = get(t, h, "GET", "/static/docs/guide.txt", "Range", "bytes=2-5", "If-Range", `"an old one"`)
	assert.Equal(t, 200, r.Status, "If-Range that does not match: the whole file")
	r = get(t, h, "GET", "/static/docs/guide.txt", "Range", "bytes=2-5", "If-Range", etag)
	assert.Equal(t, 206, r.Status)

	assert.Equal(t, "<h1>home</h1>", get(t, h, "GET", "/static/").Text(), "a directory's index.html")
	for _, bad := range []string{"/static/empty/", "/static/nope.txt", "/static/docs/..%2fapp.js",
		"/static/docs%2fguide.txt", "/static/docs%5cguide.txt"} {
		assert.Equal(t, 404, get(t, h, "GET", bad).Status, bad)
	}
}

// A precompressed sibling goes out to a client that takes it, with its
// own ETag; every answer for the file varies by Accept-Encoding.
func TestFileServerPrecompressed(t *testing.T) {
	bothFileServers(t, staticFS, testFileServerPrecompressed)
}

func testFileServerPrecompressed(t *testing.T, h kahttp.Handler) {
	plain := get(t, h, "GET", "/static/app.js")
	assert.Empty(t, plain.Header.Get("Content-Encoding"))
	assert.Equal(t, "Accept-Encoding", plain.Header.Get("Vary"))
	assert.Contains(t, plain.Header.Get("Content-Type"), "javascript")

	br := get(t, h, "GET", "/static/app.js", "Accept-Encoding", "gzip, br")
	assert.Equal(t, "br", br.Header.Get("Content-Encoding"))
	assert.Equal(t, "BROTLI-BYTES", string(br.Body))
	assert.Contains(t, br.Header.Get("Content-Type"), "javascript", "the original's type")
	assert.NotEqual(t, plain.Header.Get("ETag"), br.Header.Get("ETag"))

	// The client's q-values decide, as for middleware.Compress; a coding
	// named with q=0 is refused even when "*" takes the rest.
	for ae, want := range map[string]string{"br;q=0.1, gzip": "gzip", "br;q=0, *": "gzip", "*": "br", "gzip;q=0, br;q=0": ""} {
		assert.Equal(t, want, get(t, h, "GET", "/static/app.js", "Accept-Encoding", ae).Header.Get("Content-Encoding"), ae)
	}

	gz := get(t, h, "GET", "/static/app.js", "Accept-Encoding", "gzip, br;q=0")
	assert.Equal(t, "gzip", gz.Header.Get("Content-Encoding"))
	assert.Equal(t, "GZIP-BYTES", string(gz.Body))
	assert.Equal(t, 304, get(t, h, "GET", "/static/app.js", "Accept-Encoding", "br", "If-None-Match", br.Header.Get("ETag")).Status)
}

// From a directory: Last-Modified and If-Modified-Since; os.OpenRoot's FS
// refuses a symlink that leaves the directory.
func TestFileServerDirectory(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("hello"), 0o644))
	mod := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	require.NoError(t, os.Chtimes(filepath.Join(dir, "a.txt"), mod, mod))
	outside := filepath.Join(t.TempDir(), "secret.txt")
	require.NoError(t, os.WriteFile(outside, []byte("secret"), 0o644))
	require.NoError(t, os.Symlink(outside, filepath.Join(dir, "escape.txt")))
	root, err := os.OpenRoot(dir)
	require.NoError(t, err)
	defer root.Close()
	bothFileServers(t, root.FS(), func(t *testing.T, h kahttp.Handler) {
		r := get(t, h, "GET", "/static/a.txt")
		assert.Equal(t, "hello", r.Text())
		assert.Equal(t, mod.Format(http.TimeFormat), r.Header.Get("Last-Modified"))
		assert.Equal(t, 304, get(t, h, "GET", "/static/a.txt", "If-Modified-Since", mod.Format(http.TimeFormat)).Status)
		assert.Equal(t, 200, get(t, h, "GET", "/static/a.txt", "If-Modified-Since", mod.Add(-time.Hour).Format(http.TimeFormat)).Status)
		assert.Equal(t, 404, get(t, h, "GET", "/static/escape.txt").Status, "a symlink out of the root")
	})
}

// The cache: a file changed on disk is served as it was until recheck has
// passed, then anew (here: an hour, and a nanosecond); a file larger than the room left is served from disk;
// precompressed siblings are kept with their file.
func TestFileServerCache(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mod time.Time) {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		require.NoError(t, os.Chtimes(p, mod, mod))
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	write("a.txt", "version 1", t0)
	write("big.bin", strings.Repeat("b", 600), t0)
	write("site.css", strings.Repeat("body{}", 50), t0)
	write("site.css.gz", "GZ", t0)
	h := staticRouter(kahttp.FileServer(os.DirFS(dir), kahttp.WithFileCache(512, time.Hour)))
	always := staticRouter(kahttp.FileServer(os.DirFS(dir), kahttp.WithFileCache(512, time.Nanosecond)))

	assert.Equal(t, "version 1", get(t, h, "GET", "/static/a.txt").Text())
	assert.Equal(t, "version 1", get(t, always, "GET", "/static/a.txt").Text())
	write("a.txt", "version 2!", t0.Add(time.Hour))
	r := get(t, h, "GET", "/static/a.txt")
	assert.Equal(t, "version 1", r.Text(), "within recheck: as cached")
	assert.Equal(t, t0.Format(http.TimeFormat), r.Header.Get("Last-Modified"))
	r = get(t, always, "GET", "/static/a.txt")
	assert.Equal(t, "version 2!", r.Text(), "after recheck: read again")
	assert.Equal(t, t0.Add(time.Hour).Format(http.TimeFormat), r.Header.Get("Last-Modified"))

	big := get(t, h, "GET", "/static/big.bin")
	assert.Equal(t, 600, len(big.Body), "past the cache's size: served from disk")
	write("big.bin", strings.Repeat("c", 600), t0)
	assert.Equal(t, strings.Repeat("c", 600), get(t, h, "GET", "/static/big.bin").Text(), "never cached")

	gz := get(t, h, "GET", "/static/site.css", "Accept-Encoding", "gzip")
	assert.Equal(t, "GZ", gz.Text())
	assert.Equal(t, "gzip", gz.Header.Get("Content-Encoding"))
	plain := get(t, h, "GET", "/static/site.css")
	assert.Equal(t, 300, len(plain.Body))
	assert.Equal(t, "Accept-Encoding", plain.Header.Get("Vary"))
	assert.Equal(t, 404, get(t, h, "GET", "/static/none.txt").Status)
}

// Many goroutines on one cached server, across recheck periods: the race
// detector's business, and every answer whole.
func TestFileServerCacheConcurrent(t *testing.T) {
	files := fstest.MapFS{}
	for i := range 8 {
		files[fmt.Sprintf("f%d.txt", i)] = &fstest.MapFile{Data: []byte(strings.Repeat(strconv.Itoa(i), 100*(i+1))), ModTime: time.Unix(1, 0)}
	}
	h := staticRouter(kahttp.FileServer(files, kahttp.WithFileCache(2000, time.Millisecond)))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				n := (g + i) % 8
				r, err := kahttptest.Do(h, httptest.NewRequest("GET", fmt.Sprintf("/static/f%d.txt", n), nil))
				if !assert.NoError(t, err) || !assert.Equal(t, strings.Repeat(strconv.Itoa(n), 100*(n+1)), r.Text()) {
					return
				}
			}
		}()
	}
	wg.Wait()
}

// Allocations and time per request: the native file server against
// net/http's through the adapter, the same file from the same fs.FS.
func BenchmarkFileServer(b *testing.B) {
	req := []byte("GET /static/app.js HTTP/1.1\r\nHost: x\r\n\r\n")
	for _, tc := range []struct {
		name string
		h    kahttp.Handler
	}{
		{"kahttp", kahttp.FileServer(staticFS)},
		{"kahttp-cached", kahttp.FileServer(staticFS, kahttp.WithFileCache(1<<20, time.Second))},
		{"nethttp-adapter", nethttp.Wrap(http.StripPrefix("/static", http.FileServer(http.FS(staticFS))))},
	} {
		b.Run(tc.name, func(b *testing.B) {
			mc := kahttp.NewServer(staticRouter(tc.h), kahttp.Config{Mode: kahttp.Inline}).ServeInMemory(nil)
			defer mc.Close()
			b.ReportAllocs()
			for b.Loop() {
				_, _ = mc.Write(req)
				if out := mc.TakeOutput(); len(out) == 0 {
					b.Fatal("no answer")
				}
			}
		})
	}
}

// What the file server remembers by name outlives the request: its keys
// are copies, not views into the connection's buffer, which the next
// request overwrites (the keys then read as that request's bytes, and the
// entries are never found again: a hash recomputed and stored anew on
// every request).
func TestFileServerKeysOutliveTheRequest(t *testing.T) {
	for _, fsrv := range []kahttp.Handler{
		kahttp.FileServer(staticFS),
		kahttp.FileServer(staticFS, kahttp.WithFileCache(1<<20, time.Hour)),
	} {
		mc := kahttp.NewServer(staticRouter(fsrv), kahttp.Config{Mode: kahttp.Inline}).ServeInMemory(nil)
		for _, p := range []string{"/static/app.js", "/static/docs/guide.txt", "/static/XXXXXX", "/static/YYYYYYYYYYYYYYYY"} {
			_, err := mc.Write([]byte("GET " + p + " HTTP/1.1\r\nHost: x\r\n\r\n"))
			require.NoError(t, err)
			require.NotEmpty(t, mc.TakeOutput())
		}
		mc.Close()
		for _, k := range kahttp.FileServerKeys(fsrv) {
			assert.Contains(t, []string{"app.js", "docs/guide.txt"}, k)
		}
	}
}

// A site's files kept in memory: 8 MiB at most, each file read again
// from disk at most once a second.
func ExampleWithFileCache() {
	dir, _ := os.MkdirTemp("", "site")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello from memory"), 0o644)
	root, _ := os.OpenRoot(dir)
	defer root.Close()

	rt := kahttp.NewRouter()
	rt.GET("/static/*file", kahttp.FileServer(root.FS(), kahttp.WithFileCache(8<<20, time.Second)))

	for range 2 { // read from disk, then from memory
		resp, _ := kahttptest.Do(rt, httptest.NewRequest("GET", "/static/hello.txt", nil))
		fmt.Println(resp.Status, resp.Text())
	}
	// Output:
	// 200 hello from memory
	// 200 hello from memory
}

// countingFS counts the files opened through it.
type countingFS struct {
	fs.FS
	opens atomic.Int32
}

func (c *countingFS) Open(name string) (fs.File, error) {
	c.opens.Add(1)
	return c.FS.Open(name)
}

// A file too large for the cache is remembered as such: its requests go
// to the file system once each, not read first for the cache as well; a
// cached one is opened once, however often it is asked for.
func TestFileServerCacheOpens(t *testing.T) {
	fsys := &countingFS{FS: fstest.MapFS{
		"big.bin":   {Data: bytes.Repeat([]byte("b"), 2000), ModTime: time.Unix(1, 0)},
		"small.txt": {Data: []byte("small"), ModTime: time.Unix(1, 0)},
	}}
	h := staticRouter(kahttp.FileServer(fsys, kahttp.WithFileCache(1000, time.Hour)))
	for range 3 {
		assert.Len(t, get(t, h, "GET", "/static/big.bin").Body, 2000)
	}
	// The big file: one open to learn it does not fit, then three per
	// request from the file system (the file, and a look for each sibling
	// it might have); without the memo, four per request.
	bigOpens := fsys.opens.Swap(0)
	for range 3 {
		assert.Equal(t, "small", get(t, h, "GET", "/static/small.txt").Text())
	}
	assert.EqualValues(t, 3, fsys.opens.Load(), "the small file: read once with its two possible siblings, then from memory")
	assert.EqualValues(t, 1+3*3, bigOpens, "the big file is not read for the cache on every request")
}

// The cache forms the same validators as the file system path, so a
// client's If-None-Match holds whichever answered it.
func TestFileServerCacheSameETags(t *testing.T) {
	plain := staticRouter(kahttp.FileServer(staticFS))
	cached := staticRouter(kahttp.FileServer(staticFS, kahttp.WithFileCache(1<<20, time.Hour)))
	for _, ae := range []string{"", "br", "gzip"} {
		a := get(t, plain, "GET", "/static/app.js", "Accept-Encoding", ae)
		b := get(t, cached, "GET", "/static/app.js", "Accept-Encoding", ae)
		assert.Equal(t, a.Header.Get("ETag"), b.Header.Get("ETag"), "Accept-Encoding %q", ae)
		assert.Equal(t, a.Header.Get("Content-Type"), b.Header.Get("Content-Type"))
	}
}
