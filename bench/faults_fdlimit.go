package main

import (
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"
)

// Scenario "fdlimit": the server runs with RLIMIT_NOFILE lowered to 256
// (bench -serve … -nofile 256, set in the server's own process), and gets
// more connections than that. While its descriptors are exhausted, a
// keep-alive connection it already had must still be served; once the
// connections are released, new ones must be served again.

const (
	fdLimit        = 256
	fdConns        = 400 // more than the limit
	fdRecoverBound = 5 * time.Second
	fdAfterProbes  = 5
)

func fdLimitScenario() faultScenario {
	return faultScenario{
		Name: "fdlimit",
		Desc: fmt.Sprintf("server started with RLIMIT_NOFILE %d; one keep-alive connection made first, then %d more connections each sending GET /plaintext; during the exhaustion a request on the first connection (2 s) and one on a new connection (1 s); then the %d are closed and new connections tried for up to %v. Verdict: FAIL when the existing connection is not served during the exhaustion, new connections are not served after the release, or the server process dies",
			fdLimit, fdConns, fdConns, fdRecoverBound),
		Run: runFdLimitFault,
	}
}

func runFdLimitFault(fx *faultEnv, name string, v *verdict) string {
	p, err := fx.start(name, "-nofile", strconv.Itoa(fdLimit))
	if err != nil {
		v.failf("start: %v", err)
		return ""
	}
	defer fx.stop(p)
	existing, err := dialKeep(p.Addr, 2*time.Second)
	if err != nil {
		v.failf("connect: %v", err)
		return ""
	}
	defer existing.c.Close()
	if status, _, err := existing.get("/plaintext", 2*time.Second); err != nil || status != 200 {
		v.failf("first request: status %d, %v", status, err)
		return ""
	}

	// Exhaust: connect fdConns times, each sending one request (not read).
	req := formatRequest(&LoadSpec{Addr: p.Addr}, &Request{Method: "GET", Path: "/plaintext"}, false)
	conns := make([]net.Conn, 0, fdConns)
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		dialErr int
	)
	next := make(chan struct{}, fdConns)
	for i := 0; i < fdConns; i++ {
		next <- struct{}{}
	}
	close(next)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				c, err := net.DialTimeout("tcp", p.Addr, time.Second)
				if err == nil {
					c.SetWriteDeadline(time.Now().Add(time.Second))
					c.Write(req)
				}
				mu.Lock()
				if err != nil {
					dialErr++
				} else {
					conns = append(conns, c)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	time.Sleep(500 * time.Millisecond)
	held, _ := procSockets(p.Pid)

	// During the exhaustion.
	t0 := time.Now()
	status, _, exErr := existing.get("/plaintext", 2*time.Second)
	exLat := time.Since(t0)
	existingOK := exErr == nil && status == 200
	_, newErr := getPlainOK(p.Addr, time.Second)

	// Release, then new connections.
	for _, c := range conns {
		c.Close()
	}
	released := time.Now()
	var recovered time.Duration
	var lastErr error
	for time.Since(released) < fdRecoverBound {
		if _, lastErr = getPlainOK(p.Addr, time.Second); lastErr == nil {
			recovered = time.Since(released)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	after := 0
	if lastErr == nil {
		for i := 0; i < fdAfterProbes; i++ {
			if _, err := getPlainOK(p.Addr, time.Second); err == nil {
				after++
			}
		}
	}

	figs := fmt.Sprintf("limit %d; %d connections made (%d connects failed), server held %d sockets; existing keep-alive connection during exhaustion: ",
		fdLimit, len(conns), dialErr, held)
	if existingOK {
		figs += fmt.Sprintf("served in %v", exLat.Round(100*time.Microsecond))
	} else {
		figs += fmt.Sprintf("NOT served (%s)", errOrStatus(exErr, status))
		v.failf("existing connection not served during exhaustion")
	}
	if newErr == nil {
		figs += "; a new connection during exhaustion: served"
	} else {
		figs += "; a new connection during exhaustion: " + ioKind(newErr)
	}
	if lastErr == nil {
		figs += fmt.Sprintf("; after release: new connections served after %v, then %d/%d", recovered.Round(time.Millisecond), after, fdAfterProbes)
		if after < fdAfterProbes {
			v.failf("only %d of %d new connections served after the release", after, fdAfterProbes)
		}
	} else {
		figs += fmt.Sprintf("; after release: new connections NOT served within %v (%s)", fdRecoverBound, ioKind(lastErr))
		v.failf("no new connection served within %v of the release (%s)", fdRecoverBound, ioKind(lastErr))
	}
	if checkAlive(p, v) {
		figs += "; process alive"
	} else {
		figs += "; process exited"
	}
	return figs
}

func errOrStatus(err error, status int) string {
	if err != nil {
		return ioKind(err) + ": " + err.Error()
	}
	return fmt.Sprintf("status %d", status)
}
