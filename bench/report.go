package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Sample is what one measured run of one server gave.
type Sample struct {
	OK     int64 `json:"ok"`
	Errors int64 `json:"errors"`
	Conns  int64 `json:"conns"`
	// SlowDials counts connects that took over 500 ms.
	SlowDials int64   `json:"slow_dials,omitempty"`
	Seconds   float64 `json:"seconds"`
	RPS       float64 `json:"rps"`
	P50us     float64 `json:"p50_us"`
	P99us     float64 `json:"p99_us"`
	MaxUS     float64 `json:"max_us"`
	SrvCPU    float64 `json:"server_cpu_s"`  // server CPU seconds (utime+stime) during the run
	LGCPU     float64 `json:"loadgen_cpu_s"` // load generator CPU seconds during the run
	// OtherCPU is busy time on the benchmark's CPUs that was neither the
	// server nor the load generator (other processes, steal), in seconds.
	OtherCPU float64 `json:"other_cpu_s"`
	// SoftirqCPU is the CPU time of the ksoftirqd threads of the
	// benchmark's CPUs: kernel network work for the loopback traffic that
	// the kernel deferred to them and so charged to neither process.
	SoftirqCPU float64 `json:"ksoftirqd_cpu_s"`
	CPUus      float64 `json:"cpu_us_per_req"`
	RSS        int64   `json:"rss_bytes,omitempty"`
	// RSSPerConn is the idle scenario's figure: (VmRSS after - before) / conns.
	RSSPerConn float64  `json:"rss_per_conn_bytes,omitempty"`
	Samples    []string `json:"error_samples,omitempty"`
	Retries    int      `json:"retries,omitempty"` // noisy attempts measured again before this one
	Err        string   `json:"err,omitempty"`
}

func (s Sample) valid() bool { return s.Err == "" }

func (s Sample) String() string {
	if s.Err != "" {
		return "FAILED: " + s.Err
	}
	if s.RSSPerConn != 0 || s.RPS == 0 && s.Conns > 0 {
		str := fmt.Sprintf("%s per connection over %d connections, errors %d", fmtBytes(s.RSSPerConn), s.Conns, s.Errors)
		return str + errSuffix(s)
	}
	str := fmt.Sprintf("%9.0f req/s  p50 %-7s p99 %-7s max %-7s errors %d  CPU %s/req (server %3.0f%%, loadgen %3.0f%%, ksoftirqd %2.0f%%, other %3.0f%%)",
		s.RPS, fmtUS(s.P50us), fmtUS(s.P99us), fmtUS(s.MaxUS), s.Errors, fmtUS(s.CPUus),
		pct(s.SrvCPU, s.Seconds), pct(s.LGCPU, s.Seconds), pct(s.SoftirqCPU, s.Seconds), pct(s.OtherCPU, s.Seconds))
	if s.SlowDials > 0 {
		str += fmt.Sprintf("  [%d slow connects]", s.SlowDials)
	}
	return str + errSuffix(s)
}

func errSuffix(s Sample) string {
	if len(s.Samples) == 0 {
		return ""
	}
	return "\n      first errors: " + strings.Join(s.Samples, " | ")
}

func pct(cpu, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return cpu / secs * 100
}

// CaseResult holds every round of one case.
type CaseResult struct {
	Name     string `json:"name"`
	Scenario string `json:"scenario"`
	Desc     string `json:"desc"`
	Idle     bool   `json:"idle,omitempty"`
	Conns    int    `json:"conns,omitempty"` // concurrent connections of the load
	// Reconnects says the load itself opens new connections (a new one
	// per request, or a few requests per connection).
	Reconnects bool                `json:"reconnects,omitempty"`
	Rounds     map[string][]Sample `json:"rounds"` // per server, in round order
	// NotRun holds the servers that do not run this case, with why
	// ("n/a (only GET /plaintext)").
	NotRun map[string]string `json:"not_run,omitempty"`
}

// Run is one invocation's results.
type Run struct {
	Date     string   `json:"date"`
	Command  string   `json:"command"`
	Machine  Machine  `json:"machine"`
	Pinning  string   `json:"pinning"`
	Loadgen  string   `json:"loadgen"`
	Settings string   `json:"settings"`
	Servers  []string `json:"servers"`
	// ServerCPUs is how many CPUs the servers ran on: the targets differ
	// for a small machine and a large one (writeTargets).
	ServerCPUs int               `json:"server_cpus"`
	Baseline   string            `json:"baseline"`
	Headers    map[string]string `json:"headers,omitempty"` // per server: /plaintext response head
	Labels     map[string]string `json:"labels,omitempty"`  // per server: its name in the tables, where not its own
	Cases      []*CaseResult     `json:"cases"`
	Elapsed    string            `json:"elapsed"`
}

// Row is the summary of one server in one case: medians over rounds, and
// medians of the per-round ratios to the baseline.
type Row struct {
	Server     string
	Rounds     int
	RPS        float64
	P50, P99   float64
	Max        float64
	CPUus      float64
	SrvPct     float64
	LGPct      float64
	OtherPct   float64
	SoftPct    float64
	RSSPerConn float64
	Conns      int64
	Errors     int64
	RPSx, CPUx float64 // NaN when there is no baseline
	RSSx       float64
	P50x, P99x float64
	MaxX       float64
	Failed     string
	NA         string // why the server did not run the case
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// pairRatio is the median over rounds of metric(a)/metric(b), taking each
// ratio within one round. ok is false when no round has both.
func pairRatio(cr *CaseResult, a, b string, metric func(Sample) float64) (float64, bool) {
	sa, sb := cr.Rounds[a], cr.Rounds[b]
	var rs []float64
	for i := 0; i < len(sa) && i < len(sb); i++ {
		if !sa[i].valid() || !sb[i].valid() {
			continue
		}
		x, y := metric(sa[i]), metric(sb[i])
		if y > 0 && !math.IsNaN(x) {
			rs = append(rs, x/y)
		}
	}
	if len(rs) == 0 {
		return math.NaN(), false
	}
	return median(rs), true
}

func mRPS(s Sample) float64     { return s.RPS }
func mCPU(s Sample) float64     { return s.CPUus }
func mRSSConn(s Sample) float64 { return s.RSSPerConn }

// Rows summarises a case for the given servers.
func (cr *CaseResult) Rows(servers []string, base string) []Row {
	var rows []Row
	for _, n := range servers {
		ss := cr.Rounds[n]
		r := Row{Server: n, RPSx: math.NaN(), CPUx: math.NaN(), RSSx: math.NaN(), P50x: math.NaN(), P99x: math.NaN(), MaxX: math.NaN(), NA: cr.NotRun[n]}
		var rps, p50, p99, mx, cpu, sp, lp, op, kp, rss []float64
		for _, s := range ss {
			if !s.valid() {
				r.Failed = s.Err
				continue
			}
			r.Rounds++
			r.Errors += s.Errors
			r.Conns = s.Conns
			rps = append(rps, s.RPS)
			p50 = append(p50, s.P50us)
			p99 = append(p99, s.P99us)
			mx = append(mx, s.MaxUS)
			cpu = append(cpu, s.CPUus)
			sp = append(sp, pct(s.SrvCPU, s.Seconds))
			lp = append(lp, pct(s.LGCPU, s.Seconds))
			op = append(op, pct(s.OtherCPU, s.Seconds))
			kp = append(kp, pct(s.SoftirqCPU, s.Seconds))
			rss = append(rss, s.RSSPerConn)
		}
		r.RPS, r.P50, r.P99, r.Max = median(rps), median(p50), median(p99), median(mx)
		r.CPUus, r.SrvPct, r.LGPct, r.OtherPct, r.RSSPerConn = median(cpu), median(sp), median(lp), median(op), median(rss)
		r.SoftPct = median(kp)
		if _, ok := cr.Rounds[base]; ok {
			r.RPSx, _ = pairRatio(cr, n, base, mRPS)
			r.CPUx, _ = pairRatio(cr, n, base, mCPU)
			r.RSSx, _ = pairRatio(cr, n, base, mRSSConn)
			r.P50x, _ = pairRatio(cr, n, base, func(s Sample) float64 { return s.P50us })
			r.P99x, _ = pairRatio(cr, n, base, func(s Sample) float64 { return s.P99us })
			r.MaxX, _ = pairRatio(cr, n, base, func(s Sample) float64 { return s.MaxUS })
		}
		rows = append(rows, r)
	}
	return rows
}

func fmtUS(us float64) string {
	switch {
	case math.IsNaN(us):
		return "–"
	case us < 10:
		return fmt.Sprintf("%.2fµs", us)
	case us < 1000:
		return fmt.Sprintf("%.0fµs", us)
	case us < 10_000:
		return fmt.Sprintf("%.2fms", us/1000)
	case us < 1_000_000:
		return fmt.Sprintf("%.0fms", us/1000)
	default:
		return fmt.Sprintf("%.2fs", us/1e6)
	}
}

func fmtBytes(b float64) string {
	switch {
	case math.IsNaN(b):
		return "–"
	case math.Abs(b) < 1024:
		return fmt.Sprintf("%.0f B", b)
	case math.Abs(b) < 1<<20:
		return fmt.Sprintf("%.1f KiB", b/1024)
	default:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	}
}

func fmtRatio(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	return fmt.Sprintf("%.2f×", x)
}

// withRatio shows a latency with its ratio to the baseline: "451µs (0.51×)".
func withRatio(us, x float64) string {
	if math.IsNaN(x) {
		return fmtUS(us)
	}
	return fmtUS(us) + " (" + fmtRatio(x) + ")"
}

func fmtRate(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	return fmt.Sprintf("%.0f", x)
}

// Markdown renders the whole results document.
func (run *Run) Markdown() string {
	var b strings.Builder
	b.WriteString("# kahttp bench results\n\n")
	run.writeMeta(&b)
	b.WriteString("\n")
	run.writeTables(&b, "##")
	b.WriteString("\n![ratios to net/http](chart.svg)\n")
	return b.String()
}

func (run *Run) writeMeta(b *strings.Builder) {
	fmt.Fprintf(b, "- date: %s\n", run.Date)
	fmt.Fprintf(b, "- command: `%s` (in bench/)\n", run.Command)
	fmt.Fprintf(b, "- machine: %s\n", run.Machine.String())
	fmt.Fprintf(b, "- pinning: %s\n", run.Pinning)
	fmt.Fprintf(b, "- load generator: %s; %s\n", run.Loadgen, run.Settings)
	if run.Elapsed != "" {
		fmt.Fprintf(b, "- wall time: %s\n", run.Elapsed)
	}
	fmt.Fprintf(b, "- figures are medians over rounds; ×%s (and the ratio after each latency) is the median of the per-round ratios to %s measured in the same round\n", run.Baseline, run.Baseline)
}

func (run *Run) writeTables(b *strings.Builder, h string) {
	var timed, idle []*CaseResult
	for _, c := range run.Cases {
		if c.Idle {
			idle = append(idle, c)
		} else {
			timed = append(timed, c)
		}
	}
	bx := "×" + run.Baseline
	if len(timed) > 0 {
		fmt.Fprintf(b, "%s Throughput, latency and server CPU per request\n\n", h)
		fmt.Fprintf(b, "| case | server | req/s | %s | p50 | p99 | max | errors | CPU/req | %s | server CPU | loadgen CPU | ksoftirqd | other CPU |\n", bx, bx)
		b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		noisy := 0.0
		for _, c := range timed {
			for _, r := range c.Rows(run.Servers, run.Baseline) {
				if r.NA != "" {
					fmt.Fprintf(b, "| %s | %s | %s |%s\n", c.Name, run.label(r.Server), r.NA, strings.Repeat(" — |", 11))
					continue
				}
				if r.Rounds == 0 {
					fmt.Fprintf(b, "| %s | %s | failed: %s |%s\n", c.Name, run.label(r.Server), mdEscape(r.Failed), strings.Repeat(" |", 11))
					continue
				}
				errs := fmt.Sprint(r.Errors)
				if r.Errors > 0 {
					errs = "**" + errs + "** ⚠"
				}
				fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %.0f%% | %.0f%% | %.0f%% | %.0f%% |\n",
					c.Name, run.label(r.Server), fmtRate(r.RPS), fmtRatio(r.RPSx), withRatio(r.P50, r.P50x), withRatio(r.P99, r.P99x), withRatio(r.Max, r.MaxX),
					errs, fmtUS(r.CPUus), fmtRatio(r.CPUx), r.SrvPct, r.LGPct, r.SoftPct, r.OtherPct)
				noisy = math.Max(noisy, r.OtherPct)
			}
		}
		b.WriteString("\nCPU/req is the server process's CPU time (user+system) during the run divided by the correct responses; server CPU and loadgen CPU are busy time as a share of one core (a load generator near 100% means req/s is capped by it, and CPU/req is the figure that separates the servers). ksoftirqd is kernel network work for the loopback traffic deferred to the ksoftirqd threads of those CPUs, charged to neither process (softirq work done right away is charged to the process it interrupted, so it is in CPU/req); other CPU is whatever else ran there meanwhile (other processes, hypervisor steal).\n")
		if l, ok := run.Labels["gnet-floor"]; ok {
			fmt.Fprintf(b, "\n%s is `gnet-floor`, not an HTTP server: raw gnet/v2 event loops, as many as kahttp runs, that count the request heads they read and write as many pre-built copies of kahttp's GET /plaintext answer, with no parsing, routing or header writing. It is the floor of the transport kahttp runs on, so kahttp's CPU/req less its own is what kahttp's HTTP costs; it runs only the GET /plaintext cases.\n", l)
		}
		for _, c := range timed {
			if c.Scenario == "shortlived" || c.Reconnects {
				continue
			}
			for _, n := range run.Servers {
				for i, smp := range c.Rounds[n] {
					if want := c.Conns; want > 0 && smp.valid() && smp.Conns > 2*int64(want) {
						fmt.Fprintf(b, "\n⚠ %s reopened connections in %s (round %d: %d connections for %d concurrent): it did not keep them alive, which costs it CPU per request.\n", n, c.Name, i+1, smp.Conns, want)
						break
					}
				}
			}
		}
		if noisy >= 10 {
			fmt.Fprintf(b, "\n**Noisy machine:** up to %.0f%% of a core went to other work during some runs; req/s and latency are unreliable, CPU/req less affected.\n", noisy)
		}
	}
	for _, c := range idle {
		fmt.Fprintf(b, "\n%s Idle connections\n\n%s.\n\n", h, c.Desc)
		fmt.Fprintf(b, "| server | RSS per connection | %s | connections | errors |\n|---|--:|--:|--:|--:|\n", bx)
		for _, r := range c.Rows(run.Servers, run.Baseline) {
			if r.NA != "" {
				fmt.Fprintf(b, "| %s | %s | — | — | — |\n", run.label(r.Server), r.NA)
				continue
			}
			if r.Rounds == 0 {
				fmt.Fprintf(b, "| %s | failed: %s | | | |\n", run.label(r.Server), mdEscape(r.Failed))
				continue
			}
			fmt.Fprintf(b, "| %s | %s | %s | %d | %d |\n", run.label(r.Server), fmtBytes(r.RSSPerConn), fmtRatio(r.RSSx), r.Conns, r.Errors)
		}
	}
	run.writeTargets(b, h)
	if len(run.Headers) > 0 {
		fmt.Fprintf(b, "\n%s Response heads (GET /plaintext, asked with Connection: close)\n\n", h)
		for _, n := range run.Servers {
			if hd, ok := run.Headers[n]; ok {
				fmt.Fprintf(b, "- %s: %s\n", run.label(n), hd)
			}
		}
	}
}

// label is server n's name in the tables.
func (run *Run) label(n string) string {
	if l, ok := run.Labels[n]; ok {
		return l
	}
	return n
}

// writeTargets checks the goals of the performance issues that this run
// measured: on servers with 8 CPUs or more the large-machine set (issue
// 14's), else the small one (issue 22's, which states them against the
// gnet floor, since on 2 cores a request is mostly the kernel's work).
// Ratios are medians of per-round ratios, same run.
//
//	small (2 cores): CPU/req ÷ the gnet floor, pooled (the default) ≤ 1.10×
//	on keep-alive and HTTP/1.0 keep-alive, ≤ 1.15× on a new connection per
//	request, ≤ 1.5× pipelined; inline ≤ 1.05×, and ≤ 1.3× pipelined; and
//	pooled below fasthttp's CPU/req in each of them.
//	large (8+ cores): pooled ≥ 0.9× inline req/s and ≤ 1.15× its CPU/req
//	on keep-alive, HTTP/1.0 keep-alive and pipelined; inline ≥ fasthttp's
//	req/s and ≤ 0.75× its CPU/req on keep-alive and pipelined; pipelined
//	inline ≤ 1.5× the floor.
//	keep-alive is keepalive/c64 and keepalive/c256, whichever ran (the
//	issue's 8-core figures were taken with many connections).
//	both: idle inline RSS ≤ 1.2 KB per connection.
func (run *Run) writeTargets(b *strings.Builder, h string) {
	const inline, pool, fast, floor = "kahttp-inline", "kahttp-pool", "fasthttp", "gnet-floor"
	const ka, ka256, ka10, pipe, short = "keepalive/c64", "keepalive/c256", "http10-keepalive/c64", "pipelined/p16-c64", "shortlived/c32"
	byName := map[string]*CaseResult{}
	for _, c := range run.Cases {
		byName[c.Name] = c
	}
	type target struct {
		label, got, goal string
		met              bool
	}
	var ts []target
	// ratio adds "a metric ÷ b's ≤ (or ≥) goal" for case cs when both ran.
	ratio := func(cs, a, b, what string, m func(Sample) float64, goal float64, atLeast bool) {
		c := byName[cs]
		if c == nil {
			return
		}
		x, ok := pairRatio(c, a, b, m)
		if !ok {
			return
		}
		op, met := "≤", x <= goal
		if atLeast {
			op, met = "≥", x >= goal
		}
		ts = append(ts, target{fmt.Sprintf("%s: %s %s ÷ %s", cs, a, what, b), fmt.Sprintf("%.2f×", x), fmt.Sprintf("%s %.2f×", op, goal), met})
	}
	if run.ServerCPUs >= 8 {
		for _, cs := range []string{ka, ka256, ka10, pipe} {
			ratio(cs, pool, inline, "req/s", mRPS, 0.9, true)
			ratio(cs, pool, inline, "CPU/req", mCPU, 1.15, false)
		}
		for _, cs := range []string{ka, ka256, pipe} {
			ratio(cs, inline, fast, "req/s", mRPS, 1.0, true)
			ratio(cs, inline, fast, "CPU/req", mCPU, 0.75, false)
		}
		ratio(pipe, inline, floor, "CPU/req", mCPU, 1.5, false)
	} else {
		for _, g := range []struct {
			cs           string
			pool, inline float64 // the most CPU/req each may take, ÷ the floor's
		}{{ka, 1.10, 1.05}, {ka10, 1.10, 1.05}, {short, 1.15, 1.05}, {pipe, 1.5, 1.3}} {
			ratio(g.cs, pool, floor, "CPU/req", mCPU, g.pool, false)
			ratio(g.cs, inline, floor, "CPU/req", mCPU, g.inline, false)
			ratio(g.cs, pool, fast, "CPU/req", mCPU, 1.0, false)
		}
	}
	for _, c := range run.Cases {
		if c.Idle {
			if rows := c.Rows([]string{inline}, run.Baseline); len(rows) == 1 && rows[0].Rounds > 0 {
				v := rows[0].RSSPerConn
				ts = append(ts, target{"idle: kahttp-inline RSS per connection", fmtBytes(v), "≤ 1.2 KB (1200 B)", v <= 1200})
			}
		}
	}
	if len(ts) == 0 {
		return
	}
	set := "2 cores"
	if run.ServerCPUs >= 8 {
		set = "8 cores"
	}
	fmt.Fprintf(b, "\n%s Targets (the performance goals for %s, server CPU per request against the raw-gnet floor and fasthttp; same run, medians of per-round ratios)\n\n| target | measured | goal | met |\n|---|--:|--:|:-:|\n", h, set)
	for _, t := range ts {
		m := "no"
		if t.met {
			m = "yes"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", t.label, t.got, t.goal, m)
	}
}

func mdEscape(s string) string {
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.ReplaceAll(s, "\n", " ")
}

// WriteFiles writes results.md, chart.svg and results.json into dir.
func (run *Run) WriteFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"results.md":   []byte(run.Markdown()),
		"chart.svg":    []byte(run.SVG()),
		"results.json": append(js, '\n'),
	}
	for name, data := range files {
		if err := writeFileAtomic(filepath.Join(dir, name), data); err != nil {
			return err
		}
	}
	return nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

const (
	readmeBegin = "<!-- results:begin -->"
	readmeEnd   = "<!-- results:end -->"
)

// updateReadme replaces the README's results section (between the markers)
// with this run's tables and chart.
func updateReadme(path string, run *Run, outDir string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(b)
	i, j := strings.Index(s, readmeBegin), strings.Index(s, readmeEnd)
	if i < 0 || j < i {
		return errors.New("no " + readmeBegin + " … " + readmeEnd + " markers")
	}
	// Links are relative to the README's own folder.
	if abs, err := filepath.Abs(outDir); err == nil {
		if dir, err := filepath.Abs(filepath.Dir(path)); err == nil {
			if rel, err := filepath.Rel(dir, abs); err == nil {
				outDir = filepath.ToSlash(rel)
			}
		}
	}
	var sec strings.Builder
	sec.WriteString(readmeBegin + "\n")
	fmt.Fprintf(&sec, "Latest run, %s (report: [%s/results.md](%s/results.md), every round: [%s/results.json](%s/results.json)):\n\n", run.Date, outDir, outDir, outDir, outDir)
	run.writeMeta(&sec)
	sec.WriteString("\n")
	run.writeTables(&sec, "###")
	fmt.Fprintf(&sec, "\n![ratios to %s](%s/chart.svg)\n", run.Baseline, outDir)
	s = s[:i] + sec.String() + s[j:]
	return writeFileAtomic(path, []byte(s))
}
