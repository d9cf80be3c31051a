package main

// Server processes: running one (-serve), pinning the load generator and
// the servers to separate CPUs, starting and stopping them.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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
	if o.serveNoFile > 0 {
		// For the fd-exhaustion fault scenario: set here, in the server's own
		// process, after the Go runtime raised the soft limit at start-up.
		var lim syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return err
		}
		lim.Cur = min(uint64(o.serveNoFile), lim.Max)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return fmt.Errorf("-nofile %d: %w", o.serveNoFile, err)
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
	// SIGTERM and SIGINT drain the server gracefully, as examples/hello
	// does; the line printed afterwards says how it went (the fault mode's
	// shutdown scenario reads it).
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	stop := make(chan struct{})
	var stopAt time.Time
	go func() {
		<-sigs
		stopAt = time.Now()
		// When the drain began, for the shutdown fault scenario.
		fmt.Printf("draining since %d\n", stopAt.UnixNano())
		close(stop)
	}()
	serveUploads = o.uploads
	arenaData = o.arenaData
	serveTLS, serveWS = o.tls, o.wsIdle
	serveTLSCert, serveTLSKey = o.tlsCert, o.tlsKey
	err := def.Run(o.addr, stop)
	select {
	case <-stop:
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Printf("shutdown: %v after %v\n", err, time.Since(stopAt).Round(time.Millisecond))
			return err
		}
		fmt.Printf("shutdown: clean after %v\n", time.Since(stopAt).Round(time.Millisecond))
		return nil
	default:
		if err == nil {
			err = errors.New("server stopped by itself")
		}
		fmt.Printf("stopped: %v\n", err)
		return err
	}
}

// pinning describes how the load generator and the servers were placed.
type pinning struct {
	Pinned    bool
	LoadGen   []int
	Server    []int
	Method    string // how the servers are pinned
	Note      string
	GoMaxProc int
	Split     int // -split N, 0 when not given
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
	split := fmt.Sprintf("split %d+%d", len(p.LoadGen), len(p.Server))
	if p.Split > 0 {
		split += fmt.Sprintf(" (-split %d)", p.Split)
	}
	return fmt.Sprintf("%s: load generator on CPU %s (GOMAXPROCS=%d), servers on CPU %s via %s", split,
		cpuListString(p.LoadGen), p.GoMaxProc, cpuListString(p.Server), p.Method)
}

// setupPinning pins this process (the load generator) and decides the
// servers' CPUs. On first entry it re-executes itself pinned; the decision
// travels in the environment.
func setupPinning(o *options) (*pinning, error) {
	p := &pinning{GoMaxProc: runtime.GOMAXPROCS(0), Split: o.split}
	if o.noPin && o.split > 0 {
		return nil, errors.New("-split and -no-pin contradict each other")
	}
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
	if o.split > 0 {
		if lg, srv, err = splitN(aff.list(), o.split); err != nil {
			return nil, err
		}
	}
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

	mu    sync.Mutex
	lines []string // what the server printed after "listening on" (a few lines)
}

// output is what the server printed to stdout after its "listening on"
// line (e.g. "shutdown: clean after 12ms"), complete once it has exited.
func (s *serverProc) output() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
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
	return startServerArgs(name, p)
}

// startServerArgs is startServer with more -serve flags (e.g. -nofile).
func startServerArgs(name string, p *pinning, extra ...string) (*serverProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	args := append([]string{"-serve", name, "-addr", addr}, extra...)
	return startCommand(name, addr, p, exe, args, true)
}

// startChild starts cmd as a child (asChild) and returns its standard
// output.
func startChild(cmd *exec.Cmd) (io.ReadCloser, error) {
	asChild(cmd)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return out, nil
}

// asChild makes cmd a child of the orchestrator: without the load
// generator's pinning marker (a child pins itself, or inherits the CPUs it
// is started on), with its errors on ours, and killed if we die.
func asChild(cmd *exec.Cmd) {
	env := []string{}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, pinnedEnv+"=") {
			env = append(env, e)
		}
	}
	cmd.Env = env
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// startCommand starts exe with args (which make it listen on addr), pinned
// like a server, and waits until it says "listening on" and accepts
// connections. self says exe is this program (`bench -serve`), which can
// pin itself where there is no taskset; another (examples/arena) cannot.
func startCommand(name, addr string, p *pinning, exe string, args []string, self bool) (*serverProc, error) {
	var cmd *exec.Cmd
	switch {
	case p.Pinned && p.Method == "taskset -c":
		cmd = exec.Command("taskset", append([]string{"-c", cpuListString(p.Server), exe}, args...)...)
	case p.Pinned && !self:
		return nil, fmt.Errorf("%s: pinning a program other than bench needs taskset (util-linux)", name)
	case p.Pinned:
		cmd = exec.Command(exe, append(args, "-cpus", cpuListString(p.Server))...)
	default:
		cmd = exec.Command(exe, args...)
	}
	out, err := startChild(cmd)
	if err != nil {
		return nil, err
	}
	s := &serverProc{Name: name, Addr: addr, Cmd: cmd, Pid: cmd.Process.Pid, done: make(chan struct{})}
	ready := make(chan string, 1)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(out)
		listening := false
		for sc.Scan() {
			l := sc.Text()
			if !listening && strings.HasPrefix(l, "listening on ") {
				listening = true
				ready <- l
				continue
			}
			s.mu.Lock()
			if len(s.lines) < 16 {
				s.lines = append(s.lines, l)
			}
			s.mu.Unlock()
		}
		io.Copy(io.Discard, out)
	}()
	go func() {
		<-readDone // Wait closes the pipe: read it to the end first
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
		var out []string
		for _, n := range all {
			if !registry[n].Arena {
				out = append(out, n)
			}
		}
		return out, nil
	}
	var out []string
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if _, ok := registry[n]; !ok {
			return nil, fmt.Errorf("unknown server %q, have %s", n, strings.Join(all, ", "))
		}
		out = append(out, n)
	}
	// Keep table order whatever order the flag gave.
	sort.Slice(out, func(i, j int) bool { return registry[out[i]].Order < registry[out[j]].Order })
	return out, nil
}
