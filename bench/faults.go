package main

// The fault mode, `go run . -faults`: scenarios that check how a server
// behaves when clients misbehave or things run out, rather than how fast it
// is. Every scenario is bounded in count and time, talks only to 127.0.0.1,
// starts each server as its own process (pinned like the benchmark's) and
// gives one row per server with its figures and a verdict. The scenarios
// live in faults_*.go, one per file.

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// faultScenario is one fault scenario. Run measures one server, starting
// the server processes it needs itself, and must stop them before it
// returns.
type faultScenario struct {
	Name string
	Desc string
	Run  func(fx *faultEnv, server string, v *verdict) string // returns the figures
}

// faultScenarios lists the scenarios in the order they run.
func faultScenarios() []faultScenario {
	return []faultScenario{
		streamScenario(),
		noisyScenario(),
		floodScenario(),
		slowlorisScenario(),
		fdLimitScenario(),
		resetScenario(),
		shutdownScenario(),
		burstScenario(),
	}
}

// defaultFaultServers are the servers -faults checks unless -servers says
// otherwise: kahttp in both modes and the net/http baseline.
var defaultFaultServers = []string{"kahttp-inline", "kahttp-pool", "nethttp"}

// faultRow is one row of the fault table.
type faultRow struct {
	Scenario string
	Server   string
	Figures  string
	Verdict  string
	Took     time.Duration
}

// verdict collects why a row fails; no reason means ok.
type verdict struct {
	fails []string
	skip  string
}

func (v *verdict) failf(format string, args ...any) {
	v.fails = append(v.fails, fmt.Sprintf(format, args...))
}

func (v *verdict) skipf(format string, args ...any) { v.skip = fmt.Sprintf(format, args...) }

func (v *verdict) String() string {
	switch {
	case len(v.fails) > 0:
		return "FAIL: " + strings.Join(v.fails, "; ")
	case v.skip != "":
		return "skip: " + v.skip
	}
	return "ok"
}

// faultEnv is what the scenarios share: the pinning, and the server
// processes running now (stopped on Ctrl-C).
type faultEnv struct {
	pin   *pinning
	mu    sync.Mutex
	procs map[*serverProc]bool
}

// newFaultEnv is an empty environment whose servers are stopped, and the
// program ended, on Ctrl-C or SIGTERM. The caller defers stopAll.
func newFaultEnv(pin *pinning) *faultEnv {
	fx := &faultEnv{pin: pin, procs: map[*serverProc]bool{}}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		fmt.Fprintf(os.Stderr, "\nbench: %v: stopping the servers\n", sig)
		fx.stopAll()
		os.Exit(130)
	}()
	return fx
}

// start starts a fresh server process (with extra -serve flags).
func (fx *faultEnv) start(name string, extra ...string) (*serverProc, error) {
	p, err := startServerArgs(name, fx.pin, extra...)
	if err != nil {
		return nil, err
	}
	fx.mu.Lock()
	fx.procs[p] = true
	fx.mu.Unlock()
	return p, nil
}

// stop stops p (SIGTERM, then SIGKILL after 2 s) and forgets it.
func (fx *faultEnv) stop(p *serverProc) {
	if p == nil {
		return
	}
	p.stop()
	fx.mu.Lock()
	delete(fx.procs, p)
	fx.mu.Unlock()
}

func (fx *faultEnv) stopAll() {
	fx.mu.Lock()
	defer fx.mu.Unlock()
	for p := range fx.procs {
		p.stop()
	}
}

// checkAlive fails v when p has exited, with what it printed.
func checkAlive(p *serverProc, v *verdict) bool {
	if p.alive() {
		return true
	}
	out := strings.Join(p.output(), " | ")
	if out == "" {
		out = "no output"
	}
	v.failf("server process exited (%s)", out)
	return false
}

func selectFaultScenarios(list string) ([]faultScenario, error) {
	all := faultScenarios()
	if strings.TrimSpace(list) == "" {
		return all, nil
	}
	want := map[string]bool{}
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		found := false
		for _, s := range all {
			found = found || s.Name == n
		}
		if !found {
			var names []string
			for _, s := range all {
				names = append(names, s.Name)
			}
			return nil, fmt.Errorf("unknown fault scenario %q, have %s", n, strings.Join(names, ", "))
		}
		want[n] = true
	}
	var out []faultScenario
	for _, s := range all {
		if want[s.Name] {
			out = append(out, s)
		}
	}
	return out, nil
}

// serversOrDefault is the -servers list, or without one the defaults that
// this binary has (the -faults and -uploads modes).
func serversOrDefault(list string, defaults []string) ([]string, error) {
	if strings.TrimSpace(list) != "" {
		return selectServers(list)
	}
	var names []string
	for _, n := range defaults {
		if _, ok := registry[n]; ok {
			names = append(names, n)
		}
	}
	return names, nil
}

// modeServers is the servers a mode (-faults, -uploads, -tls, -ws-idle)
// runs: serversOrDefault's; noFastHTTP, if set, is why that mode cannot
// run fasthttp, and a server that answers only some routes (gnet-floor) is
// refused.
func modeServers(list string, defaults []string, mode, noFastHTTP string) ([]string, error) {
	names, err := serversOrDefault(list, defaults)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if n == "fasthttp" && noFastHTTP != "" {
			return nil, errors.New(mode + ": " + noFastHTTP)
		}
		if d := registry[n]; d.Routes != nil {
			return nil, fmt.Errorf("%s: %s answers only %s", mode, n, strings.Join(d.Routes, ", "))
		}
	}
	if len(names) == 0 {
		return nil, errors.New(mode + ": no servers to measure")
	}
	return names, nil
}

// startRun prints the machine and the pinning a mode runs on, and returns
// when it started and the machine, for its report.
func startRun(pin *pinning) (time.Time, Machine) {
	machine := describeMachine()
	fmt.Println("machine:", machine.String())
	fmt.Println("pinning:", pin.String())
	return time.Now(), machine
}

// faultsMain runs `bench -faults`.
func faultsMain(o *options) error {
	scens, err := selectFaultScenarios(o.scenarios)
	if err != nil {
		return err
	}
	names, err := modeServers(o.servers, defaultFaultServers, "-faults", "")
	if err != nil {
		return err
	}
	pin, err := setupPinning(o) // may re-execute this program
	if err != nil {
		return err
	}
	start, machine := startRun(pin)
	if n, err := raiseNoFile(8192); err != nil || n < 4096 {
		fmt.Printf("RLIMIT_NOFILE %d (%v): the scenarios need about 1,000 descriptors\n", n, err)
	}
	fmt.Printf("fault scenarios: servers %s\n", strings.Join(names, ", "))

	fx := newFaultEnv(pin)
	defer fx.stopAll()

	var rows []faultRow
	for _, sc := range scens {
		fmt.Printf("\n== %s: %s\n", sc.Name, sc.Desc)
		for _, n := range names {
			t0 := time.Now()
			var v verdict
			figs := sc.Run(fx, n, &v)
			r := faultRow{Scenario: sc.Name, Server: n, Figures: figs, Verdict: v.String(), Took: time.Since(t0)}
			rows = append(rows, r)
			fmt.Printf("  %-14s %s\n  %-14s -> %s (%.1fs)\n", n, figs, "", r.Verdict, r.Took.Seconds())
		}
	}
	rep := &faultReport{runHeader: newRunHeader(o, machine, pin, start), Rows: rows, Scens: scens}
	md := rep.Markdown()
	fmt.Printf("\nfinished in %s\n\n%s", rep.Elapsed, md)
	if o.outDir != "" {
		if err := os.MkdirAll(o.outDir, 0o755); err != nil {
			return err
		}
		path := filepath.Join(o.outDir, "faults.md")
		if err := writeFileAtomic(path, []byte(md)); err != nil {
			return err
		}
		fmt.Println("wrote", path)
	}
	return nil
}
