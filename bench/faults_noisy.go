package main

import (
	"fmt"
	"math/rand/v2"
	"net"
	"sort"
	"strings"
	"sync"
	"time"
)

// Scenario "noisy": clean keep-alive load on /plaintext, measured alone and
// then with noisy clients beside it: keep-alive 404s, requests that announce
// Content-Length: 999 and never send the body, and connections that send
// binary garbage. The clean clients must see no error and keep most of
// their rate.

const (
	noisyDuration  = 2 * time.Second
	noisyConns     = 64
	noisyPerKind   = 4                      // noise connections of each kind at a time
	noisyHold      = 300 * time.Millisecond // how long a 999-byte or binary client waits for the server
	noisyMinRatio  = 0.5                    // noisy req/s ÷ clean req/s below this fails
	noisyMaxEvents = 100_000                // bound on the exchanges of one noise goroutine
)

func noisyScenario() faultScenario {
	return faultScenario{
		Name: "noisy",
		Desc: fmt.Sprintf("GET /plaintext on %d keep-alive connections for %v alone, then again beside %d connections each of: keep-alive 404s, POST with Content-Length: 999 and no body (held %v), 2 KiB of binary noise (held %v). Verdict: FAIL on any error of the clean clients or a rate below %.1f× the clean one",
			noisyConns, noisyDuration, noisyPerKind, noisyHold, noisyHold, noisyMinRatio),
		Run: runNoisyFault,
	}
}

// outcomes counts how exchanges ended, by name.
type outcomes struct {
	mu sync.Mutex
	m  map[string]int64
}

func (o *outcomes) add(k string) {
	o.mu.Lock()
	if o.m == nil {
		o.m = map[string]int64{}
	}
	o.m[k]++
	o.mu.Unlock()
}

func (o *outcomes) total() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	var n int64
	for _, c := range o.m {
		n += c
	}
	return n
}

// String lists the outcomes, most frequent first: "closed 40, 400 3".
func (o *outcomes) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	keys := make([]string, 0, len(o.m))
	for k := range o.m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if o.m[keys[i]] != o.m[keys[j]] {
			return o.m[keys[i]] > o.m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, o.m[k])
	}
	return strings.Join(parts, ", ")
}

func runNoisyFault(fx *faultEnv, name string, v *verdict) string {
	p, err := fx.start(name)
	if err != nil {
		v.failf("start: %v", err)
		return ""
	}
	defer fx.stop(p)
	spec := LoadSpec{Addr: p.Addr, Conns: noisyConns, Requests: []Request{getPlaintext()}, Duration: noisyDuration, MaxRequests: 5_000_000}
	warm := spec
	warm.Duration = 300 * time.Millisecond
	RunLoad(warm)
	clean, err := RunLoad(spec)
	if err != nil {
		v.failf("clean run: %v", err)
		return ""
	}
	stop := make(chan struct{})
	var (
		wg                  sync.WaitGroup
		o404, o999, oBinary outcomes
	)
	for i := 0; i < noisyPerKind; i++ {
		wg.Add(3)
		go func() { defer wg.Done(); noise404(p.Addr, stop, &o404) }()
		go func() { defer wg.Done(); noiseHeld(p.Addr, stop, &o999, cl999Request(p.Addr)) }()
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 9))
			junk := make([]byte, 2048)
			for j := range junk {
				junk[j] = byte(r.UintN(256))
			}
			noiseHeld(p.Addr, stop, &oBinary, junk)
		}()
	}
	noisy, err := RunLoad(spec)
	close(stop)
	wg.Wait()
	if err != nil {
		v.failf("noisy run: %v", err)
		return ""
	}
	ratio := 0.0
	if clean.RPS() > 0 {
		ratio = noisy.RPS() / clean.RPS()
	}
	figs := fmt.Sprintf("clean %.0f req/s, with noise %.0f req/s (%.2f×); clean-client errors %d alone, %d with noise; noise: 404 loop [%s]; Content-Length 999 without body [%s]; binary [%s]",
		clean.RPS(), noisy.RPS(), ratio, clean.Errors, noisy.Errors, o404.String(), o999.String(), oBinary.String())
	if clean.Errors+noisy.Errors > 0 {
		v.failf("%d errors on the clean clients (%s)", clean.Errors+noisy.Errors, strings.Join(append(clean.ErrSamples, noisy.ErrSamples...), ", "))
	}
	if ratio < noisyMinRatio {
		v.failf("clean rate fell to %.2f× with noise", ratio)
	}
	if o404.total() == 0 {
		v.failf("no noise was sent")
	}
	checkAlive(p, v)
	return figs
}

func cl999Request(addr string) []byte {
	return []byte("POST /echo HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: text/plain\r\nContent-Length: 999\r\n\r\n")
}

// noise404 loops GET on an unknown path over keep-alive connections; the
// outcome is the status, or how the connection ended.
func noise404(addr string, stop <-chan struct{}, o *outcomes) {
	var k *keepConn
	defer func() {
		if k != nil {
			k.c.Close()
		}
	}()
	for n := 0; n < noisyMaxEvents; n++ {
		select {
		case <-stop:
			return
		default:
		}
		if k == nil {
			var err error
			if k, err = dialKeep(addr, time.Second); err != nil {
				o.add("connect " + ioKind(err))
				time.Sleep(10 * time.Millisecond)
				continue
			}
		}
		status, keep, err := k.get(fmt.Sprintf("/no/such/path/%d", n), 2*time.Second)
		if err != nil {
			o.add(ioKind(err))
		} else {
			o.add(fmt.Sprint(status))
		}
		if err != nil || !keep {
			k.c.Close()
			k = nil
		}
	}
}

// noiseHeld sends payload on a new connection, waits up to noisyHold for
// the server, notes what it did (a status, closed, reset or "held": no
// answer in time), closes and starts again.
func noiseHeld(addr string, stop <-chan struct{}, o *outcomes, payload []byte) {
	buf := make([]byte, 4096)
	for n := 0; n < noisyMaxEvents; n++ {
		select {
		case <-stop:
			return
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			o.add("connect " + ioKind(err))
			time.Sleep(10 * time.Millisecond)
			continue
		}
		c.SetDeadline(time.Now().Add(noisyHold))
		if _, err := c.Write(payload); err != nil {
			o.add("write " + ioKind(err))
			c.Close()
			continue
		}
		m, err := c.Read(buf)
		switch {
		case m >= 12 && string(buf[:7]) == "HTTP/1.":
			o.add(string(buf[9:12]))
		case m > 0:
			o.add("non-HTTP answer")
		case ioKind(err) == "timeout":
			o.add("held")
		default:
			o.add(ioKind(err))
		}
		c.Close()
	}
}
