package main

import (
	"encoding/xml"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func fixedRun() *Run {
	mk := func(rps, cpu float64) Sample {
		return Sample{OK: int64(rps), Seconds: 1, RPS: rps, P50us: 500, P99us: 2000, MaxUS: 9000, SrvCPU: cpu * rps / 1e6, LGCPU: 0.9, CPUus: cpu}
	}
	return &Run{
		Date: "2025-01-02 03:04 UTC", Command: "go run . -quick", Loadgen: "builtin",
		Machine:  Machine{CPU: "Test CPU <x> & co", Cores: 2, MemGiB: 24, Go: "go1.26", Kernel: "6.1", OS: "linux/amd64"},
		Pinning:  "load generator on CPU 0, servers on CPU 1",
		Settings: "3 rounds x 1s per server per case",
		Servers:  []string{"kahttp-inline", "kahttp-pool", "nethttp", "fasthttp"}, Baseline: "nethttp",
		Headers: map[string]string{"nethttp": "150 bytes: content-length"},
		Cases: []*CaseResult{
			{Name: "keepalive/c64", Scenario: "keepalive", Desc: "d", Rounds: map[string][]Sample{
				"kahttp-inline": {mk(70000, 5), mk(71000, 5.2), mk(69000, 4.8)},
				"kahttp-pool":   {mk(60000, 6), mk(60000, 6), mk(60000, 6)},
				"nethttp":       {mk(40000, 20), mk(41000, 21), mk(39000, 19)},
				"fasthttp":      {mk(65000, 8), mk(66000, 8), mk(64000, 8)},
				"gnet-floor":    {mk(80000, 5.5), mk(80000, 5.5), mk(80000, 5.5)},
			}},
			{Name: "pipelined/p16-c64", Scenario: "pipelined", Desc: "d", Rounds: map[string][]Sample{
				"kahttp-inline": {mk(300000, 1), {Err: "boom | pipe"}, mk(300000, 1)},
				"nethttp":       {mk(100000, 10), mk(100000, 10), mk(100000, 10)},
				"fasthttp":      {mk(200000, 2), mk(200000, 2), mk(200000, 2)},
				"gnet-floor":    {mk(400000, 0.8), mk(400000, 0.8), mk(400000, 0.8)},
			}},
			{Name: "idle", Scenario: "idle", Desc: "100 idle", Idle: true, Rounds: map[string][]Sample{
				"kahttp-inline": {{Conns: 100, RSSPerConn: 1000}},
				"nethttp":       {{Conns: 100, RSSPerConn: 20000}},
				"fasthttp":      {{Conns: 100, RSSPerConn: 16000}},
			}},
		},
	}
}

func TestRowsRatiosAreSameRoundMedians(t *testing.T) {
	rows := fixedRun().Cases[0].Rows([]string{"kahttp-inline", "nethttp"}, "nethttp")
	if got := rows[0].CPUx; math.Abs(got-0.25) > 1e-9 { // 5/20, 5.2/21, 4.8/19 -> median 0.25
		t.Errorf("CPU ratio %v", got)
	}
	if rows[1].RPSx != 1 || rows[0].RPS != 70000 {
		t.Errorf("rows %+v", rows)
	}
	p := fixedRun().Cases[1].Rows([]string{"kahttp-inline"}, "nethttp")[0]
	if p.Rounds != 2 || p.Failed == "" {
		t.Errorf("a failed round must be left out and remembered: %+v", p)
	}
}

// On servers with 8 CPUs or more the large-machine goals apply.
func TestMarkdownTargetsLargeMachine(t *testing.T) {
	run := fixedRun()
	run.ServerCPUs = 8
	md := run.Markdown()
	mdContains(t, md,
		"Targets (the performance goals for 8 cores",
		"keepalive/c64: kahttp-pool req/s ÷ kahttp-inline | 0.86× | ≥ 0.90× | no |",
		"keepalive/c64: kahttp-pool CPU/req ÷ kahttp-inline | 1.20× | ≤ 1.15× | no |",
		"keepalive/c64: kahttp-inline req/s ÷ fasthttp | 1.08× | ≥ 1.00× | yes |",
		"keepalive/c64: kahttp-inline CPU/req ÷ fasthttp | 0.62× | ≤ 0.75× | yes |",
	)
}

func TestMarkdown(t *testing.T) {
	md := fixedRun().Markdown()
	mdContains(t, md,
		"| keepalive/c64 | kahttp-inline | 70000 | 1.75× |",
		"| 5.00µs | 0.25× |",
		"| 500µs (1.00×) | 2.00ms (1.00×) | 9.00ms (1.00×) |",
		"| kahttp-inline | 1000 B | 0.05× | 100 | 0 |",
		"Targets (the performance goals for 2 cores",
		"keepalive/c64: kahttp-pool CPU/req ÷ gnet-floor | 1.09× | ≤ 1.10× | yes |",
		"keepalive/c64: kahttp-inline CPU/req ÷ gnet-floor | 0.91× | ≤ 1.05× | yes |",
		"keepalive/c64: kahttp-pool CPU/req ÷ fasthttp | 0.75× | ≤ 1.00× | yes |",
		"pipelined/p16-c64: kahttp-inline CPU/req ÷ gnet-floor | 1.25× | ≤ 1.30× | yes |",
		"idle: kahttp-inline RSS per connection | 1000 B | ≤ 1.2 KB (1200 B) | yes |",
		"`go run . -quick`",
	)
	// Every row of a table has as many cells as its header.
	var cols int
	for _, l := range strings.Split(md, "\n") {
		if !strings.HasPrefix(l, "|") {
			cols = 0
			continue
		}
		n := strings.Count(strings.ReplaceAll(l, `\|`, ""), "|")
		if cols == 0 {
			cols = n
		} else if n != cols {
			t.Errorf("row has %d pipes, header %d: %s", n, cols, l)
		}
	}
}

func TestMarkdownFlagsReopenedConnections(t *testing.T) {
	run := fixedRun()
	c := run.Cases[0]
	c.Conns = 64
	s := c.Rounds["fasthttp"]
	s[1].Conns = 5000
	md := run.Markdown()
	if !strings.Contains(md, "⚠ fasthttp reopened connections in keepalive/c64 (round 2: 5000 connections for 64 concurrent)") {
		t.Errorf("no reopen warning:\n%s", md)
	}
	if strings.Contains(md, "kahttp-inline reopened") {
		t.Error("warned about a server that kept its connections")
	}
}

func TestSVGIsWellFormed(t *testing.T) {
	svg := fixedRun().SVG()
	d := xml.NewDecoder(strings.NewReader(svg))
	rects := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("invalid SVG: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			rects++
		}
	}
	// background + 4 legend boxes + bars: keepalive 4 servers x 2 panels,
	// pipelined 3 (the pool has no round there) x 2, idle 3
	if want := 1 + 4 + 8 + 6 + 3; rects != want {
		t.Errorf("%d rects, want %d", rects, want)
	}
	if !strings.Contains(svg, "Test CPU &lt;x&gt; &amp; co") {
		t.Error("text not escaped")
	}
}

func TestWriteFilesAndReadme(t *testing.T) {
	dir := t.TempDir()
	run := fixedRun()
	if err := run.WriteFiles(filepath.Join(dir, "results")); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"results.md", "chart.svg", "results.json"} {
		if fi, err := os.Stat(filepath.Join(dir, "results", f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	readme := filepath.Join(dir, "README.md")
	os.WriteFile(readme, []byte("intro\n"+readmeBegin+"\nold\n"+readmeEnd+"\noutro\n"), 0o644)
	if err := updateReadme(readme, run, filepath.Join(dir, "results")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(readme)
	s := string(b)
	if strings.Contains(s, "old") || !strings.HasPrefix(s, "intro\n") || !strings.HasSuffix(s, readmeEnd+"\noutro\n") ||
		!strings.Contains(s, "2025-01-02 03:04 UTC") || !strings.Contains(s, "![ratios to nethttp](results/chart.svg)") {
		t.Errorf("README:\n%s", s)
	}

	// A README in a parent folder links into bench/results.
	parent := filepath.Join(dir, "root")
	os.MkdirAll(filepath.Join(parent, "bench", "results"), 0o755)
	top := filepath.Join(parent, "README.md")
	os.WriteFile(top, []byte(readmeBegin+"\n"+readmeEnd+"\n"), 0o644)
	if err := updateReadme(top, run, filepath.Join(parent, "bench", "results")); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(top)
	if !strings.Contains(string(b), "![ratios to nethttp](bench/results/chart.svg)") {
		t.Errorf("top README:\n%s", b)
	}
}

func TestProcStat(t *testing.T) {
	line := []byte("1234 (a (weird) name) S 1 1 1 0 -1 4194560 10 0 0 0 150 50 0 0 20 0 1 0 1 1 1\n")
	d, err := parseStatCPU(line, 100)
	if err != nil || d != 2*time.Second {
		t.Errorf("parseStatCPU = %v, %v", d, err)
	}
	rss, err := parseStatusRSS([]byte("Name:\tx\nVmRSS:\t  2048 kB\n"))
	if err != nil || rss != 2<<20 {
		t.Errorf("parseStatusRSS = %v, %v", rss, err)
	}
	// Burn a little CPU, then the precise clock and /proc/PID/stat agree.
	end := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(end) {
	}
	clk, err1 := procCPUClock(os.Getpid())
	st, err2 := procStatCPU(os.Getpid())
	if err1 != nil || err2 != nil || clk <= 0 || math.Abs(float64(clk-st)) > float64(100*time.Millisecond) {
		t.Errorf("clock %v (%v), stat %v (%v)", clk, err1, st, err2)
	}
	if r, err := procRSS(os.Getpid()); err != nil || r <= 0 {
		t.Errorf("procRSS = %v, %v", r, err)
	}
}

func TestParseWrk(t *testing.T) {
	out := `Running 2s test @ http://127.0.0.1:8080/plaintext
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.02ms  300.00us   8.50ms   90.00%
    Req/Sec    62.00k     1.00k   64.00k    80.00%
  Latency Distribution
     50%  0.98ms
     75%    1.10ms
     90%    1.30ms
     99%    2.10ms
  124000 requests in 2.00s, 15.00MB read
  Non-2xx or 3xx responses: 10
  Socket errors: connect 0, read 1, write 0, timeout 2
Requests/sec:  62000.00
Transfer/sec:      7.50MB
`
	res, err := parseWrk(out, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != 124000-13 || res.Errors != 13 || res.Elapsed != 2*time.Second {
		t.Errorf("%+v", res)
	}
	if res.WrkLatency[0] != 980 || res.WrkLatency[1] != 2100 || res.WrkLatency[2] != 8500 {
		t.Errorf("latencies %v", res.WrkLatency)
	}
}

func TestSelectCases(t *testing.T) {
	all, _ := selectCases("", false)
	quick, _ := selectCases("", true)
	if len(all) != 12 || len(quick) >= len(all) {
		t.Errorf("%d cases, %d quick", len(all), len(quick))
	}
	c, err := selectCases("sizes/1MiB,keepalive", false)
	if err != nil || len(c) != 3 || c[0].Name() != "sizes/1MiB" {
		t.Errorf("%v %v", c, err)
	}
	if _, err := selectCases("nope", false); err == nil {
		t.Error("unknown scenario accepted")
	}
	seen := map[string]bool{}
	for _, c := range all {
		seen[c.Scenario] = true
	}
	for _, n := range scenarioNames {
		if !seen[n] {
			t.Errorf("scenario %s has no case", n)
		}
	}
}

func TestParseCPUList(t *testing.T) {
	l, err := parseCPUList("0-2,5")
	if err != nil || cpuListString(l) != "0,1,2,5" {
		t.Errorf("%v %v", l, err)
	}
	if _, err := parseCPUList("3-1"); err == nil {
		t.Error("bad range accepted")
	}
	lg, srv, ok := splitCPUs([]int{0, 1})
	if !ok || cpuListString(lg) != "0" || cpuListString(srv) != "1" {
		t.Errorf("split %v %v %v", lg, srv, ok)
	}
	if _, _, ok := splitCPUs([]int{0}); ok {
		t.Error("one CPU cannot be split")
	}
}

// mdContains fails t for each of wants that md does not contain.
func mdContains(t *testing.T, md string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}
