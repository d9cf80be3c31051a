package main

import (
	"context"
	"crypto/tls"
	"math"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
)

// Tests of the -tls and -ws-idle modes' pure parts, and of their clients
// against the servers' TLS and /ws configurations in this process.

func TestRSSPerConn(t *testing.T) {
	for _, tc := range []struct {
		before, after int64
		n             int
		want          float64
	}{
		{10 << 20, 30 << 20, 1000, float64(20<<20) / 1000},
		{100, 100, 10, 0},
		{200, 100, 10, -10}, // RSS may shrink (the runtime returned memory): shown as is
		{100, 200, 0, math.NaN()},
	} {
		got := rssPerConn(tc.before, tc.after, tc.n)
		if math.IsNaN(tc.want) != math.IsNaN(got) || !math.IsNaN(got) && got != tc.want {
			t.Errorf("rssPerConn(%d, %d, %d) = %v, want %v", tc.before, tc.after, tc.n, got, tc.want)
		}
	}
}

func TestTLSRunFigures(t *testing.T) {
	for _, tc := range []struct {
		run          tlsRun
		rps, cpuUS   float64
		ok           bool
		errInDisplay bool
	}{
		{tlsRun{OK: 1000, Seconds: 2, CPU: 0.01}, 500, 10, true, false},
		{tlsRun{OK: 0, Seconds: 2, CPU: 0.01}, 0, 0, false, false},
		{tlsRun{OK: 10, Errors: 1, FirstErr: "EOF", Seconds: 1, CPU: 0.001}, 10, 100, false, true},
		{tlsRun{OK: 10, Seconds: 0}, 0, 0, true, false},
	} {
		if got := tc.run.rps(); got != tc.rps {
			t.Errorf("%+v: rps %v, want %v", tc.run, got, tc.rps)
		}
		if got := tc.run.cpuUS(); math.Abs(got-tc.cpuUS) > 1e-9 {
			t.Errorf("%+v: cpuUS %v, want %v", tc.run, got, tc.cpuUS)
		}
		if got := tc.run.ok(); got != tc.ok {
			t.Errorf("%+v: ok %v, want %v", tc.run, got, tc.ok)
		}
		if got := strings.Contains(tc.run.String(), "ERRORS"); got != tc.errInDisplay {
			t.Errorf("%+v: String %q", tc.run, tc.run.String())
		}
	}
}

func TestSummarizeTLS(t *testing.T) {
	run := func(round int, ok int64, cpu float64, errs int64) tlsRun {
		return tlsRun{Round: round, OK: ok, Seconds: 1, CPU: cpu, Errors: errs, P50: 100, P99: 900}
	}
	for _, tc := range []struct {
		name                 string
		runs                 map[string][]tlsRun
		wantCPU, wantRatio   float64 // for kahttp-pool
		wantLo, wantHi       float64
		wantBad, wantBaseBad int
	}{
		{
			name: "ratios per round",
			runs: map[string][]tlsRun{
				"kahttp-pool": {run(1, 1000, 0.010, 0), run(2, 1000, 0.012, 0), run(3, 1000, 0.011, 0)},
				"nethttp":     {run(1, 1000, 0.020, 0), run(2, 1000, 0.016, 0), run(3, 1000, 0.022, 0)},
			},
			wantCPU: 11, wantRatio: 0.5, wantLo: 0.5, wantHi: 0.75,
		},
		{
			name: "a failed baseline round leaves that round out of the ratio",
			runs: map[string][]tlsRun{
				"kahttp-pool": {run(1, 1000, 0.010, 0), run(2, 1000, 0.030, 0)},
				"nethttp":     {run(1, 1000, 0.020, 0), run(2, 1000, 0.020, 1)},
			},
			wantCPU: 20, wantRatio: 0.5, wantLo: 0.5, wantHi: 0.5, wantBaseBad: 1,
		},
		{
			name: "a failed run is counted, not averaged",
			runs: map[string][]tlsRun{
				"kahttp-pool": {run(1, 1000, 0.010, 0), run(2, 0, 0, 1)},
				"nethttp":     {run(1, 1000, 0.010, 0), run(2, 1000, 0.010, 0)},
			},
			wantCPU: 10, wantRatio: 1, wantLo: 1, wantHi: 1, wantBad: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := summarizeTLS([]string{"kahttp-pool", "nethttp"}, tc.runs)
			k, n := rows[0], rows[1]
			if math.Abs(k.CPUUS-tc.wantCPU) > 1e-9 || math.Abs(k.Ratio-tc.wantRatio) > 1e-9 ||
				math.Abs(k.RatioLo-tc.wantLo) > 1e-9 || math.Abs(k.RatioHi-tc.wantHi) > 1e-9 {
				t.Errorf("kahttp row %+v, want CPU %v ratio %v (%v–%v)", k, tc.wantCPU, tc.wantRatio, tc.wantLo, tc.wantHi)
			}
			if k.Bad != tc.wantBad || n.Bad != tc.wantBaseBad {
				t.Errorf("bad runs %d, %d; want %d, %d", k.Bad, n.Bad, tc.wantBad, tc.wantBaseBad)
			}
			md := (&tlsReport{Rows: rows}).Markdown()
			if !strings.Contains(md, "| kahttp-pool |") || !strings.Contains(md, "| nethttp |") {
				t.Errorf("table lacks a row:\n%s", md)
			}
		})
	}
}

func TestSummarizeWSIdle(t *testing.T) {
	run := func(round, conns int, before, after int64, err string) wsIdleRun {
		return wsIdleRun{Round: round, Conns: conns, Before: before, After: after, Threads: 6, Err: err}
	}
	for _, tc := range []struct {
		name              string
		runs              map[string][]wsIdleRun
		wantPer, wantRat  float64 // kahttp-pool's, bytes and ratio
		wantBad           int
		wantErrInMarkdown bool
	}{
		{
			name: "same as the baseline",
			runs: map[string][]wsIdleRun{
				"kahttp-pool": {run(1, 1000, 10<<20, 10<<20+20_000_000, ""), run(2, 1000, 10<<20, 10<<20+20_000_000, "")},
				"nethttp":     {run(1, 1000, 10<<20, 10<<20+20_000_000, ""), run(2, 1000, 10<<20, 10<<20+20_000_000, "")},
			},
			wantPer: 20_000, wantRat: 1,
		},
		{
			name: "a failed round is reported",
			runs: map[string][]wsIdleRun{
				"kahttp-pool": {run(1, 1000, 0, 10_000_000, ""), run(2, 990, 0, 10_000_000, "10 of 1000 connections failed")},
				"nethttp":     {run(1, 1000, 0, 20_000_000, ""), run(2, 1000, 0, 20_000_000, "")},
			},
			wantPer: 10_000, wantRat: 0.5, wantBad: 1, wantErrInMarkdown: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := summarizeWSIdle([]string{"kahttp-pool", "nethttp"}, tc.runs)
			k := rows[0]
			if math.Abs(k.PerConn-tc.wantPer) > 1e-9 || math.Abs(k.Ratio-tc.wantRat) > 1e-9 || k.Bad != tc.wantBad {
				t.Errorf("kahttp row %+v, want %v B/conn, ratio %v, %d bad", k, tc.wantPer, tc.wantRat, tc.wantBad)
			}
			md := (&wsIdleReport{Rows: rows, Conns: 1000}).Markdown()
			if got := strings.Contains(md, "connections failed"); got != tc.wantErrInMarkdown {
				t.Errorf("error in the table: %v, want %v:\n%s", got, tc.wantErrInMarkdown, md)
			}
		})
	}
}

func TestFmtNumbers(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{fmtNum(12.345, 2), "12.35"},
		{fmtNum(math.NaN(), 0), "–"},
		{fmtMiBf(10 << 20), "10.0 MiB"},
		{fmtMiBf(math.NaN()), "–"},
		{fmtKiBf(18.5 * 1024), "18.5 KiB"},
		{fmtKiBf(math.NaN()), "–"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// serveKahttpTLS serves the usual kahttp handler over TLS (Serve on
// tls.NewListener), as `-serve kahttp-pool -tls` does.
func serveKahttpTLS(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ks := kahttp.NewServer(kahttp.HandlerFunc(kahttpHandler), kahttp.Config{Mode: kahttp.Pooled})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ks.Serve(tls.NewListener(ln, cfg))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		ks.Shutdown(ctx)
	})
	return ln.Addr().String()
}

// TestTLSLoad runs the -tls client against both servers' TLS setups with
// one certificate from writeSelfSigned, verified by the client.
func TestTLSLoad(t *testing.T) {
	certFile, keyFile, pool, err := writeSelfSigned(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	serveTLSCert, serveTLSKey = certFile, keyFile
	defer func() { serveTLSCert, serveTLSKey = "", "" }()
	cfg, err := serveTLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	addrs := map[string]string{"kahttp-pool": serveKahttpTLS(t, cfg)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: netHTTPHandler()}
	go hs.Serve(tls.NewListener(ln, cfg))
	t.Cleanup(func() { hs.Close() })
	addrs["nethttp"] = ln.Addr().String()

	client := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", NextProtos: []string{"http/1.1"}}
	for name, addr := range addrs {
		conns, err := openTLSConns(addr, client, 4)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ok, bad, firstErr, _, h := loadTLS(conns, 100*time.Millisecond, 50)
		closeTLSConns(conns)
		if ok == 0 || ok > 50 || bad != 0 || h.Count() != uint64(ok) {
			t.Errorf("%s: %d ok (max 50), %d bad (%s), %d latencies", name, ok, bad, firstErr, h.Count())
		}
		// A client that does not trust the certificate is refused.
		if _, err := openTLSConns(addr, &tls.Config{ServerName: "127.0.0.1"}, 1); err == nil {
			t.Errorf("%s: an untrusted certificate passed", name)
		}
	}
}

// TestWSEcho opens echoing WebSocket connections to both servers' /ws.
func TestWSEcho(t *testing.T) {
	h, err := kahttpRouter(false, true)
	if err != nil {
		t.Fatal(err)
	}
	ks := kahttp.NewServer(h, kahttp.Config{Mode: kahttp.Pooled})
	if err := ks.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		ks.Shutdown(ctx)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /ws", wsEchoHandler())
	hs := &http.Server{Handler: mux}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	for name, addr := range map[string]string{"kahttp-pool": ks.Addr().String(), "nethttp": ln.Addr().String()} {
		conns, err := openWS(addr, 20)
		closeWS(conns)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		for i, c := range conns {
			if c == nil {
				t.Errorf("%s: connection %d missing", name, i)
			}
		}
	}
	if status, _, err := getOnce(ks.Addr().String(), "/plaintext", 5*time.Second); err != nil || status != 200 {
		t.Errorf("kahttp: GET /plaintext beside /ws: %d, %v", status, err)
	}
}
