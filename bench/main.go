// Command bench compares kahttp with net/http and fasthttp on this machine.
//
//	cd bench && go run .                 # default matrix (< 5 min on 2 cores), reports in $TMPDIR/kahttp-bench
//	go run . -quick                      # smoke matrix (< 60 s)
//	go run . -record                     # default matrix, recorded in results/ and the READMEs
//	go run . -scenario keepalive,sizes/1MiB -servers nethttp,fasthttp
//	go run . -tls                        # TLS keep-alive CPU per request (tls.md)
//	go run . -arena                      # HttpArena's profiles against examples/arena (arena.md)
//	go run . -ws-idle                    # RSS per idle WebSocket connection (ws-idle.md)
//	go run . -serve nethttp -addr 127.0.0.1:8080   # run one server
//
// See README.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

type options struct {
	quick       bool
	scenarios   string
	servers     string
	duration    time.Duration
	warmup      time.Duration
	rounds      int
	idleConns   int
	maxReq      int64
	loadgen     string
	noisyPct    float64
	retries     int
	outDir      string
	readme      string
	record      bool
	noPin       bool
	lgCPUs      string
	srvCPUs     string
	split       int
	list        bool
	serve       string
	slowProbe   string
	addr        string
	serveCPUs   string
	serveNoFile int
	faults      bool
	uploads     bool
	tls         bool
	wsIdle      bool
	arena       bool
	arenaData   string
	arenaCache  int64
	tlsCert     string
	tlsKey      string
	cpuProfile  string
	profileFor  time.Duration
	commandStr  string
}

func main() {
	var o options
	flag.BoolVar(&o.quick, "quick", false, "run the quick matrix (fewer cases, 0.3 s rounds, 1000 idle connections; < 60 s)")
	flag.StringVar(&o.scenarios, "scenario", "", "comma-separated scenarios or cases to run (e.g. keepalive,sizes/1MiB); default all")
	flag.StringVar(&o.servers, "servers", "", "comma-separated servers to compare; default all compiled in (see -list)")
	flag.DurationVar(&o.duration, "duration", 0, "length of one measured run (default 1.5s, -quick 0.3s)")
	flag.DurationVar(&o.warmup, "warmup", 0, "warm-up per case and server before the rounds (default 0.4s, -quick 0.15s)")
	flag.IntVar(&o.rounds, "rounds", 3, "measured rounds per case; servers are interleaved in each round")
	flag.IntVar(&o.idleConns, "idle-conns", 0, "connections for the idle scenario (default 10000, -quick 1000)")
	flag.Int64Var(&o.maxReq, "max-requests", 20_000_000, "upper bound on requests in one run")
	flag.Float64Var(&o.noisyPct, "noisy", 25, "a run during which other work took more than this share of a core (%) on the benchmark's CPUs is measured again")
	flag.IntVar(&o.retries, "retries", 2, "how often a noisy run may be measured again (the quietest attempt is kept; -quick: 1)")
	flag.StringVar(&o.loadgen, "loadgen", "builtin", "load generator: builtin, or wrk (cross-checks keepalive and pipelined only)")
	flag.BoolVar(&o.record, "record", false, "record this run as the project's result: write the reports to results/ and replace the results section of README.md and ../README.md (without it, reports go to $TMPDIR/kahttp-bench and the committed files stay as they are)")
	flag.StringVar(&o.outDir, "out", "", "directory for the reports (results.md, chart.svg, results.json; faults.md, uploads.md, tls.md, ws-idle.md); default $TMPDIR/kahttp-bench, with -record results")
	flag.StringVar(&o.readme, "readme", "", "comma-separated READMEs whose results section is replaced with the new table; default none, with -record README.md,../README.md")
	flag.BoolVar(&o.noPin, "no-pin", false, "do not pin the load generator and the servers to separate CPUs")
	flag.StringVar(&o.lgCPUs, "loadgen-cpus", "", "CPUs for the load generator (default: first half of the usable CPUs)")
	flag.StringVar(&o.srvCPUs, "server-cpus", "", "CPUs for the servers (default: second half of the usable CPUs)")
	flag.IntVar(&o.split, "split", 0, "pin the load generator to the first N usable CPUs and the servers to the next N (e.g. 1 for 1+1, 8 for 8+8); -loadgen-cpus and -server-cpus win where given")
	flag.BoolVar(&o.list, "list", false, "list servers and scenarios, then exit")
	flag.StringVar(&o.serve, "serve", "", "run one server (a name from -list) instead of the benchmark")
	flag.StringVar(&o.slowProbe, "slow-probe", "", "internal, for -faults slowloris: probe the server at this address until SIGINT, one line per request")
	flag.StringVar(&o.addr, "addr", "127.0.0.1:8080", "with -serve: address to listen on")
	flag.StringVar(&o.serveCPUs, "cpus", "", "with -serve: pin the server to these CPUs (re-executes itself)")
	flag.IntVar(&o.serveNoFile, "nofile", 0, "with -serve: lower RLIMIT_NOFILE of the server to this many descriptors")
	flag.BoolVar(&o.faults, "faults", false, "run the fault scenarios instead of the benchmark (see README: stream integrity, noise, floods, slowloris, fd exhaustion, resets, shutdown, pool burst)")
	flag.BoolVar(&o.uploads, "uploads", false, "run the upload scenario instead of the benchmark (POST /upload of 1 MiB to 200 MiB, Content-Length and chunked, and 1 GiB to kahttp; writes uploads.md); -scenario upload does the same. With -serve: serve POST /upload")
	flag.BoolVar(&o.tls, "tls", false, "run the TLS keep-alive comparison instead of the benchmark (server CPU per request over TLS, kahttp against net/http; writes tls.md). With -serve: serve over TLS (-tls-cert/-tls-key, or a fresh self-signed certificate)")
	flag.BoolVar(&o.wsIdle, "ws-idle", false, "run the idle WebSocket comparison instead of the benchmark (server RSS per idle connection, -idle-conns of them, default 1000; writes ws-idle.md). With -serve: serve GET /ws (gorilla/websocket echo)")
	flag.BoolVar(&o.arena, "arena", false, "run HttpArena's HTTP/1.1 profiles (baseline, pipelined, limited-conn, json, json-comp, upload, static) against examples/arena, HttpArena's go-fasthttp entry and net/http instead of the benchmark (writes arena.md); -scenario picks profiles")
	flag.Int64Var(&o.arenaCache, "arena-static-cache", 0, "with -arena: start examples/arena with -static-cache BYTES (static files held in memory, as HttpArena's tuned entries may; 0: read from disk on every request, its production rule)")
	flag.StringVar(&o.arenaData, "arena-data", "", "with -arena (and -serve arena-*): a data folder in HttpArena's layout (dataset.json, static/); default: one generated with the same shapes")
	flag.StringVar(&o.tlsCert, "tls-cert", "", "with -serve -tls: the certificate (PEM) to serve")
	flag.StringVar(&o.tlsKey, "tls-key", "", "with -serve -tls: its private key (PEM)")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "with -serve: write a CPU profile of the server to this file (see -profile-for)")
	flag.DurationVar(&o.profileFor, "profile-for", 10*time.Second, "with -cpuprofile: how long to profile, from the start")
	flag.Parse()
	o.commandStr = commandLine()
	resolveOutput(&o)

	if o.slowProbe != "" {
		if err := slowProbeMain(o.slowProbe); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if o.serve != "" {
		if err := serveMain(&o); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if o.list {
		listAll()
		return
	}
	if o.arena {
		if o.faults || o.uploads || o.tls || o.wsIdle {
			fmt.Fprintln(os.Stderr, "bench: -arena runs alone")
			os.Exit(2)
		}
		if err := arenaMain(&o); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if o.tls || o.wsIdle {
		if o.faults || o.uploads || o.tls && o.wsIdle {
			fmt.Fprintln(os.Stderr, "bench: -tls, -ws-idle, -uploads and -faults run separately")
			os.Exit(2)
		}
		run := tlsMain
		if o.wsIdle {
			run = wsIdleMain
		}
		if err := run(&o); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if o.uploads || uploadsSelected(o.scenarios) {
		if o.faults {
			fmt.Fprintln(os.Stderr, "bench: -faults and the upload scenario run separately")
			os.Exit(2)
		}
		if err := uploadsMain(&o); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if o.faults {
		if err := faultsMain(&o); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := benchMain(&o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// resolveOutput decides where the reports go. A run is a look, not the
// project's result, unless -record says so: a newcomer's first `go run .`
// must not leave the clone dirty. -out and -readme, where given, win.
func resolveOutput(o *options) {
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["out"] {
		o.outDir = filepath.Join(os.TempDir(), "kahttp-bench")
		if o.record {
			o.outDir = "results"
		}
	}
	if !set["readme"] && o.record {
		o.readme = "README.md,../README.md"
	}
}

// commandLine is how this run was asked for, as shown in the results.
func commandLine() string {
	return strings.Join(append([]string{"go run ."}, os.Args[1:]...), " ")
}

func listAll() {
	fmt.Println("servers:")
	for _, n := range serverNames() {
		fmt.Printf("  %-14s %s\n", n, registry[n].Desc)
	}
	fmt.Println("cases (* = in -quick):")
	for _, c := range allCases() {
		q := " "
		if c.Quick {
			q = "*"
		}
		fmt.Printf(" %s %-24s %s\n", q, c.Name(), c.Desc)
	}
	fmt.Println("fault scenarios (-faults):")
	for _, s := range faultScenarios() {
		fmt.Printf("   %-24s %s\n", s.Name, s.Desc)
	}
	fmt.Println("upload scenario (-uploads, or -scenario upload; not in the default matrix):")
	for _, c := range uploadCases() {
		fmt.Printf("   %-24s %s\n", c.Name(), c.Desc())
	}
}

func benchMain(o *options) error {
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.record && (o.quick || o.scenarios != "") {
		return errors.New("-record records the whole default matrix: drop -quick and -scenario, or -record")
	}
	if o.quick && !set["retries"] {
		o.retries = 1
	}
	if o.quick {
		if o.duration == 0 {
			o.duration = 300 * time.Millisecond
		}
		if o.warmup == 0 {
			o.warmup = 150 * time.Millisecond
		}
		if o.idleConns == 0 {
			o.idleConns = 1000
		}
	}
	if o.duration == 0 {
		o.duration = 1500 * time.Millisecond
	}
	if o.warmup == 0 {
		o.warmup = 400 * time.Millisecond
	}
	if o.idleConns == 0 {
		o.idleConns = 10_000
	}
	if o.rounds < 1 {
		return errors.New("-rounds must be >= 1")
	}
	if o.loadgen != "builtin" && o.loadgen != "wrk" {
		return fmt.Errorf("-loadgen must be builtin or wrk")
	}
	names, err := selectServers(o.servers)
	if err != nil {
		return err
	}
	cases, err := selectCases(o.scenarios, o.quick)
	if err != nil {
		return err
	}
	if o.loadgen == "wrk" {
		if _, err := exec.LookPath("wrk"); err != nil {
			return errors.New("-loadgen wrk: wrk is not installed")
		}
		// wrk runs whole seconds.
		o.duration = max(o.duration.Round(time.Second), time.Second)
		o.warmup = max(o.warmup.Round(time.Second), time.Second)
	}
	pin, err := setupPinning(o) // may re-execute this program
	if err != nil {
		return err
	}
	if o.loadgen == "wrk" {
		var keep, skipped []string
		var kept []Case
		for _, c := range cases {
			if c.Scenario == "keepalive" || c.Scenario == "pipelined" {
				kept = append(kept, c)
				keep = append(keep, c.Name())
			} else {
				skipped = append(skipped, c.Name())
			}
		}
		cases = kept
		if len(skipped) > 0 {
			fmt.Printf("-loadgen wrk cross-checks %s; skipped: %s\n", strings.Join(keep, ", "), strings.Join(skipped, ", "))
		}
	}
	start := time.Now()
	machine := describeMachine()
	fmt.Println("machine:", machine.String())
	fmt.Println("pinning:", pin.String())
	if nofile, err := raiseNoFile(uint64(o.idleConns) + 1024); err != nil {
		fmt.Println("RLIMIT_NOFILE:", err)
	} else if nofile < uint64(o.idleConns)+64 {
		fmt.Printf("RLIMIT_NOFILE is %d: the idle scenario opens only %d connections\n", nofile, nofile-64)
		o.idleConns = int(nofile - 64)
	}
	fmt.Printf("servers: %s; baseline for ratios: %s\n", strings.Join(names, ", "), baseline)
	fmt.Printf("rounds: %d x %v per server per case, warm-up %v, loadgen %s; a run with other load > %.0f%% of a core is measured again (up to %d times)\n", o.rounds, o.duration, o.warmup, o.loadgen, o.noisyPct, o.retries)

	procs := map[string]*serverProc{}
	var procsMu sync.Mutex
	stopAll := func() {
		procsMu.Lock()
		defer procsMu.Unlock()
		for _, s := range procs {
			s.stop()
		}
	}
	defer stopAll()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		fmt.Fprintf(os.Stderr, "\nbench: %v: stopping the servers\n", sig)
		stopAll()
		os.Exit(130)
	}()
	for _, n := range names {
		s, err := startServer(n, pin)
		if err != nil {
			return err
		}
		procsMu.Lock()
		procs[n] = s
		procsMu.Unlock()
		fmt.Printf("  %-14s pid %-7d %s\n", n, s.Pid, s.Info)
	}
	checks := map[string][]routeCheck{}
	for _, n := range names {
		rc, err := checkRoutes(procs[n].Addr, registry[n].answers)
		checks[n] = rc
		if err != nil {
			// Not fatal: the load runs count every wrong answer as an error.
			fmt.Printf("WARNING: server %s answers wrongly: %v\n", n, err)
		}
	}
	printRouteChecks(names, checks)

	run := &Run{
		Date:       time.Now().UTC().Format("2006-01-02 15:04 MST"),
		Command:    o.commandStr,
		Machine:    machine,
		Pinning:    pin.String(),
		Loadgen:    o.loadgen,
		Servers:    names,
		ServerCPUs: len(pin.Server),
		Baseline:   baseline,
		Settings:   fmt.Sprintf("%d rounds x %v per server per case, warm-up %v, servers interleaved in each round, runs with other load > %.0f%% of a core measured again up to %d times (quietest kept); idle: %d connections", o.rounds, o.duration, o.warmup, o.noisyPct, o.retries, o.idleConns),
		Headers:    headerSummary(names, checks),
		Labels:     serverLabels(names),
	}
	for i := range cases {
		c := &cases[i]
		cr := &CaseResult{Name: c.Name(), Scenario: c.Scenario, Desc: c.Desc, Idle: c.Idle, Conns: c.Spec.Conns, Rounds: map[string][]Sample{}}
		runs := caseServers(c, names, cr)
		if c.Idle {
			cr.Desc = strings.Replace(c.Desc, "N idle", fmt.Sprintf("%d idle", o.idleConns), 1)
			runIdle(o, pin, runs, cr)
		} else {
			runTimed(o, c, runs, procs, pin.CPUs(), cr)
		}
		run.Cases = append(run.Cases, cr)
	}
	run.Elapsed = time.Since(start).Round(time.Second).String()
	fmt.Printf("\nfinished in %s\n\n", run.Elapsed)
	md := run.Markdown()
	fmt.Println(md)
	if o.outDir != "" {
		if err := run.WriteFiles(o.outDir); err != nil {
			return err
		}
		fmt.Printf("wrote %s/results.md, %s/chart.svg, %s/results.json\n", o.outDir, o.outDir, o.outDir)
		for _, readme := range strings.Split(o.readme, ",") {
			if readme == "" {
				continue
			}
			if err := updateReadme(readme, run, o.outDir); err != nil {
				fmt.Println(readme, "not updated:", err)
			} else {
				fmt.Println("updated the results section of", readme)
			}
		}
	}
	return nil
}

// caseServers is the servers of names that run case c; the others are
// noted in cr.NotRun with the reason, for the tables.
func caseServers(c *Case, names []string, cr *CaseResult) []string {
	var runs []string
	for _, n := range names {
		if why := registry[n].notRun(c); why != "" {
			if cr.NotRun == nil {
				cr.NotRun = map[string]string{}
			}
			cr.NotRun[n] = why
			continue
		}
		runs = append(runs, n)
	}
	return runs
}

func printNotRun(cr *CaseResult) {
	for _, n := range serverNames() {
		if why, ok := cr.NotRun[n]; ok {
			fmt.Printf("  %-14s %s\n", n, why)
		}
	}
}

// serverLabels is the reports' names of the servers that have a Label.
func serverLabels(names []string) map[string]string {
	m := map[string]string{}
	for _, n := range names {
		if l := registry[n].Label; l != "" {
			m[n] = l
		}
	}
	return m
}

// runTimed measures one load case: a warm-up per server, then rounds with
// the servers interleaved.
func runTimed(o *options, c *Case, names []string, procs map[string]*serverProc, cpus []int, cr *CaseResult) {
	t0 := time.Now()
	defer func() { fmt.Printf("  (%s took %v)\n", c.Name(), time.Since(t0).Round(10*time.Millisecond)) }()
	fmt.Printf("\n== %s: %s\n", c.Name(), c.Desc)
	printNotRun(cr)
	for _, n := range names {
		if _, err := measure(o, c, procs[n], o.warmup, cpus); err != nil {
			fmt.Printf("  warm-up %s: %v\n", n, err)
		}
	}
	// Time for noisy runs measured again: a sixth of the case's planned
	// measuring time, so that a busy machine cannot stretch a run far past
	// its announced length.
	budget := time.Duration(o.rounds*len(names)) * o.duration / 6
	budgetNoted := false
	for r := 1; r <= o.rounds; r++ {
		for _, n := range names {
			var best Sample
			tries := 0
			for try := 0; ; try++ {
				tries = try
				s, err := measure(o, c, procs[n], o.duration, cpus)
				if err != nil {
					s.Err = err.Error()
				}
				if try == 0 || s.valid() && s.OtherCPU < best.OtherCPU {
					best = s
				}
				fmt.Printf("  round %d %-14s %s\n", r, n, s.String())
				if !s.valid() || otherPct(s) <= o.noisyPct || try >= o.retries {
					break
				}
				if budget < o.duration {
					if !budgetNoted {
						fmt.Printf("          %-14s other load %.0f%%, but this case's time for measuring again is used up\n", "", otherPct(s))
						budgetNoted = true
					}
					break
				}
				budget -= o.duration
				fmt.Printf("          %-14s other load %.0f%% > %.0f%%: measuring again\n", "", otherPct(s), o.noisyPct)
			}
			best.Retries = tries
			cr.Rounds[n] = append(cr.Rounds[n], best)
		}
	}
}

func otherPct(s Sample) float64 { return pct(s.OtherCPU, s.Seconds) }

// measure runs one load run against p and reads the server's CPU time
// around it.
func measure(o *options, c *Case, p *serverProc, d time.Duration, cpus []int) (Sample, error) {
	var s Sample
	if !p.alive() {
		return s, fmt.Errorf("server %s is not running", p.Name)
	}
	spec := c.Spec
	spec.Addr = p.Addr
	spec.Duration = d
	spec.MaxRequests = o.maxReq
	soft := ksoftirqdPids(cpus)
	soft0 := sumCPU(soft)
	busy0, irq0, _ := cpuBusy(cpus)
	lg0, _ := procCPU(os.Getpid())
	cpu0, err := procCPU(p.Pid)
	if err != nil {
		return s, err
	}
	var res *LoadResult
	if o.loadgen == "wrk" {
		res, err = runWrk(spec)
	} else {
		res, err = RunLoad(spec)
	}
	if err != nil {
		return s, err
	}
	cpu1, err := procCPU(p.Pid)
	if err != nil {
		return s, fmt.Errorf("server %s: %w (did it crash?)", p.Name, err)
	}
	lg1, _ := procCPU(os.Getpid())
	lg1 += res.ChildCPU
	busy1, irq1, _ := cpuBusy(cpus)
	soft1 := sumCPU(soft)
	s = sampleFrom(res, cpu1-cpu0, lg1-lg0)
	s.SoftirqCPU = (soft1 - soft0).Seconds()
	if other := (busy1 + irq1 - busy0 - irq0) - (cpu1 - cpu0) - (lg1 - lg0) - (soft1 - soft0); other > 0 {
		s.OtherCPU = other.Seconds()
	}
	if rss, err := procRSS(p.Pid); err == nil {
		s.RSS = rss
	}
	return s, nil
}

func sampleFrom(res *LoadResult, srvCPU, lgCPU time.Duration) Sample {
	s := Sample{
		OK:        res.OK,
		Errors:    res.Errors,
		Conns:     res.Conns,
		SlowDials: res.SlowDials,
		Seconds:   res.Elapsed.Seconds(),
		RPS:       res.RPS(),
		P50us:     durUS(res.Hist.Quantile(0.50)),
		P99us:     durUS(res.Hist.Quantile(0.99)),
		MaxUS:     durUS(res.Hist.Max()),
		SrvCPU:    srvCPU.Seconds(),
		LGCPU:     lgCPU.Seconds(),
		Samples:   res.ErrSamples,
	}
	if res.WrkLatency != nil {
		s.P50us, s.P99us, s.MaxUS = res.WrkLatency[0], res.WrkLatency[1], res.WrkLatency[2]
	}
	if res.OK > 0 {
		s.CPUus = srvCPU.Seconds() * 1e6 / float64(res.OK)
	}
	return s
}

func durUS(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
