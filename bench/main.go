// Command bench compares kahttp with net/http and fasthttp on this machine.
//
//	cd bench && go run .                 # default matrix (< 5 min on 2 cores)
//	go run . -quick                      # smoke matrix (< 60 s)
//	go run . -scenario keepalive,sizes/1MiB -servers nethttp,fasthttp
//	go run . -serve nethttp -addr 127.0.0.1:8080   # run one server
//
// See README.md.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

type options struct {
	quick      bool
	scenarios  string
	servers    string
	duration   time.Duration
	warmup     time.Duration
	rounds     int
	idleConns  int
	maxReq     int64
	loadgen    string
	noisyPct   float64
	retries    int
	outDir     string
	readme     string
	noPin      bool
	lgCPUs     string
	srvCPUs    string
	list       bool
	serve      string
	addr       string
	serveCPUs  string
	cpuProfile string
	profileFor time.Duration
	commandStr string
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
	flag.StringVar(&o.outDir, "out", "results", "directory for results.md, chart.svg and results.json (empty: write nothing)")
	flag.StringVar(&o.readme, "readme", "README.md,../README.md", "comma-separated READMEs whose results section is replaced with the new table (empty: leave them)")
	flag.BoolVar(&o.noPin, "no-pin", false, "do not pin the load generator and the servers to separate CPUs")
	flag.StringVar(&o.lgCPUs, "loadgen-cpus", "", "CPUs for the load generator (default: first half of the usable CPUs)")
	flag.StringVar(&o.srvCPUs, "server-cpus", "", "CPUs for the servers (default: second half of the usable CPUs)")
	flag.BoolVar(&o.list, "list", false, "list servers and scenarios, then exit")
	flag.StringVar(&o.serve, "serve", "", "run one server (a name from -list) instead of the benchmark")
	flag.StringVar(&o.addr, "addr", "127.0.0.1:8080", "with -serve: address to listen on")
	flag.StringVar(&o.serveCPUs, "cpus", "", "with -serve: pin the server to these CPUs (re-executes itself)")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "with -serve: write a CPU profile of the server to this file (see -profile-for)")
	flag.DurationVar(&o.profileFor, "profile-for", 10*time.Second, "with -cpuprofile: how long to profile, from the start")
	flag.Parse()
	o.commandStr = commandLine()

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
	if err := benchMain(&o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
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
}

// serveMain runs one server in this process: `bench -serve NAME -addr ADDR`.
func serveMain(o *options) error {
	def, ok := registry[o.serve]
	if !ok {
		return fmt.Errorf("unknown server %q (have %s)", o.serve, strings.Join(serverNames(), ", "))
	}
	if o.serveCPUs != "" && os.Getenv(pinnedEnv) == "" {
		cpus, err := parseCPUList(o.serveCPUs)
		if err != nil {
			return err
		}
		if err := execPinned(cpus); err != nil {
			return fmt.Errorf("pinning to CPUs %s: %w", o.serveCPUs, err)
		}
	}
	aff, _ := getAffinity()
	// Printed just before the server binds; the orchestrator also waits
	// until the port accepts connections.
	fmt.Printf("listening on %s (%s, GOMAXPROCS=%d, CPUs %s)\n", o.addr, def.Name,
		runtime.GOMAXPROCS(0), cpuListString(aff.list()))
	if o.cpuProfile != "" {
		// To see where a server's CPU per request goes: go tool pprof -top FILE.
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		time.AfterFunc(o.profileFor, func() {
			pprof.StopCPUProfile()
			f.Close()
			fmt.Fprintln(os.Stderr, "bench: wrote", o.cpuProfile)
		})
	}
	return def.Run(o.addr)
}

// pinning describes how the load generator and the servers were placed.
type pinning struct {
	Pinned    bool
	LoadGen   []int
	Server    []int
	Method    string // how the servers are pinned
	Note      string
	GoMaxProc int
}

// CPUs are the CPUs the benchmark runs on (all usable ones when unpinned).
func (p *pinning) CPUs() []int {
	if p.Pinned {
		return append(append([]int(nil), p.LoadGen...), p.Server...)
	}
	aff, _ := getAffinity()
	return aff.list()
}

func (p *pinning) String() string {
	if !p.Pinned {
		return p.Note
	}
	return fmt.Sprintf("load generator on CPU %s (GOMAXPROCS=%d), servers on CPU %s via %s",
		cpuListString(p.LoadGen), p.GoMaxProc, cpuListString(p.Server), p.Method)
}

// setupPinning pins this process (the load generator) and decides the
// servers' CPUs. On first entry it re-executes itself pinned; the decision
// travels in the environment.
func setupPinning(o *options) (*pinning, error) {
	p := &pinning{GoMaxProc: runtime.GOMAXPROCS(0)}
	if o.noPin {
		p.Note = "not pinned (-no-pin): the load generator and the servers share all CPUs"
		return p, nil
	}
	if env := os.Getenv(pinnedEnv); env != "" {
		lg, srv, ok := strings.Cut(env, ";")
		if !ok {
			return nil, fmt.Errorf("bad %s=%q", pinnedEnv, env)
		}
		var err error
		if p.LoadGen, err = parseCPUList(lg); err != nil {
			return nil, err
		}
		if p.Server, err = parseCPUList(srv); err != nil {
			return nil, err
		}
		p.Pinned = true
		runtime.GOMAXPROCS(len(p.LoadGen))
		p.GoMaxProc = runtime.GOMAXPROCS(0)
		if _, err := exec.LookPath("taskset"); err == nil {
			p.Method = "taskset -c"
		} else {
			p.Method = "sched_setaffinity + re-exec (no taskset found)"
		}
		return p, nil
	}
	aff, err := getAffinity()
	if err != nil {
		p.Note = fmt.Sprintf("not pinned: sched_getaffinity: %v", err)
		return p, nil
	}
	lg, srv, ok := splitCPUs(aff.list())
	if o.lgCPUs != "" {
		if lg, err = parseCPUList(o.lgCPUs); err != nil {
			return nil, err
		}
	}
	if o.srvCPUs != "" {
		if srv, err = parseCPUList(o.srvCPUs); err != nil {
			return nil, err
		}
		ok = true
	}
	if !ok {
		p.Note = "not pinned: only one CPU is usable, the load generator and the server share it (req/s and CPU/request are still comparable, latency less so)"
		return p, nil
	}
	// The environment variable carries the decision across the exec.
	os.Setenv(pinnedEnv, cpuListString(lg)+";"+cpuListString(srv))
	var s cpuSet
	for _, c := range lg {
		s.set(c)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	runtime.LockOSThread()
	if err := setThreadAffinity(s); err != nil {
		runtime.UnlockOSThread()
		p.Note = fmt.Sprintf("not pinned: sched_setaffinity: %v", err)
		os.Unsetenv(pinnedEnv)
		return p, nil
	}
	err = syscall.Exec(exe, os.Args, os.Environ())
	runtime.UnlockOSThread()
	return nil, fmt.Errorf("re-exec pinned: %w", err)
}

// serverProc is one running server process.
type serverProc struct {
	Name string
	Addr string
	Cmd  *exec.Cmd
	Pid  int
	Info string // the server's "listening on" line
	done chan struct{}
}

func (s *serverProc) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

func (s *serverProc) stop() {
	if s == nil || s.Cmd == nil || s.Cmd.Process == nil {
		return
	}
	if !s.alive() {
		return
	}
	s.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(2 * time.Second):
		s.Cmd.Process.Kill()
		<-s.done
	}
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	l.Close()
	return addr, nil
}

// startServer starts `bench -serve NAME` as its own process, pinned to the
// servers' CPUs, and waits until it accepts connections.
func startServer(name string, p *pinning) (*serverProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"-serve", name, "-addr", addr}
	var cmd *exec.Cmd
	switch {
	case p.Pinned && p.Method == "taskset -c":
		cmd = exec.Command("taskset", append([]string{"-c", cpuListString(p.Server), exe}, args...)...)
	case p.Pinned:
		cmd = exec.Command(exe, append(args, "-cpus", cpuListString(p.Server))...)
	default:
		cmd = exec.Command(exe, args...)
	}
	// The server must not inherit the load generator's pinning marker.
	env := []string{}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, pinnedEnv+"=") {
			env = append(env, e)
		}
	}
	cmd.Env = env
	cmd.Stderr = os.Stderr
	// A server must not outlive the orchestrator, even when it is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &serverProc{Name: name, Addr: addr, Cmd: cmd, Pid: cmd.Process.Pid, done: make(chan struct{})}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "listening on ") {
				select {
				case ready <- l:
				default:
				}
			}
		}
		io.Copy(io.Discard, out)
	}()
	go func() {
		cmd.Wait()
		close(s.done)
	}()
	deadline := time.Now().Add(15 * time.Second)
	select {
	case s.Info = <-ready:
	case <-s.done:
		return nil, fmt.Errorf("server %s exited during start-up", name)
	case <-time.After(time.Until(deadline)):
		s.stop()
		return nil, fmt.Errorf("server %s did not print 'listening on' in time", name)
	}
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return s, nil
		}
		if !s.alive() || time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("server %s does not accept connections on %s: %v", name, addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func raiseNoFile(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur >= want {
		return lim.Cur, nil
	}
	lim.Cur = min(want, lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	return lim.Cur, nil
}

func selectServers(list string) ([]string, error) {
	all := serverNames()
	if strings.TrimSpace(list) == "" {
		return all, nil
	}
	var out []string
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if _, ok := registry[n]; !ok {
			hint := ""
			if strings.HasPrefix(n, "kahttp") {
				hint = " (the kahttp servers need -tags kahttp until the API is merged)"
			}
			return nil, fmt.Errorf("unknown server %q, have %s%s", n, strings.Join(all, ", "), hint)
		}
		out = append(out, n)
	}
	// Keep table order whatever order the flag gave.
	sort.Slice(out, func(i, j int) bool { return registry[out[i]].Order < registry[out[j]].Order })
	return out, nil
}

func benchMain(o *options) error {
	retriesSet := false
	flag.Visit(func(f *flag.Flag) { retriesSet = retriesSet || f.Name == "retries" })
	if o.quick && !retriesSet {
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
	if _, ok := registry["kahttp-inline"]; !ok {
		fmt.Println("note: built without -tags kahttp, so the kahttp servers are not in this run")
	}
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
		rc, err := checkRoutes(procs[n].Addr)
		checks[n] = rc
		if err != nil {
			// Not fatal: the load runs count every wrong answer as an error.
			fmt.Printf("WARNING: server %s answers wrongly: %v\n", n, err)
		}
	}
	printRouteChecks(names, checks)

	run := &Run{
		Date:     time.Now().UTC().Format("2006-01-02 15:04 MST"),
		Command:  o.commandStr,
		Machine:  machine,
		Pinning:  pin.String(),
		Loadgen:  o.loadgen,
		Servers:  names,
		Baseline: baseline,
		Settings: fmt.Sprintf("%d rounds x %v per server per case, warm-up %v, servers interleaved in each round, runs with other load > %.0f%% of a core measured again up to %d times (quietest kept); idle: %d connections", o.rounds, o.duration, o.warmup, o.noisyPct, o.retries, o.idleConns),
		Headers:  headerSummary(names, checks),
	}
	for i := range cases {
		c := &cases[i]
		cr := &CaseResult{Name: c.Name(), Scenario: c.Scenario, Desc: c.Desc, Idle: c.Idle, Conns: c.Spec.Conns, Rounds: map[string][]Sample{}}
		if c.Idle {
			cr.Desc = strings.Replace(c.Desc, "N idle", fmt.Sprintf("%d idle", o.idleConns), 1)
			runIdle(o, pin, names, cr)
		} else {
			runTimed(o, c, names, procs, pin.CPUs(), cr)
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

// runTimed measures one load case: a warm-up per server, then rounds with
// the servers interleaved.
func runTimed(o *options, c *Case, names []string, procs map[string]*serverProc, cpus []int, cr *CaseResult) {
	t0 := time.Now()
	defer func() { fmt.Printf("  (%s took %v)\n", c.Name(), time.Since(t0).Round(10*time.Millisecond)) }()
	fmt.Printf("\n== %s: %s\n", c.Name(), c.Desc)
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
