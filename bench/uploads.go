package main

// The upload scenario, `go run . -uploads` (or `-scenario upload`): POST
// /upload of large bodies, read by the handler as they arrive and hashed
// with SHA-256, the answer "<bytes> <sha256 hex>" checked for every upload.
// Per server and case it reports the time per MiB, its ratio to net/http,
// the server's CPU per MiB and its RSS growth during the upload over its
// idle RSS, with a verdict on kahttp's upload goals. It runs on
// its own (not in the default matrix): it has its own table,
// results/uploads.md, and goals that are not the matrix's.
//
// Every case starts fresh server processes (`bench -serve NAME -uploads`),
// pinned like the benchmark's, and measures them in rounds, the servers
// interleaved in each. Before every upload the server's VmHWM is reset
// (/proc/PID/clear_refs, "5") so each upload's peak is its own; where that
// is refused only the first upload of the fresh process counts for memory.

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const (
	// uploadBudget bounds the whole run: no case starts after it, and a
	// case started before it stops after its first round.
	uploadBudget = 150 * time.Second
	// uploadCaseBudget bounds one case's rounds after the first.
	uploadCaseBudget = 30 * time.Second
	// uploadRSSGoal bounds kahttp's RSS growth during a
	// 200 MiB upload.
	uploadRSSGoal = 4 << 20
	// noiseMinRun is the shortest upload whose other load is judged: the
	// busy times of /proc/stat move in 10 ms ticks.
	noiseMinRun = 0.2 // seconds
)

// defaultUploadServers are the servers the upload scenario measures unless
// -servers says otherwise.
var defaultUploadServers = []string{"kahttp-pool", "nethttp", "fasthttp"}

// uploadCase is one body size and framing.
type uploadCase struct {
	Size    int64
	Chunked bool
	Rounds  int // rounds at most, the servers interleaved in each
	// AtLimit cases upload exactly uploadLimit, once: kahttp must complete
	// them (one round is too few for its time goal; the other servers are
	// there for reference).
	AtLimit bool
	// RSSGoal: the case whose kahttp rows must stay within uploadRSSGoal.
	RSSGoal bool
	// TLS: the upload goes over HTTPS (the servers run with -tls; fasthttp
	// has no TLS server here). A kahttp row's time may be up to
	// uploadTLSRatio of net/http's: a TLS connection is served by a
	// goroutine of its own, as net/http serves every connection.
	TLS bool
}

// uploadTLSRatio bounds a kahttp TLS upload's time per MiB over net/http's.
const uploadTLSRatio = 1.2

func (c uploadCase) framing() string {
	if c.Chunked {
		return "chunked"
	}
	return "cl"
}

// Name is the case's label, e.g. "upload/200MiB-chunked", "upload/60MiB-cl-tls".
func (c uploadCase) Name() string {
	n := "upload/" + sizeName(c.Size) + "-" + c.framing()
	if c.TLS {
		n += "-tls"
	}
	return n
}

func (c uploadCase) Desc() string {
	fr := "with Content-Length"
	if c.Chunked {
		fr = fmt.Sprintf("chunked (%d KiB chunks)", uploadChunk>>10)
	}
	s := fmt.Sprintf("POST /upload of %s %s, up to %d round(s)", sizeName(c.Size), fr, c.Rounds)
	if c.TLS {
		s += fmt.Sprintf(", over HTTPS; kahttp time goal ≤ %.1f× net/http", uploadTLSRatio)
	}
	if c.AtLimit {
		s += "; the route's limit exactly: kahttp must complete it"
	}
	if c.RSSGoal {
		s += "; kahttp RSS growth goal ≤ 4 MiB"
	}
	return s
}

func uploadCases() []uploadCase {
	var cs []uploadCase
	for _, sz := range []struct {
		size   int64
		rounds int
	}{{1 << 20, 41}, {20 << 20, 21}, {200 << 20, 11}} {
		for _, ch := range []bool{false, true} {
			cs = append(cs, uploadCase{Size: sz.size, Chunked: ch, Rounds: sz.rounds, RSSGoal: sz.size == 200<<20})
		}
	}
	for _, ch := range []bool{false, true} {
		cs = append(cs, uploadCase{Size: uploadLimit, Chunked: ch, Rounds: 1, AtLimit: true})
	}
	for _, ch := range []bool{false, true} {
		cs = append(cs, uploadCase{Size: 60 << 20, Chunked: ch, Rounds: 11, RSSGoal: true, TLS: true})
	}
	return cs
}

// sizeName writes a size in the largest binary unit that divides it.
func sizeName(n int64) string {
	switch {
	case n > 0 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "GiB"
	case n > 0 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	case n > 0 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "KiB"
	}
	return strconv.FormatInt(n, 10) + "B"
}

func isUploadName(s string) bool { return s == "upload" || strings.HasPrefix(s, "upload/") }

// uploadsSelected reports whether -scenario names only the upload scenario
// or its cases, which then run as with -uploads.
func uploadsSelected(list string) bool {
	if strings.TrimSpace(list) == "" {
		return false
	}
	for _, s := range strings.Split(list, ",") {
		if !isUploadName(strings.TrimSpace(s)) {
			return false
		}
	}
	return true
}

// selectUploadCases picks cases by name ("upload/1MiB-cl"); empty or
// "upload" selects all.
func selectUploadCases(list string) ([]uploadCase, error) {
	all := uploadCases()
	want := map[string]bool{}
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" || s == "upload" {
			return all, nil
		}
		found := false
		for _, c := range all {
			found = found || c.Name() == s
		}
		if !found {
			var names []string
			for _, c := range all {
				names = append(names, c.Name())
			}
			return nil, fmt.Errorf("unknown upload case %q, have upload or %s", s, strings.Join(names, ", "))
		}
		want[s] = true
	}
	var out []uploadCase
	for _, c := range all {
		if want[c.Name()] {
			out = append(out, c)
		}
	}
	return out, nil
}

func isKahttp(server string) bool { return strings.HasPrefix(server, "kahttp") }

// uploadTimeout bounds one upload: 10 s, and 40 ms per MiB (25 MiB/s).
func uploadTimeout(size int64) time.Duration {
	return 10*time.Second + time.Duration(size>>20)*40*time.Millisecond
}

// uploadsMain runs `bench -uploads`.
func uploadsMain(o *options) error {
	list := o.scenarios
	cases, err := selectUploadCases(list)
	if err != nil {
		return err
	}
	names, err := modeServers(o.servers, defaultUploadServers, "upload", "")
	if err != nil {
		return err
	}
	pin, err := setupPinning(o) // may re-execute this program
	if err != nil {
		return err
	}
	start, machine := startRun(pin)
	fmt.Printf("upload scenario: servers %s; baseline for ratios: %s\n", strings.Join(names, ", "), baseline)

	fx := newFaultEnv(pin)
	defer fx.stopAll()

	var tlsArgs []string
	var clientTLS *tls.Config
	for _, c := range cases {
		if c.TLS && clientTLS == nil {
			var cleanup func()
			if tlsArgs, clientTLS, cleanup, err = runCert(); err != nil {
				return err
			}
			defer cleanup()
		}
	}

	gen := newUploadGen(uploadBlock, uploadChunk, 10)
	sums := map[int64]string{}
	rep := &uploadReport{runHeader: newRunHeader(o, machine, pin, start)}
	for _, c := range cases {
		if time.Since(start) > uploadBudget {
			rep.Skipped = append(rep.Skipped, c.Name())
			fmt.Printf("\n== %s: skipped, the run's %v are used up\n", c.Name(), uploadBudget)
			continue
		}
		fmt.Printf("\n== %s: %s\n", c.Name(), c.Desc())
		want, ok := sums[c.Size]
		if !ok {
			t0 := time.Now()
			want = gen.answer(c.Size)
			sums[c.Size] = want
			// The least disturbed of the sizes long enough to time.
			if ms := float64(time.Since(t0)) / 1e6 / (float64(c.Size) / (1 << 20)); c.Size >= 20<<20 && (rep.HashMsPerMiB == 0 || ms < rep.HashMsPerMiB) {
				rep.HashMsPerMiB = ms
			}
			fmt.Printf("  expected answer %q (hashed in %v)\n", want, time.Since(t0).Round(time.Millisecond))
		}
		caseNames, args, cfg := names, []string{"-uploads"}, (*tls.Config)(nil)
		if c.TLS {
			caseNames, args, cfg = withoutServer(names, "fasthttp"), append(args, tlsArgs...), clientTLS
		}
		rows, err := runUploadCase(o, fx, c, caseNames, args, cfg, gen, want, start)
		if err != nil {
			return err
		}
		rep.Rows = append(rep.Rows, rows...)
	}
	rep.finish(start)
	md := rep.Markdown()
	fmt.Printf("\nfinished in %s\n\n%s", rep.Elapsed, md)
	if o.outDir != "" {
		if err := os.MkdirAll(o.outDir, 0o755); err != nil {
			return err
		}
		path := filepath.Join(o.outDir, "uploads.md")
		if err := writeFileAtomic(path, []byte(md)); err != nil {
			return err
		}
		fmt.Println("wrote", path)
	}
	return nil
}

// runUploadCase starts a fresh process of every server, measures the
// rounds and stops them.
func runUploadCase(o *options, fx *faultEnv, c uploadCase, names, args []string, clientTLS *tls.Config, gen *uploadGen, want string, runStart time.Time) ([]*uploadRow, error) {
	caseStart := time.Now()
	cpus := fx.pin.CPUs()
	procs := map[string]*serverProc{}
	defer func() {
		for _, p := range procs {
			fx.stop(p)
		}
	}()
	rows := make([]*uploadRow, len(names))
	for i, n := range names {
		p, err := fx.start(n, args...)
		if err != nil {
			return nil, err
		}
		procs[n] = p
		rows[i] = &uploadRow{Case: c, Server: n}
		fmt.Printf("  %-14s pid %-7d %s\n", n, p.Pid, p.Info)
	}
	for r := 1; r <= c.Rounds; r++ {
		if r > 1 && (time.Since(caseStart) > uploadCaseBudget || time.Since(runStart) > uploadBudget) {
			fmt.Printf("  stopped after %d rounds: time bound\n", r-1)
			break
		}
		for i, n := range names {
			p := procs[n]
			var best uploadRun
			for try := 0; ; try++ {
				run := measureUpload(p, c, clientTLS, gen, want, cpus)
				run.Round = r
				if run.Err == "" && !p.alive() {
					run.Err = "server exited"
				}
				if try == 0 || run.ok() && run.Other < best.Other {
					best = run
				}
				fmt.Printf("  round %-2d %-14s %s\n", r, n, run.String(c.Size))
				// Like the benchmark: a run that other work on the
				// benchmark's CPUs disturbed is measured again, the
				// quietest kept. Only runs long enough for /proc/stat's
				// ticks to tell.
				if !run.ok() || run.Seconds < noiseMinRun || run.otherPct() <= o.noisyPct ||
					try >= o.retries || time.Since(caseStart) > uploadCaseBudget {
					break
				}
				fmt.Printf("           %-14s other load %.0f%% > %.0f%%: measuring again\n", "", run.otherPct(), o.noisyPct)
			}
			rows[i].Runs = append(rows[i].Runs, best)
		}
	}
	summarizeUploads(rows)
	for _, row := range rows {
		fmt.Printf("  %-14s %s -> %s\n", row.Server, row.figures(), row.Verdict)
	}
	return rows, nil
}

// measureUpload makes one upload to p and reads the server's CPU time and
// memory around it.
func measureUpload(p *serverProc, c uploadCase, clientTLS *tls.Config, gen *uploadGen, want string, cpus []int) uploadRun {
	var run uploadRun
	if !p.alive() {
		run.Err = "server not running"
		return run
	}
	run.HWMReset = resetHWM(p.Pid) == nil
	run.RSSBefore, _ = procStatusBytes(p.Pid, "VmRSS")
	cpu0, err := procCPU(p.Pid)
	if err != nil {
		run.Err = err.Error()
		return run
	}
	// The other load on the benchmark's CPUs, as the benchmark's measure
	// reads it: their busy time less the server's, this process's and
	// ksoftirqd's.
	soft := ksoftirqdPids(cpus)
	soft0 := sumCPU(soft)
	busy0, irq0, _ := cpuBusy(cpus)
	self0, _ := procCPU(os.Getpid())
	res := doUpload(p.Addr, clientTLS, c.Size, c.Chunked, gen, uploadTimeout(c.Size))
	cpu1, _ := procCPU(p.Pid)
	self1, _ := procCPU(os.Getpid())
	busy1, irq1, _ := cpuBusy(cpus)
	soft1 := sumCPU(soft)
	run.HWM, _ = procStatusBytes(p.Pid, "VmHWM")
	run.Seconds = res.Elapsed.Seconds()
	run.CPU = (cpu1 - cpu0).Seconds()
	if other := (busy1 + irq1 - busy0 - irq0) - (cpu1 - cpu0) - (self1 - self0) - (soft1 - soft0); other > 0 {
		run.Other = other.Seconds()
	}
	if err := res.check(want); err != nil {
		run.Err = err.Error()
	}
	return run
}

// withoutServer is names less the server drop.
func withoutServer(names []string, drop string) []string {
	var out []string
	for _, n := range names {
		if n != drop {
			out = append(out, n)
		}
	}
	return out
}

// resetHWM sets pid's VmHWM back to its current RSS (Linux ≥ 4.0).
func resetHWM(pid int) error {
	return os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0)
}
