package main

import (
	"bufio"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"
)

// Scenario "stream": stream integrity under load. Keep-alive load on
// /plaintext while other connections loop GET /stream?size=200000, as
// HTTP/1.1 keep-alive (chunked, or Content-Length where the server buffers)
// and as HTTP/1.0 without keep-alive (close-delimited); every response is
// checked exactly by checkStreamResponse.

const (
	streamSize     = 200_000
	streamDuration = 8 * time.Second
	streamConns    = 6     // per HTTP version
	streamLoadConn = 64    // /plaintext keep-alive connections beside
	streamMaxPer   = 4_000 // bound on the responses of one streaming goroutine
)

func streamScenario() faultScenario {
	return faultScenario{
		Name: "stream",
		Desc: fmt.Sprintf("%d keep-alive connections load GET /plaintext for %v while %d connections loop GET /stream?size=%d as HTTP/1.1 keep-alive and %d as HTTP/1.0 (close-delimited); every response checked exactly: status, framing, every byte 'x', the length, nothing after the last chunk. Verdict: FAIL on any wrong response or /plaintext error",
			streamLoadConn, streamDuration, streamConns, streamSize, streamConns),
		Run: runStreamFault,
	}
}

// streamTally counts the checked responses of one HTTP version.
type streamTally struct {
	mu       sync.Mutex
	checked  int64
	wrong    int64
	framings map[string]int64
	samples  []string
}

func (t *streamTally) add(framing string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.checked++
	if err != nil {
		t.wrong++
		msg := err.Error()
		if len(t.samples) < 3 && !containsStr(t.samples, msg) {
			t.samples = append(t.samples, msg)
		}
		return
	}
	if t.framings == nil {
		t.framings = map[string]int64{}
	}
	t.framings[framing]++
}

func (t *streamTally) String() string {
	var fr []string
	for f := range t.framings {
		fr = append(fr, f)
	}
	sort.Strings(fr)
	return fmt.Sprintf("%d checked, %d wrong (%s)", t.checked, t.wrong, strings.Join(fr, "+"))
}

func containsStr(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func runStreamFault(fx *faultEnv, name string, v *verdict) string {
	p, err := fx.start(name)
	if err != nil {
		v.failf("start: %v", err)
		return ""
	}
	defer fx.stop(p)
	end := time.Now().Add(streamDuration)
	var (
		load    *LoadResult
		loadErr error
		wg      sync.WaitGroup
		t11     streamTally
		t10     streamTally
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		load, loadErr = RunLoad(LoadSpec{Addr: p.Addr, Conns: streamLoadConn, Requests: []Request{getPlaintext()},
			Duration: streamDuration, MaxRequests: 5_000_000})
	}()
	for i := 0; i < streamConns; i++ {
		wg.Add(2)
		go func() { defer wg.Done(); streamLoop(p.Addr, false, end, &t11) }()
		go func() { defer wg.Done(); streamLoop(p.Addr, true, end, &t10) }()
	}
	wg.Wait()
	figs := fmt.Sprintf("HTTP/1.1: %s; HTTP/1.0: %s", t11.String(), t10.String())
	if loadErr != nil {
		v.failf("/plaintext load: %v", loadErr)
	} else {
		figs += fmt.Sprintf("; /plaintext beside: %.0f req/s, %d errors", load.RPS(), load.Errors)
		if load.Errors > 0 {
			v.failf("%d /plaintext errors (%s)", load.Errors, strings.Join(load.ErrSamples, ", "))
		}
	}
	for _, t := range []*streamTally{&t11, &t10} {
		if t.wrong > 0 {
			v.failf("%d of %d wrong, e.g. %s", t.wrong, t.checked, strings.Join(t.samples, " / "))
		}
	}
	if t11.checked == 0 || t10.checked == 0 {
		v.failf("no responses checked")
	}
	checkAlive(p, v)
	return figs
}

// streamLoop asks for /stream until end: on one keep-alive connection at a
// time (HTTP/1.1), or a new connection per request (HTTP/1.0).
func streamLoop(addr string, http10 bool, end time.Time, t *streamTally) {
	proto := "HTTP/1.1"
	if http10 {
		proto = "HTTP/1.0"
	}
	req := []byte(fmt.Sprintf("GET /stream?size=%d %s\r\nHost: %s\r\n\r\n", streamSize, proto, addr))
	var (
		c  net.Conn
		br *bufio.Reader
	)
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for n := 0; n < streamMaxPer && time.Now().Before(end); n++ {
		if c == nil {
			var err error
			if c, err = net.DialTimeout("tcp", addr, 2*time.Second); err != nil {
				t.add("", fmt.Errorf("connect: %w", err))
				time.Sleep(10 * time.Millisecond)
				continue
			}
			br = bufio.NewReaderSize(c, 64<<10)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(req); err != nil {
			t.add("", fmt.Errorf("write: %w", err))
			c.Close()
			c = nil
			continue
		}
		cc := c
		res, err := checkStreamResponse(br, streamCheck{Want: streamSize, HTTP10: http10,
			BeforeClose: func() { cc.SetReadDeadline(time.Now().Add(time.Second)) }})
		t.add(res.Framing, err)
		if err != nil || !res.Keep {
			c.Close()
			c = nil
		}
	}
}
