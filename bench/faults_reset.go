package main

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Scenario "resets": many clients that reset their connection (SO_LINGER 0)
// in the middle of a request or of a response. The server must keep serving
// a clean client beside them, and its open sockets must return to where
// they were (its memory near it).

const (
	resetTotal     = 1600 // connections reset in all
	resetBound     = 3 * time.Second
	resetWorkers   = 16
	resetSettle    = 3 * time.Second // for the sockets to return to the baseline
	resetMaxGrowth = 64 << 20        // RSS growth above this fails the row
)

// resetKinds are the ways a client resets, rotated.
var resetKinds = []string{"partial header", "mid-body", "mid-response", "in handler", "after pipelined requests"}

func resetScenario() faultScenario {
	return faultScenario{
		Name: "resets",
		Desc: fmt.Sprintf("%d connections (at most %v, %d at a time) reset with SO_LINGER 0, rotating: %s (a partial header; half of a 100 KB POST /echo body; after 4 KiB of a 1 MB /stream; right after GET /sleep?ms=5; right after 16 pipelined GET /plaintext), while 4 keep-alive clients load /plaintext. Verdict: FAIL on errors of the clean clients, sockets not back to the baseline within %v, RSS %s above the baseline, or no answer afterwards",
			resetTotal, resetBound, resetWorkers, strings.Join(resetKinds, ", "), resetSettle, fmtMiB(resetMaxGrowth)),
		Run: runResetFault,
	}
}

func runResetFault(fx *faultEnv, name string, v *verdict) string {
	p, err := fx.start(name)
	if err != nil {
		v.failf("start: %v", err)
		return ""
	}
	defer fx.stop(p)
	// Warm up the paths the resets take, so their buffers are in the baseline.
	RunLoad(LoadSpec{Addr: p.Addr, Conns: 4, Duration: 300 * time.Millisecond, MaxRequests: 2000, Requests: []Request{
		getPlaintext(),
		{Method: "GET", Path: "/stream?size=1000000", ExpectLen: 1_000_000},
		{Method: "POST", Path: "/echo", ContentType: "text/plain", Body: bytes.Repeat([]byte("e"), 100_000), ExpectLen: 100_000},
	}})
	time.Sleep(300 * time.Millisecond)
	baseSock, _ := procSockets(p.Pid)
	baseRSS, _ := procStatusBytes(p.Pid, "VmRSS")

	var (
		wg      sync.WaitGroup
		clean   *LoadResult
		started atomic.Int64
		failed  atomic.Int64 // connects that failed
	)
	end := time.Now().Add(resetBound)
	wg.Add(1)
	go func() {
		defer wg.Done()
		clean, _ = RunLoad(LoadSpec{Addr: p.Addr, Conns: 4, Requests: []Request{getPlaintext()}, Duration: resetBound, MaxRequests: 2_000_000})
	}()
	var storm sync.WaitGroup
	for w := 0; w < resetWorkers; w++ {
		storm.Add(1)
		go func() {
			defer storm.Done()
			buf := make([]byte, 4096)
			for time.Now().Before(end) {
				i := started.Add(1) - 1
				if i >= resetTotal {
					return
				}
				if !resetOne(p.Addr, resetKinds[i%int64(len(resetKinds))], buf) {
					failed.Add(1)
				}
			}
		}()
	}
	storm.Wait()
	stormTook := time.Since(end.Add(-resetBound))
	n := min(started.Load(), resetTotal)
	wg.Wait()

	settled := time.Now()
	sock := -1
	for {
		sock, _ = procSockets(p.Pid)
		if sock <= baseSock || time.Since(settled) > resetSettle || !p.alive() {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	backIn := time.Since(settled)
	rss, _ := procStatusBytes(p.Pid, "VmRSS")
	_, probeErr := getPlainOK(p.Addr, 2*time.Second)

	figs := fmt.Sprintf("%d connections reset in %.1f s (%d connects failed); clean clients beside: ", n, stormTook.Seconds(), failed.Load())
	if clean != nil {
		figs += fmt.Sprintf("%d ok, %d errors", clean.OK, clean.Errors)
		if clean.Errors > 0 {
			v.failf("%d errors on the clean clients (%s)", clean.Errors, strings.Join(clean.ErrSamples, ", "))
		}
	}
	figs += fmt.Sprintf("; sockets %d before, %d after", baseSock, sock)
	if sock > baseSock {
		figs += fmt.Sprintf(" (still, %v later)", resetSettle)
		v.failf("%d sockets open %v after the resets (%d before)", sock, resetSettle, baseSock)
	} else {
		figs += fmt.Sprintf(" (back in %v)", backIn.Round(10*time.Millisecond))
	}
	figs += fmt.Sprintf("; RSS %s before, %s after", fmtMiB(baseRSS), fmtMiB(rss))
	if rss-baseRSS > resetMaxGrowth {
		v.failf("RSS grew by %s", fmtMiB(rss-baseRSS))
	}
	if probeErr != nil {
		figs += "; not serving afterwards"
		v.failf("GET /plaintext afterwards: %v", probeErr)
	} else {
		figs += "; serving afterwards"
	}
	checkAlive(p, v)
	return figs
}

// resetOne opens a connection, does what kind says, and resets it. It
// reports whether the connection was made.
func resetOne(addr, kind string, buf []byte) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		time.Sleep(10 * time.Millisecond)
		return false
	}
	defer resetClose(c)
	c.SetDeadline(time.Now().Add(2 * time.Second))
	host := "Host: " + addr + "\r\n"
	switch kind {
	case "partial header":
		c.Write([]byte("GET /plaintext HTTP/1.1\r\n" + host + "X-Partial: a"))
		time.Sleep(time.Millisecond)
	case "mid-body":
		c.Write([]byte("POST /echo HTTP/1.1\r\n" + host + "Content-Type: text/plain\r\nContent-Length: 100000\r\n\r\n"))
		c.Write(bytes.Repeat([]byte("e"), 50_000))
	case "mid-response":
		c.Write([]byte("GET /stream?size=1000000 HTTP/1.1\r\n" + host + "\r\n"))
		got := 0
		for got < 4096 {
			m, err := c.Read(buf)
			got += m
			if err != nil {
				break
			}
		}
	case "in handler":
		c.Write([]byte("GET /sleep?ms=5 HTTP/1.1\r\n" + host + "\r\n"))
		time.Sleep(time.Millisecond)
	case "after pipelined requests":
		c.Write(bytes.Repeat([]byte("GET /plaintext HTTP/1.1\r\n"+host+"\r\n"), 16))
	}
	return true
}
