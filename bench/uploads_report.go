package main

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// The upload scenario's figures, verdicts and table (results/uploads.md).

// uploadRun is one upload to one server.
type uploadRun struct {
	Round     int
	Seconds   float64 // dial to the end of the answer
	CPU       float64 // the server's CPU seconds during it
	RSSBefore int64   // the server's VmRSS before it
	HWM       int64   // the server's VmHWM after it
	HWMReset  bool    // VmHWM was reset before it: HWM is this upload's peak
	Other     float64 // CPU seconds of other work on the benchmark's CPUs during it
	Err       string  // a failed upload or a wrong answer
}

func (r uploadRun) ok() bool { return r.Err == "" }

// otherPct is the other load during the upload, in % of a core.
func (r uploadRun) otherPct() float64 { return pct(r.Other, r.Seconds) }

// growth is the server's RSS peak during the upload over its RSS before.
func (r uploadRun) growth() int64 { return max(r.HWM-r.RSSBefore, 0) }

func (r uploadRun) String(size int64) string {
	mib := float64(size) / (1 << 20)
	s := fmt.Sprintf("%7.3f s  %6.2f ms/MiB  CPU %6.2f ms/MiB  RSS %s +%s", r.Seconds, r.Seconds*1e3/mib, r.CPU*1e3/mib, fmtMiB(r.RSSBefore), fmtMiB(r.growth()))
	if r.Seconds >= noiseMinRun {
		s += fmt.Sprintf("  other %.0f%%", r.otherPct())
	}
	if !r.HWMReset {
		s += " (VmHWM not reset)"
	}
	if r.Err != "" {
		s += "  ERROR: " + r.Err
	}
	return s
}

// uploadRow is one server in one case, with its summary.
type uploadRow struct {
	Case   uploadCase
	Server string
	Runs   []uploadRun

	OK, Bad     int
	FirstErr    string
	MsPerMiB    float64 // median over the correct uploads (NaN: none)
	CPUMsPerMiB float64 // median server CPU per MiB
	Ratio       float64 // median per-round ratio of the time to net/http's (NaN: none)
	// RatioLo and RatioHi are the quartiles of the per-round ratios: their
	// spread is the noise a ratio near 1 is to be read against.
	RatioLo, RatioHi float64
	OtherPct         float64 // other load over its uploads of noiseMinRun or more, % of a core (NaN: none)
	IdleRSS          int64   // VmRSS before the first upload
	Growth           int64   // the largest RSS growth during one upload (-1: unknown)
	Verdict          string
}

// summarizeUploads fills in the figures and verdicts of one case's rows.
func summarizeUploads(rows []*uploadRow) {
	var base *uploadRow
	for _, r := range rows {
		if r.Server == baseline {
			base = r
		}
	}
	for _, r := range rows {
		mib := float64(r.Case.Size) / (1 << 20)
		var ms, cpu []float64
		var other, secs float64
		r.OK, r.Bad, r.FirstErr, r.Growth = 0, 0, "", -1
		for i, run := range r.Runs {
			if run.Seconds >= noiseMinRun {
				other += run.Other
				secs += run.Seconds
			}
			if i == 0 {
				r.IdleRSS = run.RSSBefore
			}
			if !run.ok() {
				r.Bad++
				if r.FirstErr == "" {
					r.FirstErr = run.Err
				}
				continue
			}
			r.OK++
			ms = append(ms, run.Seconds*1e3/mib)
			cpu = append(cpu, run.CPU*1e3/mib)
			// Without a reset VmHWM holds the process's peak so far: only
			// the first upload's is its own.
			if run.HWMReset || i == 0 {
				r.Growth = max(r.Growth, run.growth())
			}
		}
		r.MsPerMiB, r.CPUMsPerMiB = median(ms), median(cpu)
		r.OtherPct = math.NaN() // uploads too short for /proc/stat's ticks
		if secs > 0 {
			r.OtherPct = pct(other, secs)
		}
		r.Ratio, r.RatioLo, r.RatioHi = math.NaN(), math.NaN(), math.NaN()
		if base != nil {
			xs := roundRatios(r.Runs, base.Runs)
			r.Ratio, r.RatioLo, r.RatioHi = median(xs), quantile(xs, 0.25), quantile(xs, 0.75)
		}
		r.Verdict = uploadVerdict(r)
	}
}

// roundRatios are a's time over b's, each taken within one round where
// both uploads were correct.
func roundRatios(a, b []uploadRun) []float64 {
	byRound := map[int]uploadRun{}
	for _, r := range b {
		if r.ok() && r.Seconds > 0 {
			byRound[r.Round] = r
		}
	}
	var xs []float64
	for _, r := range a {
		if o, ok := byRound[r.Round]; ok && r.ok() {
			xs = append(xs, r.Seconds/o.Seconds)
		}
	}
	return xs
}

// quantile is the q-quantile of xs, interpolated between the closest
// ranks (NaN for none).
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[i] + (pos-float64(i))*(s[i+1]-s[i])
}

// uploadVerdict judges a row. Every server must answer every upload
// correctly. The kahttp rows carry the upload goals: time per MiB no more
// than net/http's (the median per-round ratio ≤ 1; over HTTPS ≤
// uploadTLSRatio), RSS growth during a 200 MiB upload (60 MiB over HTTPS)
// ≤ 4 MiB, and the 1 GiB upload completes.
func uploadVerdict(r *uploadRow) string {
	var fails, oks []string
	switch {
	case len(r.Runs) == 0:
		return "FAIL: no upload ran"
	case r.Bad > 0:
		fails = append(fails, fmt.Sprintf("%d of %d uploads failed or answered wrongly (%s)", r.Bad, len(r.Runs), r.FirstErr))
	}
	if isKahttp(r.Server) && r.OK > 0 {
		if r.Case.AtLimit {
			if r.OK == len(r.Runs) {
				oks = append(oks, "completed")
			}
		} else if !math.IsNaN(r.Ratio) {
			bound, name := 1.0, "time ≤ net/http"
			if r.Case.TLS {
				bound, name = uploadTLSRatio, fmt.Sprintf("time ≤ %.1f× net/http", uploadTLSRatio)
			}
			if r.Ratio <= bound {
				oks = append(oks, name)
			} else {
				f := fmt.Sprintf("time %.0f%% over net/http", (r.Ratio-1)*100)
				if r.RatioLo <= bound {
					f += fmt.Sprintf(", within noise (quartiles %.2f–%.2f)", r.RatioLo, r.RatioHi)
				}
				fails = append(fails, f)
			}
		}
		if r.Case.RSSGoal {
			switch {
			case r.Growth < 0:
				fails = append(fails, "RSS growth unknown")
			case r.Growth <= uploadRSSGoal:
				oks = append(oks, "RSS ≤ 4 MiB")
			default:
				fails = append(fails, fmt.Sprintf("RSS +%s > 4 MiB", fmtMiB(r.Growth)))
			}
		}
	}
	switch {
	case len(fails) > 0 && len(oks) > 0:
		return "FAIL: " + strings.Join(fails, "; ") + " (ok: " + strings.Join(oks, ", ") + ")"
	case len(fails) > 0:
		return "FAIL: " + strings.Join(fails, "; ")
	case len(oks) > 0:
		return "ok: " + strings.Join(oks, ", ")
	case r.Server == baseline:
		return "baseline"
	}
	return "answers ok (no goal)"
}

// figures is a row's summary for the console.
func (r *uploadRow) figures() string {
	return fmt.Sprintf("%s ms/MiB (%s), CPU %s ms/MiB, RSS %s +%s, other load %s, %d/%d correct",
		fmtMs(r.MsPerMiB), fmtRatioRange(r.Ratio, r.RatioLo, r.RatioHi), fmtMs(r.CPUMsPerMiB), fmtMiB(r.IdleRSS), fmtGrowth(r.Growth), fmtPct(r.OtherPct), r.OK, len(r.Runs))
}

func fmtPct(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", x)
}

// fmtRatioRange shows a ratio with the quartiles of the per-round ratios.
func fmtRatioRange(x, lo, hi float64) string {
	if math.IsNaN(x) || math.IsNaN(lo) || lo == hi {
		return fmtRatio(x)
	}
	return fmt.Sprintf("%.2f× (%.2f–%.2f)", x, lo, hi)
}

func fmtMs(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	return fmt.Sprintf("%.2f", x)
}

func fmtGrowth(b int64) string {
	if b < 0 {
		return "?"
	}
	return fmtMiB(b)
}

// uploadReport is one upload run.
type uploadReport struct {
	runHeader
	Rows    []*uploadRow
	Skipped []string
	// HashMsPerMiB is SHA-256 alone on this machine, per MiB: the client
	// hashing the largest body for its expected answer (0: unknown).
	HashMsPerMiB float64
}

// Markdown renders results/uploads.md.
func (rep *uploadReport) Markdown() string {
	var b strings.Builder
	b.WriteString("# Upload scenario\n\n")
	rep.runHeader.markdown(&b)
	fmt.Fprintf(&b, "POST /upload; the handler reads the body as it arrives into SHA-256 and answers `<bytes> <sha256 hex>`, "+
		"checked for every upload. The client streams the body from a %s block of pseudo-random bytes, repeated, "+
		"in %d KiB writes (chunked: %d KiB chunks), on a new connection per upload. "+
		"Each case starts a fresh process of every server; the servers take turns in each round.\n\n",
		sizeName(uploadBlock), uploadWrite>>10, uploadChunk>>10)
	b.WriteString("- **ms/MiB**: wall time from the dial to the end of the answer, per MiB of body, median over the correct uploads; " +
		"**× net/http**: the median over rounds of the ratio to net/http's upload in the same round, with the quartiles of those ratios (their spread is the noise)\n" +
		"- **CPU ms/MiB**: the server process's CPU time (user+system, all threads) during the upload, per MiB, median\n" +
		"- **RSS growth**: the largest, over the uploads, of the server's VmHWM after the upload minus its VmRSS before it " +
		"(VmHWM reset through /proc/PID/clear_refs before every upload); **idle RSS**: VmRSS before the first upload\n" +
		"- **other load**: CPU time of other work on the benchmark's CPUs during the server's uploads, in % of a core (as the benchmark reads it; " +
		"over the uploads of 0.2 s or more: /proc/stat counts in 10 ms ticks, – for shorter ones); such an upload with other load over `-noisy` is measured again, " +
		"up to `-retries` times, the quietest kept\n" +
		"- goals, for kahttp: time per MiB ≤ net/http's (over HTTPS ≤ 1.2×: a TLS connection has a goroutine of its own there); RSS growth during a 200 MiB upload " +
		"(60 MiB over HTTPS) ≤ 4 MiB; a 1 GiB upload (the route's limit, one round, the other servers for reference) completes. " +
		"The `-tls` cases run without fasthttp (no TLS server in this harness)\n\n")
	if rep.HashMsPerMiB > 0 {
		fmt.Fprintf(&b, "SHA-256 alone takes %.2f ms/MiB on this CPU (the client hashing the largest body for its expected answer): "+
			"what a server needs beyond that is its cost of taking the body.\n\n", rep.HashMsPerMiB)
	}
	fails := 0
	for _, r := range rep.Rows {
		if strings.HasPrefix(r.Verdict, "FAIL") {
			fails++
		}
	}
	fmt.Fprintf(&b, "%d rows, %d FAIL.\n\n", len(rep.Rows), fails)
	b.WriteString("| case | server | ms/MiB | × net/http | CPU ms/MiB | idle RSS | RSS growth | other load | correct | verdict |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|---|\n")
	for _, r := range rep.Rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %d/%d | %s |\n",
			mdEscape(r.Case.Name()), mdEscape(r.Server), fmtMs(r.MsPerMiB), fmtRatioRange(r.Ratio, r.RatioLo, r.RatioHi), fmtMs(r.CPUMsPerMiB),
			fmtMiB(r.IdleRSS), fmtGrowth(r.Growth), fmtPct(r.OtherPct), r.OK, len(r.Runs), mdEscape(r.Verdict))
	}
	if len(rep.Skipped) > 0 {
		fmt.Fprintf(&b, "\nSkipped (the run's time bound): %s\n", strings.Join(rep.Skipped, ", "))
	}
	return b.String()
}
