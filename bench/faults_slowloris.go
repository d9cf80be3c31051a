package main

import (
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"
)

// Scenario "slowloris": many connections start a request and send its
// header one line per second, never finishing it. A server with a header
// timeout answers them (408) or closes them; meanwhile a normal request on
// a new connection must be answered promptly.

const (
	slowConns      = 500
	slowBound      = 12 * time.Second // kahttp's HeaderTimeout is 10 s
	slowEvery      = time.Second
	slowProbeEvery = 250 * time.Millisecond
	slowProbeMax   = time.Second // a normal request slower than this fails the row
)

func slowlorisScenario() faultScenario {
	return faultScenario{
		Name: "slowloris",
		Desc: fmt.Sprintf("%d connections send `GET /plaintext HTTP/1.1` and then one header line every %v, never ending the header, for at most %v; when each was answered or closed, and the latency of GET /plaintext on a new connection every %v meanwhile. Verdict: FAIL when connections are still open at %v (no header timeout), or a normal request fails or takes over %v",
			slowConns, slowEvery, slowBound, slowProbeEvery, slowBound, slowProbeMax),
		Run: runSlowlorisFault,
	}
}

type slowRes struct {
	kind string        // "answered 408", "closed", "reset", "open", "connect …"
	at   time.Duration // since the connection's first bytes
}

func runSlowlorisFault(fx *faultEnv, name string, v *verdict) string {
	p, err := fx.start(name)
	if err != nil {
		v.failf("start: %v", err)
		return ""
	}
	defer fx.stop(p)
	end := time.Now().Add(slowBound)
	res := make([]slowRes, slowConns)
	var wg sync.WaitGroup
	next := make(chan int, slowConns)
	for i := range res {
		next <- i
	}
	close(next)
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var inner sync.WaitGroup
			for i := range next {
				c, err := net.DialTimeout("tcp", p.Addr, 2*time.Second)
				if err != nil {
					res[i] = slowRes{kind: "connect " + ioKind(err)}
					continue
				}
				inner.Add(1)
				go func() {
					defer inner.Done()
					res[i] = slowClient(c, end)
				}()
			}
			inner.Wait()
		}()
	}
	// Probes until every slow connection is settled or the bound is reached.
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var lat []time.Duration
	var probeErr []string
	tick := time.NewTicker(slowProbeEvery)
	defer tick.Stop()
loop:
	for {
		select {
		case <-done:
			break loop
		case <-tick.C:
			if d, err := getPlainOK(p.Addr, 2*time.Second); err != nil {
				probeErr = append(probeErr, err.Error())
			} else {
				lat = append(lat, d)
			}
		}
	}
	// Group by outcome, with the spread of times.
	groups := map[string][]time.Duration{}
	for _, r := range res {
		groups[r.kind] = append(groups[r.kind], r.at)
	}
	kinds := make([]string, 0, len(groups))
	for k := range groups {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool { return len(groups[kinds[i]]) > len(groups[kinds[j]]) })
	var parts []string
	for _, k := range kinds {
		ts := groups[k]
		if k == "open" {
			parts = append(parts, fmt.Sprintf("%d still open at %v", len(ts), slowBound))
			continue
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
		parts = append(parts, fmt.Sprintf("%d %s after %.1f–%.1f s", len(ts), k, ts[0].Seconds(), ts[len(ts)-1].Seconds()))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	probe := fmt.Sprintf("GET /plaintext meanwhile: %d ok", len(lat))
	if len(lat) > 0 {
		probe += fmt.Sprintf(" (p50 %v, max %v)", lat[len(lat)/2].Round(100*time.Microsecond), lat[len(lat)-1].Round(100*time.Microsecond))
	}
	probe += fmt.Sprintf(", %d failed", len(probeErr))
	if n := len(groups["open"]); n > 0 {
		v.failf("%d of %d slow connections still open after %v (no header timeout)", n, slowConns, slowBound)
	}
	if len(probeErr) > 0 {
		v.failf("normal request failed %d times (%s)", len(probeErr), probeErr[0])
	}
	if len(lat) > 0 && lat[len(lat)-1] > slowProbeMax {
		v.failf("normal request took %v", lat[len(lat)-1].Round(time.Millisecond))
	}
	checkAlive(p, v)
	return fmt.Sprintf("%d slow connections: %s; %s", slowConns, strings.Join(parts, ", "), probe)
}

// slowClient starts a request on c and sends one more header line every
// slowEvery until the server answers or closes, or end.
func slowClient(c net.Conn, end time.Time) slowRes {
	defer c.Close()
	t0 := time.Now()
	if _, err := c.Write([]byte("GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n")); err != nil {
		return slowRes{kind: ioKind(err), at: time.Since(t0)}
	}
	buf := make([]byte, 512)
	for n := 0; ; n++ {
		c.SetReadDeadline(minTime(time.Now().Add(slowEvery), end))
		m, err := c.Read(buf)
		if m > 0 {
			if m >= 12 && string(buf[:7]) == "HTTP/1." {
				return slowRes{kind: "answered " + string(buf[9:12]), at: time.Since(t0)}
			}
			return slowRes{kind: "non-HTTP answer", at: time.Since(t0)}
		}
		if ioKind(err) != "timeout" {
			return slowRes{kind: ioKind(err), at: time.Since(t0)}
		}
		if !time.Now().Before(end) {
			return slowRes{kind: "open", at: time.Since(t0)}
		}
		if _, err := fmt.Fprintf(c, "X-Slow-%d: y\r\n", n); err != nil {
			return slowRes{kind: ioKind(err), at: time.Since(t0)}
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
