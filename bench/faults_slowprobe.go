package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The slowloris scenario's probes run in a process of their own
// (`bench -slow-probe ADDR`), on the load generator's CPUs. In the
// orchestrator they shared one Go scheduler with the 2,000 slow clients'
// goroutines and timers, and a probe's answer then waited for a turn on
// the client's side: that queueing, not the server's, was much of the
// tail measured (net/http's p99 went up 2.5–3× that way; 1.2–2.2× now).
// A separate process is woken by the kernel when its answer arrives, as a
// real client on another machine would be.

// probeSample is one probe request: which probe, when it began, how long
// it took, and its error ("" when it succeeded).
type probeSample struct {
	probe string // "fresh" (a new connection) or "kept" (a kept-alive one)
	at    time.Time
	took  time.Duration
	err   string
}

// slowProbeMain is the child: both probes, each every slowProbeEvery on
// average, until it gets SIGINT; one line per request on standard output.
func slowProbeMain(addr string) error {
	keep, err := dialKeep(addr, 2*time.Second)
	if err != nil {
		return fmt.Errorf("probe connection: %w", err)
	}
	defer keep.c.Close()
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	report := func(probe string, t0 time.Time, d time.Duration, err error) {
		msg := "-"
		if err != nil {
			msg = strings.ReplaceAll(err.Error(), "\n", " ")
		}
		mu.Lock()
		fmt.Fprintf(out, "%s %d %d %s\n", probe, t0.UnixNano(), d.Nanoseconds(), msg)
		mu.Unlock()
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	stop := ctx.Done()
	var wg sync.WaitGroup
	every := func(get func() (time.Duration, error), probe string) {
		defer wg.Done()
		// Poisson arrivals, not a ticker: two probes on one period stay in
		// one phase, and each then measures where the other left the
		// server (a new connection always landing just after the kept-alive
		// request had gone, say) instead of a random moment.
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(len(probe))))
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(rng.ExpFloat64() * float64(slowProbeEvery))):
			}
			t0 := time.Now()
			d, err := get()
			report(probe, t0, d, err)
		}
	}
	wg.Add(2)
	go every(func() (time.Duration, error) { return getPlainOK(addr, 2*time.Second) }, "fresh")
	go every(func() (time.Duration, error) {
		t0 := time.Now()
		status, ok, err := keep.get("/plaintext", 2*time.Second)
		if err == nil && (status != 200 || !ok) {
			err = fmt.Errorf("kept-alive: status %d, kept %v", status, ok)
		}
		return time.Since(t0), err
	}, "kept")
	wg.Wait()
	return out.Flush()
}

// probeProc is the orchestrator's handle on the probe process.
type probeProc struct {
	cmd  *exec.Cmd
	read chan []probeSample // the samples, once the child has ended
}

// startSlowProbes starts `bench -slow-probe addr` on this process's CPUs.
func startSlowProbes(addr string) (*probeProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-slow-probe", addr)
	out, err := startChild(cmd)
	if err != nil {
		return nil, err
	}
	p := &probeProc{cmd: cmd, read: make(chan []probeSample, 1)}
	go func() {
		var samples []probeSample
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if s, ok := parseProbeSample(sc.Text()); ok {
				samples = append(samples, s)
			}
		}
		p.read <- samples
	}()
	return p, nil
}

// stop ends the probes and returns what they measured.
func (p *probeProc) stop() ([]probeSample, error) {
	_ = p.cmd.Process.Signal(os.Interrupt)
	samples := <-p.read
	return samples, p.cmd.Wait()
}

func parseProbeSample(line string) (probeSample, bool) {
	f := strings.SplitN(line, " ", 4)
	if len(f) != 4 {
		return probeSample{}, false
	}
	at, err1 := strconv.ParseInt(f[1], 10, 64)
	took, err2 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil {
		return probeSample{}, false
	}
	s := probeSample{probe: f[0], at: time.Unix(0, at), took: time.Duration(took)}
	if f[3] != "-" {
		s.err = f[3]
	}
	return s, true
}
