package main

import (
	"fmt"
	"math"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Scenario "slowloris": many connections start a request and send its
// header one line per second, never finishing it. A server with a header
// timeout answers them (408) or closes them; meanwhile other clients must
// be served as promptly as without them. Two probes run throughout, from a
// process of their own (faults_slowprobe.go): a request on a new
// connection and one on a kept-alive connection, each every slowProbeEvery
// on average; first for slowQuiet alone (the baseline), then beside the
// slow connections. Their p99 under slowloris is compared with their
// own p99 without it.

const (
	slowConns = 2000
	slowBound = 12 * time.Second // kahttp's HeaderTimeout is 10 s
	slowEvery = time.Second
	slowQuiet = 4 * time.Second // the probes alone: the baseline
	// slowRamp is how long the 2,000 connections take to open (a
	// connection burst, judged by the flood and burst scenarios): the tail
	// goal is on what follows, while they are held open and expire.
	slowRamp       = 500 * time.Millisecond
	slowProbeEvery = 5 * time.Millisecond // 800 requests alone per probe: a p99 of 8 samples, not 2
	slowProbeMax   = time.Second          // a normal request slower than this fails the row
	// slowTailGoal bounds kahttp's p99 under slowloris over the same
	// probe's p99 alone.
	slowTailGoal = 1.5
	// slowRounds: the verdict is on the median round. On a shared 2-core
	// machine one round's p99 alone ranged 0.49–1.65 ms for the same build,
	// so a single round's ratio said more about the machine than the server.
	slowRounds = 3
)

func slowlorisScenario() faultScenario {
	return faultScenario{
		Name: "slowloris",
		Desc: fmt.Sprintf("%d connections send `GET /plaintext HTTP/1.1` and then one header line every %v, never ending the header, for at most %v; when each was answered or closed. "+
			"GET /plaintext on a new connection and on a kept-alive one, from a process of their own, each every %v on average (at random moments), for %v before the slow connections (the baseline) and beside them. "+
			"%d rounds, each on its own baseline. "+
			"Verdict: FAIL when connections are still open at %v (no header timeout), a normal request fails or takes over %v, or (kahttp) a probe's p99 beside the slow connections once they are open (%v after the first dial) is over %.1f× its p99 alone in the median round",
			slowConns, slowEvery, slowBound, slowProbeEvery, slowQuiet, slowRounds, slowBound, slowProbeMax, slowRamp, slowTailGoal),
		Run: runSlowlorisFault,
	}
}

type slowRes struct {
	kind string        // "answered 408", "closed", "reset", "open", "connect …"
	at   time.Duration // since the connection's first bytes
	end  time.Time     // when the client saw it (for "open": the bound)
}

// slowProbe makes one kind of normal request every slowProbeEvery, its
// latencies kept apart before and during the slow connections.
type slowProbe struct {
	name        string
	alone, busy []time.Duration
	busyAt      []time.Duration // when each busy one began, since the slow connections did
	since       time.Time
	// answering is when the first slow connection was answered or closed,
	// since since (0: none was): the server's work on them comes in a wave
	// then (2,000 deadlines passing together), apart from holding them.
	answering time.Duration
	errs      []string
}

// add files one probe request as alone (before since) or beside the slow
// connections.
func (pr *slowProbe) add(x probeSample) {
	switch {
	case x.err != "":
		pr.errs = append(pr.errs, x.err)
	case x.at.Before(pr.since):
		pr.alone = append(pr.alone, x.took)
	default:
		pr.busy = append(pr.busy, x.took)
		pr.busyAt = append(pr.busyAt, x.at.Sub(pr.since))
	}
}

// worst says when the n slowest requests beside the slow connections began.
func (pr *slowProbe) worst(n int) string {
	idx := make([]int, len(pr.busy))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return pr.busy[idx[a]] > pr.busy[idx[b]] })
	var parts []string
	for _, i := range idx[:min(n, len(idx))] {
		parts = append(parts, fmt.Sprintf("%v at %.2f s", pr.busy[i].Round(100*time.Microsecond), pr.busyAt[i].Seconds()))
	}
	return strings.Join(parts, ", ")
}

// tail says the probe's p99 alone, beside the slow connections once they
// are open (after slowRamp), and their ratio (NaN without samples).
func (pr *slowProbe) tail() (alone, busy time.Duration, ratio float64) {
	var held []time.Duration
	for i, d := range pr.busy {
		if pr.busyAt[i] >= slowRamp {
			held = append(held, d)
		}
	}
	alone, busy = percentile(pr.alone, 0.99), percentile(held, 0.99)
	ratio = math.NaN()
	if alone > 0 && busy > 0 {
		ratio = float64(busy) / float64(alone)
	}
	return alone, busy, ratio
}

// phases says the probe's p99 beside the slow connections once open,
// while they are held and from the first answer on (answering).
func (pr *slowProbe) phases() (held, answered time.Duration) {
	var h, a []time.Duration
	for i, d := range pr.busy {
		switch at := pr.busyAt[i]; {
		case at < slowRamp:
		case pr.answering == 0 || at < pr.answering:
			h = append(h, d)
		default:
			a = append(a, d)
		}
	}
	return percentile(h, 0.99), percentile(a, 0.99)
}

// p99String is a p99 for the report, "–" without samples.
func p99String(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	return d.Round(10 * time.Microsecond).String()
}

func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func runSlowlorisFault(fx *faultEnv, name string, v *verdict) string {
	p, err := fx.start(name)
	if err != nil {
		v.failf("start: %v", err)
		return ""
	}
	defer fx.stop(p)

	var res []slowRes
	var rounds [][2]*slowProbe // each round's new-connection and kept-alive probes
	for range slowRounds {
		fresh, kept, rr, err := slowRound(p.Addr)
		if err != nil {
			v.failf("probes: %v", err)
		}
		if fresh == nil {
			return ""
		}
		res = append(res, rr...)
		rounds = append(rounds, [2]*slowProbe{fresh, kept})
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
	if n := len(groups["open"]); n > 0 {
		v.failf("%d of %d slow connections still open after %v (no header timeout)", n, len(res), slowBound)
	}
	var probeParts []string
	for i, label := range []string{"new connection", "kept-alive"} {
		all := &slowProbe{name: label}
		var ratios []float64
		var each, phases []string
		for _, r := range rounds {
			pr := r[i]
			alone, busy, ratio := pr.tail()
			ratios = append(ratios, ratio)
			each = append(each, fmt.Sprintf("%v/%v (%.2f×)", alone.Round(10*time.Microsecond), busy.Round(10*time.Microsecond), ratio))
			held, answered := pr.phases()
			phases = append(phases, fmt.Sprintf("%s/%s", p99String(held), p99String(answered)))
			all.alone = append(all.alone, pr.alone...)
			all.busy = append(all.busy, pr.busy...)
			all.busyAt = append(all.busyAt, pr.busyAt...)
			all.errs = append(all.errs, pr.errs...)
		}
		ratio := medianRatio(ratios)
		probeParts = append(probeParts, fmt.Sprintf("%s p99 alone/beside once open by round %s, median %.2f× (beside: while held/from the first answer on %s); %d+%d requests, %d failed; slowest %s",
			label, strings.Join(each, ", "), ratio, strings.Join(phases, ", "), len(all.alone), len(all.busy), len(all.errs), all.worst(3)))
		if len(all.errs) > 0 {
			v.failf("%s request failed %d times (%s)", label, len(all.errs), all.errs[0])
		}
		if mx := percentile(all.busy, 1); mx > slowProbeMax {
			v.failf("%s request took %v", label, mx.Round(time.Millisecond))
		}
		if isKahttp(name) && ratio > slowTailGoal {
			v.failf("%s p99 median %.2f× its p99 alone (goal ≤ %.1f×)", label, ratio, slowTailGoal)
		}
	}
	checkAlive(p, v)
	return fmt.Sprintf("%d slow connections in %d rounds: %s; GET /plaintext meanwhile: %s", len(res), slowRounds, strings.Join(parts, ", "), strings.Join(probeParts, "; "))
}

// medianRatio is the median of the rounds' ratios (NaN ones, rounds
// without samples, sort last and count).
func medianRatio(rs []float64) float64 {
	s := slices.Clone(rs)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] || math.IsNaN(s[j]) && !math.IsNaN(s[i]) })
	return s[len(s)/2]
}

// slowRound is one round: the probes alone for slowQuiet, then beside
// slowConns slow connections until each was answered or closed, or
// slowBound. An error from the probes' end comes with what they sent.
func slowRound(addr string) (fresh, kept *slowProbe, res []slowRes, err error) {
	// The probes (their own process: faults_slowprobe.go), alone first.
	fresh = &slowProbe{name: "new connection"}
	kept = &slowProbe{name: "kept-alive"}
	probes, err := startSlowProbes(addr)
	if err != nil {
		return nil, nil, nil, err
	}
	time.Sleep(slowQuiet)

	fresh.since = time.Now()
	kept.since = fresh.since
	end := time.Now().Add(slowBound)
	res = make([]slowRes, slowConns)
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
				c, err := net.DialTimeout("tcp", addr, 2*time.Second)
				if err != nil {
					res[i] = slowRes{kind: "connect " + ioKind(err)}
					continue
				}
				inner.Add(1)
				go func() {
					defer inner.Done()
					res[i] = slowClient(c, end)
					res[i].end = time.Now()
				}()
			}
			inner.Wait()
		}()
	}
	wg.Wait()
	var first time.Time
	for _, r := range res {
		if r.kind != "open" && !strings.HasPrefix(r.kind, "connect") && (first.IsZero() || r.end.Before(first)) {
			first = r.end
		}
	}
	if !first.IsZero() {
		fresh.answering = first.Sub(fresh.since)
		kept.answering = fresh.answering
	}
	samples, err := probes.stop()
	for _, x := range samples {
		if x.probe == "fresh" {
			fresh.add(x)
		} else {
			kept.add(x)
		}
	}
	return fresh, kept, res, err
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
