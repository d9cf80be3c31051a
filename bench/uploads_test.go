package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math"
	"net"
	"net/http/httptest"
	"net/http/httputil"
	"strings"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
)

// Tests of the upload scenario's pure parts, and of its client against the
// servers' upload configurations in this process; the scenario itself runs
// with `go run . -uploads`.

func hashHex(p []byte) string {
	s := sha256.Sum256(p)
	return hex.EncodeToString(s[:])
}

func TestSizeName(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{1 << 20, "1MiB"}, {20 << 20, "20MiB"}, {200 << 20, "200MiB"}, {1 << 30, "1GiB"},
		{3 << 29, "1536MiB"}, {4 << 10, "4KiB"}, {1000, "1000B"}, {0, "0B"},
	} {
		if got := sizeName(c.n); got != c.want {
			t.Errorf("sizeName(%d) = %q, want %q", c.n, got, c.want)
		}
	}
}

func TestUploadsSelected(t *testing.T) {
	for _, c := range []struct {
		list string
		want bool
	}{
		{"", false}, {"upload", true}, {"upload/1MiB-cl", true}, {" upload , upload/1GiB-cl", true},
		{"upload,keepalive", false}, {"uploads", false}, {"keepalive", false},
	} {
		if got := uploadsSelected(c.list); got != c.want {
			t.Errorf("uploadsSelected(%q) = %v, want %v", c.list, got, c.want)
		}
	}
}

func TestSelectUploadCases(t *testing.T) {
	all := len(uploadCases())
	for _, c := range []struct {
		list string
		want []string // nil: all
		err  bool
	}{
		{"", nil, false},
		{"upload", nil, false},
		{"upload/200MiB-chunked,upload/1MiB-cl", []string{"upload/1MiB-cl", "upload/200MiB-chunked"}, false},
		{"upload/1GiB-cl", []string{"upload/1GiB-cl"}, false},
		{"upload/3MiB-cl", nil, true},
	} {
		got, err := selectUploadCases(c.list)
		if (err != nil) != c.err {
			t.Errorf("%q: error %v, want error %v", c.list, err, c.err)
			continue
		}
		if c.err {
			continue
		}
		if c.want == nil {
			if len(got) != all {
				t.Errorf("%q: %d cases, want all %d", c.list, len(got), all)
			}
			continue
		}
		var names []string
		for _, g := range got {
			names = append(names, g.Name())
		}
		if strings.Join(names, ",") != strings.Join(c.want, ",") {
			t.Errorf("%q: %v, want %v", c.list, names, c.want)
		}
	}
}

func TestUploadCases(t *testing.T) {
	seen := map[string]bool{}
	rss, gib := 0, 0
	for _, c := range uploadCases() {
		if seen[c.Name()] {
			t.Errorf("duplicate case %s", c.Name())
		}
		seen[c.Name()] = true
		if c.Rounds < 1 {
			t.Errorf("%s: %d rounds", c.Name(), c.Rounds)
		}
		if c.RSSGoal {
			rss++
			if want := int64(200 << 20); c.TLS && c.Size != 60<<20 || !c.TLS && c.Size != want {
				t.Errorf("%s carries the RSS goal (200 MiB, 60 MiB over HTTPS)", c.Name())
			}
		}
		if c.AtLimit {
			gib++
			if c.Size != uploadLimit {
				t.Errorf("%s: the completion check must upload exactly the limit", c.Name())
			}
		}
	}
	if rss != 4 || gib == 0 {
		t.Errorf("%d cases with the RSS goal (want 4), %d at the limit", rss, gib)
	}
}

// TestUploadGen checks the generator: the plain body has exactly the size,
// the chunked one de-chunks to the same bytes with chunks of at most
// uploadChunk, and answer() is the length and SHA-256 of those bytes.
func TestUploadGen(t *testing.T) {
	g := newUploadGen(64<<10, 4<<10, 7)
	if g2 := newUploadGen(64<<10, 4<<10, 7); !bytes.Equal(g.block, g2.block) {
		t.Fatal("the generator is not deterministic")
	}
	for _, size := range []int64{0, 1, 4 << 10, 5000, 64 << 10, 64<<10 + 1, 3*64<<10 + 12345} {
		var plain, chunked bytes.Buffer
		n, err := g.writeBody(&plain, size, false)
		if err != nil || n != size || int64(plain.Len()) != size {
			t.Fatalf("size %d: plain wrote %d (%d in the buffer), %v", size, n, plain.Len(), err)
		}
		n, err = g.writeBody(&chunked, size, true)
		if err != nil || n != int64(chunked.Len()) {
			t.Fatalf("size %d: chunked wrote %d, buffer %d, %v", size, n, chunked.Len(), err)
		}
		if !bytes.HasSuffix(chunked.Bytes(), []byte("0\r\n\r\n")) {
			t.Errorf("size %d: no last chunk", size)
		}
		dec, err := io.ReadAll(httputil.NewChunkedReader(bytes.NewReader(chunked.Bytes())))
		if err != nil {
			t.Fatalf("size %d: de-chunking: %v", size, err)
		}
		if !bytes.Equal(dec, plain.Bytes()) {
			t.Errorf("size %d: chunked body differs from the plain one", size)
		}
		if want := uploadAnswer(size, sha256Sum(plain.Bytes())); g.answer(size) != want {
			t.Errorf("size %d: answer %q, want %q", size, g.answer(size), want)
		}
		if size > 0 && !strings.HasSuffix(g.answer(size), hashHex(plain.Bytes())) {
			t.Errorf("size %d: answer does not end in the hex SHA-256", size)
		}
	}
	// The chunks are at most 4 KiB: 64 KiB is 16 of them.
	var b bytes.Buffer
	g.writeBody(&b, 64<<10, true)
	if got := bytes.Count(b.Bytes(), []byte("\r\n1000\r\n")) + 1; got != 16 {
		t.Errorf("64 KiB in %d chunks of 4 KiB, want 16", got)
	}
}

func sha256Sum(p []byte) []byte {
	s := sha256.Sum256(p)
	return s[:]
}

// shortWriter accepts at most n bytes per Write and fails after max bytes.
type shortWriter struct {
	n, max, wrote int
}

func (w *shortWriter) Write(p []byte) (int, error) {
	if w.wrote >= w.max {
		return 0, io.ErrClosedPipe
	}
	k := min(len(p), w.n, w.max-w.wrote)
	w.wrote += k
	return k, nil
}

func TestUploadGenWrites(t *testing.T) {
	g := newUploadGen(1<<20, uploadChunk, 1)
	w := &shortWriter{n: 1000, max: 1 << 30}
	n, err := g.writeBody(w, 3<<20, false)
	if err != nil || n != 3<<20 || w.wrote != 3<<20 {
		t.Errorf("short writes: %d, %d, %v", n, w.wrote, err)
	}
	w = &shortWriter{n: 1 << 20, max: 100_000}
	n, err = g.writeBody(w, 3<<20, true)
	if err == nil || n != 100_000 {
		t.Errorf("failing writer: %d, %v; want 100000 and an error", n, err)
	}
}

func TestUploadCheck(t *testing.T) {
	want := "5 " + strings.Repeat("ab", 32)
	for _, c := range []struct {
		name string
		res  uploadResult
		err  string // "" = ok; else a substring of the error
	}{
		{"ok", uploadResult{Status: 200, Body: want}, ""},
		{"ok with newline", uploadResult{Status: 200, Body: want + "\n"}, ""},
		{"status", uploadResult{Status: 413, Body: "too large"}, "status 413"},
		{"count", uploadResult{Status: 200, Body: "4 " + strings.Repeat("ab", 32)}, "4 bytes, want 5"},
		{"hash", uploadResult{Status: 200, Body: "5 " + strings.Repeat("cd", 32)}, "wrong SHA-256"},
		{"garbage", uploadResult{Status: 200, Body: "hello"}, "bytes, want 5"},
		{"io", uploadResult{Err: io.ErrUnexpectedEOF}, "unexpected EOF"},
	} {
		err := c.res.check(want)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.err)
		}
	}
}

func TestUploadHead(t *testing.T) {
	if h := uploadHead(1<<20, false); !strings.Contains(h, "\r\nContent-Length: 1048576\r\n") || strings.Contains(h, "chunked") || !strings.HasSuffix(h, "\r\n\r\n") {
		t.Errorf("Content-Length head %q", h)
	}
	if h := uploadHead(1<<20, true); !strings.Contains(h, "\r\nTransfer-Encoding: chunked\r\n") || strings.Contains(h, "Content-Length") {
		t.Errorf("chunked head %q", h)
	}
}

func TestRoundRatio(t *testing.T) {
	a := []uploadRun{{Round: 1, Seconds: 2}, {Round: 2, Seconds: 3}, {Round: 3, Seconds: 9, Err: "x"}, {Round: 4, Seconds: 1}}
	b := []uploadRun{{Round: 1, Seconds: 1}, {Round: 2, Seconds: 2}, {Round: 3, Seconds: 1}, {Round: 4, Seconds: 1, Err: "y"}}
	// Rounds 1 and 2 count: 2 and 1.5.
	if got := roundRatios(a, b); len(got) != 2 || got[0] != 2 || got[1] != 1.5 {
		t.Errorf("roundRatios = %v, want [2 1.5]", got)
	}
	if got := roundRatios(a, nil); len(got) != 0 {
		t.Errorf("no baseline: %v, want none", got)
	}
}

func TestQuantile(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		q    float64
		want float64
	}{
		{[]float64{3, 1, 2}, 0.5, 2},
		{[]float64{4, 1, 3, 2}, 0.25, 1.75},
		{[]float64{4, 1, 3, 2}, 0.75, 3.25},
		{[]float64{4, 1, 3, 2}, 1, 4},
		{[]float64{4, 1, 3, 2}, 0, 1},
		{[]float64{7}, 0.25, 7},
	} {
		if got := quantile(c.xs, c.q); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("quantile(%v, %v) = %v, want %v", c.xs, c.q, got, c.want)
		}
	}
	if !math.IsNaN(quantile(nil, 0.5)) {
		t.Error("quantile of nothing is not NaN")
	}
}

func TestUploadVerdict(t *testing.T) {
	c1 := uploadCase{Size: 1 << 20, Rounds: 3}
	c200 := uploadCase{Size: 200 << 20, Rounds: 3, RSSGoal: true}
	cGiB := uploadCase{Size: 1 << 30, Rounds: 1, AtLimit: true}
	okRun := uploadRun{Seconds: 1, HWMReset: true}
	for _, c := range []struct {
		name string
		row  uploadRow
		want string
	}{
		{"kahttp faster", uploadRow{Case: c1, Server: "kahttp-pool", Runs: []uploadRun{okRun}, OK: 1, Ratio: 0.9}, "ok: time ≤ net/http"},
		{"kahttp equal", uploadRow{Case: c1, Server: "kahttp-pool", Runs: []uploadRun{okRun}, OK: 1, Ratio: 1}, "ok: time ≤ net/http"},
		{"kahttp slower", uploadRow{Case: c1, Server: "kahttp-pool", Runs: []uploadRun{okRun}, OK: 1, Ratio: 1.12, RatioLo: 1.05, RatioHi: 1.2}, "FAIL: time 12% over net/http"},
		{"kahttp slower, noisy", uploadRow{Case: c1, Server: "kahttp-pool", Runs: []uploadRun{okRun}, OK: 1, Ratio: 1.03, RatioLo: 0.98, RatioHi: 1.1}, "FAIL: time 3% over net/http, within noise (quartiles 0.98–1.10)"},
		{"kahttp 200 ok", uploadRow{Case: c200, Server: "kahttp-pool", Runs: []uploadRun{okRun}, OK: 1, Ratio: 0.95, Growth: 1 << 20}, "ok: time ≤ net/http, RSS ≤ 4 MiB"},
		{"kahttp 200 at the goal", uploadRow{Case: c200, Server: "kahttp-inline", Runs: []uploadRun{okRun}, OK: 1, Ratio: 0.95, Growth: 4 << 20}, "ok: time ≤ net/http, RSS ≤ 4 MiB"},
		{"kahttp 200 RSS", uploadRow{Case: c200, Server: "kahttp-pool", Runs: []uploadRun{okRun}, OK: 1, Ratio: 0.95, Growth: 6 << 20}, "FAIL: RSS +6.0 MiB > 4 MiB (ok: time ≤ net/http)"},
		{"kahttp 200 unknown RSS", uploadRow{Case: c200, Server: "kahttp-pool", Runs: []uploadRun{okRun}, OK: 1, Ratio: 1.5, RatioLo: 1.4, Growth: -1}, "FAIL: time 50% over net/http; RSS growth unknown"},
		{"kahttp no baseline", uploadRow{Case: c1, Server: "kahttp-pool", Runs: []uploadRun{okRun}, OK: 1, Ratio: math.NaN()}, "answers ok (no goal)"},
		{"kahttp 1GiB", uploadRow{Case: cGiB, Server: "kahttp-pool", Runs: []uploadRun{okRun}, OK: 1, Ratio: math.NaN()}, "ok: completed"},
		{"kahttp 1GiB slower", uploadRow{Case: cGiB, Server: "kahttp-pool", Runs: []uploadRun{okRun}, OK: 1, Ratio: 1.3, RatioLo: 1.3, RatioHi: 1.3}, "ok: completed"},
		{"fasthttp 1GiB", uploadRow{Case: cGiB, Server: "fasthttp", Runs: []uploadRun{okRun}, OK: 1, Ratio: 1.3}, "answers ok (no goal)"},
		{"kahttp 1GiB failed", uploadRow{Case: cGiB, Server: "kahttp-pool", Runs: []uploadRun{{Err: "status 413"}}, Bad: 1, FirstErr: "status 413", Ratio: math.NaN()}, "FAIL: 1 of 1 uploads failed or answered wrongly (status 413)"},
		{"baseline", uploadRow{Case: c200, Server: "nethttp", Runs: []uploadRun{okRun}, OK: 1, Ratio: 1, Growth: 50 << 20}, "baseline"},
		{"fasthttp", uploadRow{Case: c200, Server: "fasthttp", Runs: []uploadRun{okRun}, OK: 1, Ratio: 2, Growth: 50 << 20}, "answers ok (no goal)"},
		{"fasthttp wrong", uploadRow{Case: c1, Server: "fasthttp", Runs: []uploadRun{okRun, {Err: "bad"}}, OK: 1, Bad: 1, FirstErr: "bad", Ratio: 1}, "FAIL: 1 of 2 uploads failed or answered wrongly (bad)"},
		{"nothing ran", uploadRow{Case: c1, Server: "kahttp-pool"}, "FAIL: no upload ran"},
	} {
		if got := uploadVerdict(&c.row); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestSummarizeUploads(t *testing.T) {
	c := uploadCase{Size: 2 << 20, Rounds: 3, RSSGoal: true}
	mb := int64(1 << 20)
	k := &uploadRow{Case: c, Server: "kahttp-pool", Runs: []uploadRun{
		{Round: 1, Seconds: 0.004, CPU: 0.002, RSSBefore: 10 * mb, HWM: 11 * mb, HWMReset: true},
		{Round: 2, Seconds: 0.002, CPU: 0.002, RSSBefore: 10 * mb, HWM: 13 * mb, HWMReset: true},
		{Round: 3, Seconds: 0.002, CPU: 0.004, RSSBefore: 10 * mb, HWM: 20 * mb, HWMReset: true, Err: "wrong"},
	}}
	n := &uploadRow{Case: c, Server: "nethttp", Runs: []uploadRun{
		{Round: 1, Seconds: 0.004, CPU: 0.004, RSSBefore: 9 * mb, HWM: 30 * mb, Other: 0.001},
		{Round: 2, Seconds: 0.004, CPU: 0.004, RSSBefore: 9 * mb, HWM: 30 * mb, Other: 0.002},
		{Round: 3, Seconds: 0.004, CPU: 0.004, RSSBefore: 9 * mb, HWM: 30 * mb},
	}}
	summarizeUploads([]*uploadRow{k, n})
	// kahttp: rounds 1 and 2 count: 2 and 1 ms/MiB; ratios 1 and 0.5.
	if k.OK != 2 || k.Bad != 1 || k.MsPerMiB != 1.5 || k.CPUMsPerMiB != 1 || k.Ratio != 0.75 || k.RatioLo != 0.625 || k.RatioHi != 0.875 || k.Growth != 3*mb || k.IdleRSS != 10*mb {
		t.Errorf("kahttp row: %+v", *k)
	}
	if !strings.HasPrefix(k.Verdict, "FAIL: 1 of 3") {
		t.Errorf("kahttp verdict %q", k.Verdict)
	}
	// net/http: VmHWM never reset: only the first upload's peak is its own.
	if n.Growth != 21*mb || n.Ratio != 1 || n.MsPerMiB != 2 || n.Verdict != "baseline" || !math.IsNaN(n.OtherPct) {
		t.Errorf("net/http row: %+v", *n)
	}
}

func TestSummarizeOtherLoad(t *testing.T) {
	// Only the uploads of noiseMinRun or more count: 0.1 s of 0.4 s.
	r := &uploadRow{Case: uploadCase{Size: 200 << 20}, Server: "fasthttp", Runs: []uploadRun{
		{Round: 1, Seconds: 0.3, Other: 0.06},
		{Round: 2, Seconds: 0.01, Other: 0.01},
		{Round: 3, Seconds: 0.1 + noiseMinRun - 0.1, Other: 0.04},
	}}
	summarizeUploads([]*uploadRow{r})
	if want := 100 * 0.1 / (0.3 + noiseMinRun); math.Abs(r.OtherPct-want) > 1e-9 {
		t.Errorf("other load %v%%, want %v%%", r.OtherPct, want)
	}
	if !math.IsNaN(r.Ratio) {
		t.Errorf("ratio without a baseline: %v", r.Ratio)
	}
}

func TestUploadTimeout(t *testing.T) {
	if d := uploadTimeout(1 << 30); d < 30*time.Second || d > 2*time.Minute {
		t.Errorf("1 GiB timeout %v", d)
	}
	if d := uploadTimeout(1 << 20); d < 5*time.Second {
		t.Errorf("1 MiB timeout %v", d)
	}
}

func TestUploadMarkdown(t *testing.T) {
	rows := []*uploadRow{
		{Case: uploadCase{Size: 1 << 20}, Server: "kahttp-pool", Runs: []uploadRun{{}}, OK: 1, MsPerMiB: 1.234, Ratio: 0.5, RatioLo: 0.4, RatioHi: 0.61, CPUMsPerMiB: 1, IdleRSS: 10 << 20, Growth: 1 << 19, OtherPct: 7.2, Verdict: "ok: time ≤ net/http"},
		{Case: uploadCase{Size: 1 << 30, AtLimit: true}, Server: "kahttp-pool", Runs: []uploadRun{{Err: "x"}}, Bad: 1, MsPerMiB: math.NaN(), Ratio: math.NaN(), CPUMsPerMiB: math.NaN(), Growth: -1, OtherPct: math.NaN(), Verdict: "FAIL: x|y"},
	}
	md := (&uploadReport{Rows: rows, Skipped: []string{"upload/1GiB-chunked"}, HashMsPerMiB: 0.856}).Markdown()
	mdContains(t, md,
		"| upload/1MiB-cl | kahttp-pool | 1.23 | 0.50× (0.40–0.61) | 1.00 | 10.0 MiB | 0.5 MiB | 7% | 1/1 | ok: time ≤ net/http |",
		"| upload/1GiB-cl | kahttp-pool | – | – | – | 0.0 MiB | ? | – | 0/1 | FAIL: x\\|y |",
		"2 rows, 1 FAIL.",
		"SHA-256 alone takes 0.86 ms/MiB",
		"Skipped (the run's time bound): upload/1GiB-chunked",
	)
}

// uploadServers starts the three servers' upload configurations in this
// process and returns their addresses.
func uploadServers(t *testing.T) map[string]string {
	t.Helper()
	addrs := map[string]string{}
	ns := httptest.NewServer(netHTTPUploads(netHTTPHandler()))
	t.Cleanup(ns.Close)
	addrs["nethttp"] = strings.TrimPrefix(ns.URL, "http://")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fs := newFastHTTPServer(true)
	go fs.Serve(ln)
	t.Cleanup(func() { fs.Shutdown() })
	addrs["fasthttp"] = ln.Addr().String()

	h, err := kahttpUploads()
	if err != nil {
		t.Fatal(err)
	}
	ks := kahttp.NewServer(h, kahttp.Config{Mode: kahttp.Pooled})
	addr, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- ks.ListenAndServe(addr) }()
	for deadline := time.Now().Add(5 * time.Second); ks.Addr() == nil; time.Sleep(5 * time.Millisecond) {
		select {
		case err := <-errc:
			t.Fatalf("kahttp: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("kahttp did not start")
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		ks.Shutdown(ctx)
	})
	addrs["kahttp-pool"] = addr
	return addrs
}

// TestUploadServers uploads to every server's upload configuration, in
// this process, with both framings, and checks the answers; the other
// routes still answer behind the upload route.
func TestUploadServers(t *testing.T) {
	g := newUploadGen(uploadBlock, uploadChunk, 3)
	for name, addr := range uploadServers(t) {
		for _, size := range []int64{0, 1, 100 << 10, 3<<20 + 5} {
			for _, chunked := range []bool{false, true} {
				res := doUpload(addr, nil, size, chunked, g, 10*time.Second)
				if err := res.check(g.answer(size)); err != nil {
					t.Errorf("%s, %d bytes, chunked %v: %v", name, size, chunked, err)
				}
			}
		}
		// A wrong answer is caught.
		if err := doUpload(addr, nil, 10, false, g, 10*time.Second).check(g.answer(11)); err == nil {
			t.Errorf("%s: a wrong byte count passed", name)
		}
		if status, _, err := getOnce(addr, "/plaintext", 5*time.Second); err != nil || status != 200 {
			t.Errorf("%s: GET /plaintext beside /upload: %d, %v", name, status, err)
		}
		if status, _, err := getOnce(addr, "/upload", 5*time.Second); err != nil || status != 405 && status != 404 {
			t.Errorf("%s: GET /upload: %d, %v; want 405 or 404", name, status, err)
		}
	}
}
