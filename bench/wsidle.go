package main

// The idle WebSocket comparison, `go run . -ws-idle`: the
// server's RSS per idle WebSocket connection, kahttp (GET /ws through
// nethttp.Wrap to gorilla/websocket's Upgrader; the connection is hijacked
// and runs on a goroutine of its own) against the same handler on net/http.
// Every round starts a fresh `bench -serve NAME -ws-idle` process per
// server (pinned like the benchmark's), makes one warm-up connection
// (echo, close), reads VmRSS, opens N connections with gorilla's Dialer
// (each sends one message and reads the echo), lets them sit
// wsIdleSettle, reads VmRSS again and stops the server. Per connection:
// the difference over N. Writes results/ws-idle.md.

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

const (
	wsIdleDefaultConns = 1000
	wsIdleSettle       = time.Second
	wsIdleRounds       = 3
	wsIdleBudget       = 60 * time.Second // no round starts after this
	wsDialers          = 50               // connections opened at once
)

// wsEchoHandler is gorilla/websocket's echo: Upgrade, then
// ReadMessage/WriteMessage until the connection ends.
func wsEchoHandler() http.Handler {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade answered the error
		}
		defer c.Close()
		for {
			kind, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(kind, msg); err != nil {
				return
			}
		}
	})
}

// wsEcho dials addr's /ws, sends msg and checks the echo; the connection
// stays open.
func wsEcho(addr, msg string) (*websocket.Conn, error) {
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	c, _, err := d.Dial("ws://"+addr+"/ws", nil)
	if err != nil {
		return nil, err
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		c.Close()
		return nil, err
	}
	kind, got, err := c.ReadMessage()
	if err == nil && (kind != websocket.TextMessage || string(got) != msg) {
		err = fmt.Errorf("echo %q, sent %q", got, msg)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	c.SetReadDeadline(time.Time{})
	return c, nil
}

// openWS opens n echoing connections, wsDialers at a time.
func openWS(addr string, n int) ([]*websocket.Conn, error) {
	conns := make([]*websocket.Conn, n)
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(wsDialers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				conns[i], errs[i] = wsEcho(addr, fmt.Sprintf("hello %d", i))
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return conns, errors.Join(errs...)
}

func closeWS(conns []*websocket.Conn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// wsIdleRun is one round against one server.
type wsIdleRun struct {
	Round         int
	Conns         int // connections open and echoed
	Before, After int64
	Threads       int64 // the server's threads with the connections open
	Err           string
}

// perConn is the RSS growth per connection in bytes (NaN without any).
func (r wsIdleRun) perConn() float64 { return rssPerConn(r.Before, r.After, r.Conns) }

func rssPerConn(before, after int64, n int) float64 {
	if n <= 0 {
		return math.NaN()
	}
	return float64(after-before) / float64(n)
}

func (r wsIdleRun) String() string {
	s := fmt.Sprintf("%5d conns  RSS %s -> %s  %6.1f KiB/conn  threads %d", r.Conns, fmtMiB(r.Before), fmtMiB(r.After), r.perConn()/1024, r.Threads)
	if r.Err != "" {
		s += "  ERROR: " + r.Err
	}
	return s
}

// measureWSIdle runs one round against a fresh server process.
func measureWSIdle(fx *faultEnv, name string, n int) wsIdleRun {
	var run wsIdleRun
	p, err := fx.start(name, "-ws-idle")
	if err != nil {
		run.Err = err.Error()
		return run
	}
	defer fx.stop(p)
	// One connection first, closed again: the first upgrade's one-time
	// costs (code pages, pools) are not the idle connections'.
	c, err := wsEcho(p.Addr, "warm-up")
	if err != nil {
		run.Err = "warm-up: " + err.Error()
		return run
	}
	c.Close()
	time.Sleep(200 * time.Millisecond)
	run.Before, _ = procStatusBytes(p.Pid, "VmRSS")
	conns, err := openWS(p.Addr, n)
	defer closeWS(conns)
	for _, c := range conns {
		if c != nil {
			run.Conns++
		}
	}
	if err != nil {
		run.Err = fmt.Sprintf("%d of %d connections failed: %v", n-run.Conns, n, firstLine(err.Error()))
	}
	time.Sleep(wsIdleSettle)
	run.After, _ = procStatusBytes(p.Pid, "VmRSS")
	run.Threads, _ = procStatusCount(p.Pid, "Threads")
	if !p.alive() {
		run.Err = "server exited"
	}
	return run
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// procStatusCount reads a plain number field of /proc/PID/status.
func procStatusCount(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			var v int64
			_, err := fmt.Sscan(strings.TrimSpace(rest), &v)
			return v, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// wsIdleMain runs `bench -ws-idle`.
func wsIdleMain(o *options) error {
	names, err := modeServers(o.servers, defaultTLSServers, "-ws-idle",
		"the fasthttp server has no /ws route; compare kahttp-* and nethttp")
	if err != nil {
		return err
	}
	n := o.idleConns
	if n <= 0 {
		n = wsIdleDefaultConns
	}
	rounds := wsIdleRounds
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "rounds" {
			rounds = o.rounds
		}
	})
	if rounds < 1 {
		return errors.New("-rounds must be >= 1")
	}
	pin, err := setupPinning(o) // may re-execute this program
	if err != nil {
		return err
	}
	if lim, err := raiseNoFile(uint64(n) + 1024); err != nil {
		return fmt.Errorf("RLIMIT_NOFILE: %w", err)
	} else if lim < uint64(n)+64 {
		n = int(lim - 64)
		fmt.Printf("RLIMIT_NOFILE is %d: opening only %d connections\n", lim, n)
	}
	start, machine := startRun(pin)
	fmt.Printf("idle WebSocket: servers %s; %d connections, %d rounds, a fresh process per server and round\n", strings.Join(names, ", "), n, rounds)

	fx := newFaultEnv(pin)
	defer fx.stopAll()
	runs := map[string][]wsIdleRun{}
	for r := 1; r <= rounds; r++ {
		if r > 1 && time.Since(start) > wsIdleBudget {
			fmt.Printf("  stopped after %d rounds: time bound %v\n", r-1, wsIdleBudget)
			break
		}
		for _, name := range names {
			run := measureWSIdle(fx, name, n)
			run.Round = r
			fmt.Printf("  round %d  %-14s %s\n", r, name, run.String())
			runs[name] = append(runs[name], run)
		}
	}
	rep := &wsIdleReport{runHeader: newRunHeader(o, machine, pin, start), Conns: n, Rows: summarizeWSIdle(names, runs)}
	md := rep.Markdown()
	fmt.Printf("\nfinished in %s\n\n%s", rep.Elapsed, md)
	return writeResult(o.outDir, "ws-idle.md", md)
}

// wsIdleRow is one server's summary: medians over its complete rounds.
type wsIdleRow struct {
	Server           string
	Runs, Bad        int
	FirstErr         string
	Before, After    float64 // bytes
	PerConn          float64 // bytes
	Threads          float64
	Ratio            float64 // median per-round ratio of PerConn to the baseline's
	RatioLo, RatioHi float64
}

func summarizeWSIdle(names []string, runs map[string][]wsIdleRun) []wsIdleRow {
	base := map[int]wsIdleRun{}
	for _, r := range runs[baseline] {
		if r.Err == "" {
			base[r.Round] = r
		}
	}
	var rows []wsIdleRow
	for _, n := range names {
		row := wsIdleRow{Server: n, Runs: len(runs[n])}
		var before, after, per, threads, ratios []float64
		for _, r := range runs[n] {
			if r.Err != "" {
				row.Bad++
				if row.FirstErr == "" {
					row.FirstErr = r.Err
				}
				continue
			}
			before = append(before, float64(r.Before))
			after = append(after, float64(r.After))
			per = append(per, r.perConn())
			threads = append(threads, float64(r.Threads))
			if b, ok := base[r.Round]; ok && b.perConn() > 0 {
				ratios = append(ratios, r.perConn()/b.perConn())
			}
		}
		row.Before, row.After = quantile(before, 0.5), quantile(after, 0.5)
		row.PerConn, row.Threads = quantile(per, 0.5), quantile(threads, 0.5)
		row.Ratio, row.RatioLo, row.RatioHi = quantile(ratios, 0.5), quantile(ratios, 0), quantile(ratios, 1)
		rows = append(rows, row)
	}
	return rows
}

type wsIdleReport struct {
	runHeader
	Conns int
	Rows  []wsIdleRow
}

func (r *wsIdleReport) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Idle WebSocket connections: server RSS per connection\n\n")
	r.runHeader.markdown(&b)
	fmt.Fprintf(&b, "%d WebSocket connections to GET /ws (gorilla/websocket v1.5.3's Upgrader echoing; kahttp through nethttp.Wrap, which hijacks the connection onto a goroutine of its own, net/http on http.Server), opened with gorilla's Dialer, each sending one message and reading its echo, then idle for %v. A fresh server process per server and round, one warm-up connection (opened and closed) before the first VmRSS reading. RSS/conn is (VmRSS with the connections open - VmRSS before) / connections; medians over the rounds; the ratio is the median of the per-round ratios to %s's, with its range.\n\n", r.Conns, wsIdleSettle, baseline)
	b.WriteString("| server | rounds | RSS before | RSS with the connections | RSS/conn | ratio to net/http | threads |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")
	for _, row := range r.Rows {
		runs := fmt.Sprintf("%d", row.Runs)
		if row.Bad > 0 {
			runs += fmt.Sprintf(" (%d failed: %s)", row.Bad, row.FirstErr)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", row.Server, runs,
			fmtMiBf(row.Before), fmtMiBf(row.After), fmtKiBf(row.PerConn),
			fmtRatioRange(row.Ratio, row.RatioLo, row.RatioHi), fmtNum(row.Threads, 0))
	}
	return b.String()
}
