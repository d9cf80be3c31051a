package main

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// Scenario "flood": connections that write pipelined GET /plaintext as fast
// as the server takes them and never read a response. A server must stop
// reading a connection whose responses pile up (or close it), so its memory
// stays bounded; it must go on serving others, and let go of everything
// once the clients leave.

const (
	floodConns      = 20
	floodDuration   = 5 * time.Second
	floodBatch      = 64 // requests per write
	floodAfter      = 5 * time.Second
	floodMaxBytes   = 256 << 20 // bound on what one connection writes
	floodStallAfter = time.Second
	// floodMaxPerConn is the peak RSS growth per flooding connection above
	// which the row fails: a server that bounds its unsent output per
	// connection (kahttp: MaxOutboundBytes, 1 MiB) stays well below.
	floodMaxPerConn = 4 << 20
)

func floodScenario() faultScenario {
	return faultScenario{
		Name: "flood",
		Desc: fmt.Sprintf("%d connections write pipelined GET /plaintext (%d per write) for %v and never read; RSS sampled every 100 ms, peak from VmHWM, again %v after the clients closed; how each flooding connection ended; a /plaintext on a new connection every 0.5 s beside. Verdict: FAIL above %s of peak RSS growth per flooding connection, when the server still holds sockets %v after the clients left, or when /plaintext beside fails",
			floodConns, floodBatch, floodDuration, floodAfter, fmtMiB(floodMaxPerConn), floodAfter),
		Run: runFloodFault,
	}
}

// floodConn is one flooding client's record.
type floodConn struct {
	written      int64
	lastProgress time.Time
	endKind      string        // "" while the server accepts; else how the writes ended
	endAt        time.Duration // since the flood began
}

func runFloodFault(fx *faultEnv, name string, v *verdict) string {
	p, err := fx.start(name)
	if err != nil {
		v.failf("start: %v", err)
		return ""
	}
	defer fx.stop(p)
	if _, err := getPlainOK(p.Addr, 2*time.Second); err != nil {
		v.failf("warm-up request: %v", err)
		return ""
	}
	time.Sleep(100 * time.Millisecond)
	baseRSS, _ := procStatusBytes(p.Pid, "VmRSS")
	baseSock, _ := procSockets(p.Pid)

	one := formatRequest(&LoadSpec{Addr: p.Addr}, &Request{Method: "GET", Path: "/plaintext"}, false)
	batch := bytes.Repeat(one, floodBatch)
	start := time.Now()
	end := start.Add(floodDuration)
	recs := make([]floodConn, floodConns)
	conns := make([]net.Conn, floodConns)
	var wg sync.WaitGroup
	for i := range recs {
		c, err := net.DialTimeout("tcp", p.Addr, 2*time.Second)
		if err != nil {
			v.failf("connect: %v", err)
			break
		}
		conns[i] = c
		wg.Add(1)
		go func(c net.Conn, r *floodConn) {
			defer wg.Done()
			floodWrite(c, batch, start, end, r)
		}(c, &recs[i])
	}

	// Beside the flood: RSS samples and a /plaintext probe.
	var (
		peakRSS  int64
		probeMax time.Duration
		probeOK  int
		probeErr []string
	)
	for now := time.Now(); now.Before(end); now = time.Now() {
		if rss, err := procStatusBytes(p.Pid, "VmRSS"); err == nil {
			peakRSS = max(peakRSS, rss)
		}
		if now.Sub(start) >= time.Duration(probeOK+len(probeErr))*500*time.Millisecond {
			if d, err := getPlainOK(p.Addr, 2*time.Second); err != nil {
				probeErr = append(probeErr, err.Error())
			} else {
				probeOK++
				probeMax = max(probeMax, d)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	wg.Wait()
	hwm, hwmErr := procStatusBytes(p.Pid, "VmHWM")
	if hwmErr == nil {
		peakRSS = max(peakRSS, hwm)
	}
	heldSock, _ := procSockets(p.Pid)
	ends := summarizeEnds(recs, time.Now())
	for _, c := range conns {
		if c != nil {
			c.Close() // unread responses in our receive buffer: the kernel sends a RST
		}
	}
	time.Sleep(floodAfter)
	afterRSS, _ := procStatusBytes(p.Pid, "VmRSS")
	afterSock, _ := procSockets(p.Pid)

	var written int64
	for i := range recs {
		written += recs[i].written
	}
	perConn := float64(peakRSS-baseRSS) / floodConns
	figs := fmt.Sprintf("each client wrote %s (kernel buffers included); ended: %s; RSS %s before, peak %s (+%s per connection), %v after the clients left %s; sockets %d before, %d at the end of the flood, %d after; /plaintext beside: %d ok (max %v), %d failed",
		fmtMiB(written/floodConns), ends, fmtMiB(baseRSS), fmtMiB(peakRSS), fmtMiB(int64(perConn)),
		floodAfter, fmtMiB(afterRSS), baseSock, heldSock, afterSock, probeOK, probeMax.Round(time.Millisecond), len(probeErr))
	if perConn > floodMaxPerConn {
		v.failf("peak RSS grew %s per flooding connection (limit %s)", fmtMiB(int64(perConn)), fmtMiB(floodMaxPerConn))
	}
	if afterSock > baseSock {
		v.failf("%d sockets still open %v after the clients left (%d before)", afterSock, floodAfter, baseSock)
	}
	if len(probeErr) > 0 {
		v.failf("/plaintext beside the flood failed %d times (%s)", len(probeErr), probeErr[0])
	}
	checkAlive(p, v)
	return figs
}

// summarizeEnds says how the flooding connections had ended at now, the end
// of the flood: "20 stalled (server stopped reading, kept open)", "3 reset
// by the server after 1.2–2.0 s", …
func summarizeEnds(recs []floodConn, now time.Time) string {
	type span struct {
		n        int
		min, max time.Duration
	}
	kinds := map[string]*span{}
	var order []string
	for i := range recs {
		r := &recs[i]
		k := r.endKind
		switch {
		case k != "":
			k += " by the server"
		case r.lastProgress.IsZero() || now.Sub(r.lastProgress) > floodStallAfter:
			k = "stalled (server stopped reading, kept open)"
		default:
			k = "still read by the server at the end"
		}
		s := kinds[k]
		if s == nil {
			s = &span{min: r.endAt, max: r.endAt}
			kinds[k] = s
			order = append(order, k)
		}
		s.n++
		s.min, s.max = min(s.min, r.endAt), max(s.max, r.endAt)
	}
	parts := make([]string, len(order))
	for i, k := range order {
		s := kinds[k]
		parts[i] = fmt.Sprintf("%d %s", s.n, k)
		if strings.HasSuffix(k, "by the server") {
			parts[i] += fmt.Sprintf(" after %.1f–%.1f s", s.min.Seconds(), s.max.Seconds())
		}
	}
	return strings.Join(parts, ", ")
}

// floodWrite writes batch after batch to c until end (or floodMaxBytes),
// never reading. Partial writes are resumed, so requests stay whole.
func floodWrite(c net.Conn, batch []byte, start, end time.Time, r *floodConn) {
	off := 0
	for time.Now().Before(end) && r.written < floodMaxBytes {
		c.SetWriteDeadline(time.Now().Add(250 * time.Millisecond))
		n, err := c.Write(batch[off:])
		if n > 0 {
			r.written += int64(n)
			r.lastProgress = time.Now()
			off = (off + n) % len(batch)
		}
		if err != nil {
			if k := ioKind(err); k != "timeout" {
				r.endKind = k
				r.endAt = time.Since(start)
				return
			}
		}
	}
}
