package main

// The TLS keep-alive comparison, `go run . -tls`: the server's
// CPU per request over TLS, kahttp (Serve on tls.NewListener with
// kahttp.TLSConfig, a goroutine per connection) against net/http
// (http.Server.Serve on the same kind of listener, the same certificate and
// tls.Config), in the same run. The servers are fresh `bench -serve NAME
// -tls` processes, pinned like the benchmark's; the load is Go's
// crypto/tls client in this process: tlsConns keep-alive connections, each
// looping GET /plaintext, every answer checked. The handshakes happen
// before each measured run (one request per connection), so the run
// measures requests only. Rounds interleave the servers. Writes
// results/tls.md.

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kahttp/kahttp"
)

const (
	tlsConns        = 32                     // keep-alive connections per run
	tlsDefaultRun   = 2 * time.Second        // one measured run, unless -duration
	tlsWarmup       = 500 * time.Millisecond // per server, before the rounds
	tlsBudget       = 60 * time.Second       // no round starts after this
	tlsIOSlack      = 5 * time.Second        // read/write deadline past a run's end
	tlsDefaultRound = 3
)

// defaultTLSServers are the servers -tls and -ws-idle compare unless
// -servers says otherwise.
var defaultTLSServers = []string{"kahttp-pool", "nethttp"}

// Set by `bench -serve NAME -tls` / `-ws-idle` (serveMain).
var (
	serveTLS     bool   // serve over TLS
	serveWS      bool   // add GET /ws (wsEchoHandler)
	serveTLSCert string // -tls-cert: PEM files; empty: a fresh self-signed certificate
	serveTLSKey  string
)

// serveTLSConfig is the tls.Config both servers serve with: kahttp.TLSConfig
// with the -tls-cert/-tls-key pair, or a fresh self-signed certificate.
func serveTLSConfig() (*tls.Config, error) {
	var cert tls.Certificate
	var err error
	if serveTLSCert != "" || serveTLSKey != "" {
		cert, err = tls.LoadX509KeyPair(serveTLSCert, serveTLSKey)
	} else {
		cert, _, err = kahttp.SelfSignedCert("127.0.0.1")
	}
	if err != nil {
		return nil, err
	}
	return kahttp.TLSConfig(cert), nil
}

// runCert makes a run's certificate: the flags that serve it (-tls with
// its files) and the client's configuration that trusts it; cleanup
// removes the files.
func runCert() (serverArgs []string, client *tls.Config, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "bench-tls-")
	if err != nil {
		return nil, nil, nil, err
	}
	certFile, keyFile, pool, err := writeSelfSigned(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, nil, err
	}
	client = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{"http/1.1"}}
	return []string{"-tls", "-tls-cert", certFile, "-tls-key", keyFile}, client, func() { _ = os.RemoveAll(dir) }, nil
}

// writeSelfSigned makes one certificate for 127.0.0.1 with
// kahttp.SelfSignedCert and writes it and its key to dir, for every server
// of the run; the pool trusts it (the client verifies the chain).
func writeSelfSigned(dir string) (certFile, keyFile string, pool *x509.CertPool, err error) {
	cert, certPEM, err := kahttp.SelfSignedCert("127.0.0.1")
	if err != nil {
		return "", "", nil, err
	}
	key, ok := cert.PrivateKey.(*ecdsa.PrivateKey)
	if !ok {
		return "", "", nil, fmt.Errorf("unexpected key type %T", cert.PrivateKey)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", nil, err
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		return "", "", nil, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return "", "", nil, err
	}
	pool = x509.NewCertPool()
	if !pool.AppendCertsFromPEM(certPEM) {
		return "", "", nil, errors.New("the self-signed certificate does not parse")
	}
	return certFile, keyFile, pool, nil
}

// tlsRun is one measured run against one server.
type tlsRun struct {
	Round    int
	OK       int64
	Errors   int64
	FirstErr string
	Seconds  float64
	CPU      float64 // the server's CPU seconds during the run
	Other    float64 // CPU seconds of other work on the benchmark's CPUs
	P50, P99 float64 // µs
}

func (r tlsRun) rps() float64 {
	if r.Seconds <= 0 {
		return 0
	}
	return float64(r.OK) / r.Seconds
}

// cpuUS is the server's CPU per request in µs (0 without requests).
func (r tlsRun) cpuUS() float64 {
	if r.OK == 0 {
		return 0
	}
	return r.CPU * 1e6 / float64(r.OK)
}

func (r tlsRun) ok() bool { return r.OK > 0 && r.Errors == 0 }

func (r tlsRun) String() string {
	s := fmt.Sprintf("%9.0f req/s  CPU %6.2f µs/req  p50 %6.0f µs  p99 %6.0f µs  other %3.0f%%",
		r.rps(), r.cpuUS(), r.P50, r.P99, pct(r.Other, r.Seconds))
	if r.Errors > 0 {
		s += fmt.Sprintf("  %d ERRORS (first: %s)", r.Errors, r.FirstErr)
	}
	return s
}

// tlsClientConn is one keep-alive TLS connection of the load.
type tlsClientConn struct {
	c  *tls.Conn
	br *bufio.Reader
}

var plaintextReq = []byte("GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")

// get makes one request and checks the answer.
func (cc *tlsClientConn) get() error {
	if _, err := cc.c.Write(plaintextReq); err != nil {
		return err
	}
	resp, err := http.ReadResponse(cc.br, nil)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 || string(body) != helloBody {
		return fmt.Errorf("answer %d %q", resp.StatusCode, body)
	}
	return nil
}

// openTLSConns dials n connections, handshakes and makes one request on
// each, so that a run measures keep-alive requests only.
func openTLSConns(addr string, cfg *tls.Config, n int) ([]*tlsClientConn, error) {
	conns := make([]*tlsClientConn, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := &net.Dialer{Timeout: 5 * time.Second}
			c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
			if err != nil {
				errs[i] = err
				return
			}
			c.SetDeadline(time.Now().Add(tlsIOSlack))
			cc := &tlsClientConn{c: c, br: bufio.NewReader(c)}
			if err := cc.get(); err != nil {
				c.Close()
				errs[i] = err
				return
			}
			conns[i] = cc
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		closeTLSConns(conns)
		return nil, err
	}
	return conns, nil
}

func closeTLSConns(conns []*tlsClientConn) {
	for _, cc := range conns {
		if cc != nil {
			cc.c.Close()
		}
	}
}

// loadTLS loops GET /plaintext on every connection for d (at most maxReq
// requests in all); a connection stops at its first error.
func loadTLS(conns []*tlsClientConn, d time.Duration, maxReq int64) (ok, bad int64, firstErr string, elapsed time.Duration, h *Histogram) {
	var total, okN, badN atomic.Int64
	var errOnce sync.Once
	hists := make([]Histogram, len(conns))
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i, cc := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cc.c.SetDeadline(deadline.Add(tlsIOSlack))
			for time.Now().Before(deadline) && total.Add(1) <= maxReq {
				t0 := time.Now()
				if err := cc.get(); err != nil {
					badN.Add(1)
					errOnce.Do(func() { firstErr = err.Error() })
					return
				}
				hists[i].Record(time.Since(t0))
				okN.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed = time.Since(start)
	h = new(Histogram)
	for i := range hists {
		h.Merge(&hists[i])
	}
	return okN.Load(), badN.Load(), firstErr, elapsed, h
}

// measureTLS makes one run against p: fresh connections (handshakes before
// the readings), then the load with the server's CPU read around it.
func measureTLS(p *serverProc, cfg *tls.Config, d time.Duration, maxReq int64, cpus []int) tlsRun {
	var run tlsRun
	conns, err := openTLSConns(p.Addr, cfg, tlsConns)
	if err != nil {
		run.Errors, run.FirstErr = 1, "connecting: "+err.Error()
		return run
	}
	defer closeTLSConns(conns)
	soft := ksoftirqdPids(cpus)
	soft0 := sumCPU(soft)
	busy0, irq0, _ := cpuBusy(cpus)
	self0, _ := procCPU(os.Getpid())
	cpu0, err := procCPU(p.Pid)
	if err != nil {
		run.Errors, run.FirstErr = 1, err.Error()
		return run
	}
	ok, bad, firstErr, elapsed, h := loadTLS(conns, d, maxReq)
	cpu1, err := procCPU(p.Pid)
	if err != nil {
		run.Errors, run.FirstErr = 1, fmt.Sprintf("server %s: %v (did it crash?)", p.Name, err)
		return run
	}
	self1, _ := procCPU(os.Getpid())
	busy1, irq1, _ := cpuBusy(cpus)
	soft1 := sumCPU(soft)
	run.OK, run.Errors, run.FirstErr = ok, bad, firstErr
	run.Seconds = elapsed.Seconds()
	run.CPU = (cpu1 - cpu0).Seconds()
	if other := (busy1 + irq1 - busy0 - irq0) - (cpu1 - cpu0) - (self1 - self0) - (soft1 - soft0); other > 0 {
		run.Other = other.Seconds()
	}
	run.P50, run.P99 = durUS(h.Quantile(0.50)), durUS(h.Quantile(0.99))
	return run
}

// tlsMain runs `bench -tls`.
func tlsMain(o *options) error {
	names, err := modeServers(o.servers, defaultTLSServers, "-tls",
		"fasthttp has no TLS server in this harness; compare kahttp-* and nethttp")
	if err != nil {
		return err
	}
	d := o.duration
	if d <= 0 {
		d = tlsDefaultRun
	}
	rounds := o.rounds
	if rounds < 1 {
		return errors.New("-rounds must be >= 1")
	}
	pin, err := setupPinning(o) // may re-execute this program
	if err != nil {
		return err
	}
	start, machine := startRun(pin)
	fmt.Printf("TLS keep-alive: servers %s; %d connections, %d rounds x %v, baseline %s\n", strings.Join(names, ", "), tlsConns, rounds, d, baseline)

	serverArgs, clientCfg, cleanup, err := runCert()
	if err != nil {
		return err
	}
	defer cleanup()

	fx := newFaultEnv(pin)
	defer fx.stopAll()
	procs := map[string]*serverProc{}
	for _, n := range names {
		p, err := fx.start(n, serverArgs...)
		if err != nil {
			return err
		}
		procs[n] = p
		fmt.Printf("  %-14s pid %-7d %s\n", n, p.Pid, p.Info)
	}
	cpus := pin.CPUs()
	for _, n := range names {
		w := measureTLS(procs[n], clientCfg, tlsWarmup, o.maxReq, cpus)
		fmt.Printf("  warm-up  %-14s %s\n", n, w.String())
		if !w.ok() {
			return fmt.Errorf("%s over TLS: %s", n, w.FirstErr)
		}
	}
	runs := map[string][]tlsRun{}
	for r := 1; r <= rounds; r++ {
		if r > 1 && time.Since(start) > tlsBudget {
			fmt.Printf("  stopped after %d rounds: time bound %v\n", r-1, tlsBudget)
			break
		}
		for _, n := range names {
			// Like the benchmark: a run that other work on the benchmark's
			// CPUs disturbed is measured again (-noisy, -retries), the
			// quietest kept.
			var best tlsRun
			for try := 0; ; try++ {
				run := measureTLS(procs[n], clientCfg, d, o.maxReq, cpus)
				run.Round = r
				fmt.Printf("  round %d  %-14s %s\n", r, n, run.String())
				if try == 0 || run.ok() && run.Other < best.Other {
					best = run
				}
				if !run.ok() || pct(run.Other, run.Seconds) <= o.noisyPct || try >= o.retries || time.Since(start) > tlsBudget {
					break
				}
				fmt.Printf("           %-14s other load %.0f%% > %.0f%%: measuring again\n", "", pct(run.Other, run.Seconds), o.noisyPct)
			}
			runs[n] = append(runs[n], best)
		}
	}
	rep := &tlsReport{runHeader: newRunHeader(o, machine, pin, start), Conns: tlsConns, Run: d, Rows: summarizeTLS(names, runs)}
	md := rep.Markdown()
	fmt.Printf("\nfinished in %s\n\n%s", rep.Elapsed, md)
	return writeResult(o.outDir, "tls.md", md)
}

// writeResult writes md to dir/name (nothing for an empty dir).
func writeResult(dir, name, md string) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(dir, name)
	if err := writeFileAtomic(path, []byte(md)); err != nil {
		return err
	}
	fmt.Println("wrote", path)
	return nil
}

// tlsRow is one server's summary: medians over its correct runs, and the
// median of the per-round ratios of its CPU per request to the baseline's.
type tlsRow struct {
	Server             string
	Runs, Bad          int
	RPS, CPUUS         float64
	P50, P99           float64
	Ratio              float64 // NaN: no baseline round to compare with
	RatioLo, RatioHi   float64 // the spread of the per-round ratios
	MaxOther, Requests float64
}

func summarizeTLS(names []string, runs map[string][]tlsRun) []tlsRow {
	base := map[int]tlsRun{}
	for _, r := range runs[baseline] {
		if r.ok() {
			base[r.Round] = r
		}
	}
	var rows []tlsRow
	for _, n := range names {
		row := tlsRow{Server: n, Runs: len(runs[n])}
		var rps, cpu, p50, p99, ratios []float64
		for _, r := range runs[n] {
			if !r.ok() {
				row.Bad++
				continue
			}
			rps = append(rps, r.rps())
			cpu = append(cpu, r.cpuUS())
			p50 = append(p50, r.P50)
			p99 = append(p99, r.P99)
			row.MaxOther = max(row.MaxOther, pct(r.Other, r.Seconds))
			row.Requests += float64(r.OK)
			if b, ok := base[r.Round]; ok && b.cpuUS() > 0 {
				ratios = append(ratios, r.cpuUS()/b.cpuUS())
			}
		}
		row.RPS, row.CPUUS = quantile(rps, 0.5), quantile(cpu, 0.5)
		row.P50, row.P99 = quantile(p50, 0.5), quantile(p99, 0.5)
		row.Ratio, row.RatioLo, row.RatioHi = quantile(ratios, 0.5), quantile(ratios, 0), quantile(ratios, 1)
		rows = append(rows, row)
	}
	return rows
}

type tlsReport struct {
	runHeader
	Conns int
	Run   time.Duration
	Rows  []tlsRow
}

func (r *tlsReport) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# TLS keep-alive: server CPU per request\n\n")
	r.runHeader.markdown(&b)
	fmt.Fprintf(&b, "%d keep-alive TLS connections (Go's crypto/tls client, certificate from kahttp.SelfSignedCert, verified), each looping GET /plaintext for %v per run; handshakes happen before each run and are not measured. Servers are fresh `-serve NAME -tls` processes with the same certificate and kahttp.TLSConfig; rounds interleave them, and a run with other load on the benchmark's CPUs over -noisy is measured again (up to -retries times, the quietest kept). Figures are medians over the rounds; the ratio is the median of the per-round ratios of CPU per request to %s's, with its range.\n\n", r.Conns, r.Run, baseline)
	b.WriteString("| server | rounds | req/s | server CPU µs/req | CPU ratio to net/http | p50 µs | p99 µs | max other load |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, row := range r.Rows {
		runs := fmt.Sprintf("%d", row.Runs)
		if row.Bad > 0 {
			runs += fmt.Sprintf(" (%d failed)", row.Bad)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %.0f%% |\n", row.Server, runs,
			fmtNum(row.RPS, 0), fmtNum(row.CPUUS, 2), fmtRatioRange(row.Ratio, row.RatioLo, row.RatioHi),
			fmtNum(row.P50, 0), fmtNum(row.P99, 0), row.MaxOther)
	}
	return b.String()
}
