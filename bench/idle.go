package main

import (
	"fmt"
	"net"
	"sync"
	"time"
)

// runIdle measures server memory per idle keep-alive connection. Each round
// and server gets a fresh server process (so memory freed by an earlier
// round cannot hide growth): warm it up on one connection, read VmRSS, open
// N connections with one request each, wait, read VmRSS again and report
// (after - before) / N. Then the server is stopped and the connections are
// closed.
func runIdle(o *options, pin *pinning, names []string, cr *CaseResult) {
	t0 := time.Now()
	defer func() { fmt.Printf("  (%s took %v)\n", cr.Name, time.Since(t0).Round(10*time.Millisecond)) }()
	fmt.Printf("\n== %s: %s\n", cr.Name, cr.Desc)
	printNotRun(cr)
	settle := 500 * time.Millisecond
	if o.quick {
		settle = 200 * time.Millisecond
	}
	for r := 1; r <= o.rounds; r++ {
		for _, n := range names {
			s, err := idleOnce(n, pin, o.idleConns, settle)
			if err != nil {
				s.Err = err.Error()
			}
			cr.Rounds[n] = append(cr.Rounds[n], s)
			fmt.Printf("  round %d %-14s %s\n", r, n, s.String())
		}
	}
}

func idleOnce(name string, pin *pinning, n int, settle time.Duration) (Sample, error) {
	var s Sample
	p, err := startServer(name, pin)
	if err != nil {
		return s, err
	}
	defer p.stop()
	// Warm-up: the same request on one connection, so lazily created
	// buffers and pools are in the "before" figure.
	if _, err := RunLoad(LoadSpec{Addr: p.Addr, Conns: 1, Requests: []Request{getPlaintext()},
		Duration: 200 * time.Millisecond, MaxRequests: 500}); err != nil {
		return s, err
	}
	time.Sleep(100 * time.Millisecond)
	before, err := procRSS(p.Pid)
	if err != nil {
		return s, err
	}
	conns, errs := openIdle(p.Addr, n)
	defer func() {
		// Stop the server first so that it, not us, holds the TIME_WAITs.
		p.stop()
		for _, c := range conns {
			c.Close()
		}
	}()
	time.Sleep(settle)
	after, err := procRSS(p.Pid)
	if err != nil {
		return s, fmt.Errorf("server %s: %w (did it crash?)", name, err)
	}
	s.Conns = int64(len(conns))
	s.Errors = errs
	s.RSS = after
	if len(conns) > 0 {
		s.RSSPerConn = float64(after-before) / float64(len(conns))
	}
	if len(conns) < n/2 {
		return s, fmt.Errorf("only %d of %d connections opened", len(conns), n)
	}
	return s, nil
}

// openIdle opens n connections, 64 at a time, and makes one GET /plaintext
// on each; connections whose exchange failed are closed and counted.
func openIdle(addr string, n int) ([]net.Conn, int64) {
	req := formatRequest(&LoadSpec{Addr: addr}, &Request{Method: "GET", Path: "/plaintext"}, false)
	var (
		mu    sync.Mutex
		conns = make([]net.Conn, 0, n)
		errs  int64
		wg    sync.WaitGroup
		next  = make(chan struct{}, n)
	)
	for i := 0; i < n; i++ {
		next <- struct{}{}
	}
	close(next)
	deadline := time.Now().Add(60 * time.Second)
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rr := respReader{buf: make([]byte, 4096)}
			for range next {
				if time.Now().After(deadline) {
					mu.Lock()
					errs++
					mu.Unlock()
					continue
				}
				c, err := net.DialTimeout("tcp", addr, 5*time.Second)
				if err == nil {
					c.SetDeadline(time.Now().Add(5 * time.Second))
					rr.reset(c)
					_, err = c.Write(req)
					if err == nil {
						var status int
						var blen int64
						status, blen, _, err = rr.readResponse(false)
						if err == nil && (status != 200 || blen != int64(len(helloBody))) {
							err = fmt.Errorf("status %d, %d bytes", status, blen)
						}
					}
					c.SetDeadline(time.Time{})
					if err != nil {
						c.Close()
					}
				}
				mu.Lock()
				if err != nil {
					errs++
				} else {
					conns = append(conns, c)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return conns, errs
}
