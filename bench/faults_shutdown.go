package main

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Scenario "shutdown": graceful shutdown under load. Keep-alive clients
// loop /plaintext and /sleep?ms=200 while a dialer keeps opening a new
// connection per request; SIGTERM comes after 2 s. A request the server
// read must be answered: what counts is every request written on a
// connection and never answered (EOF, reset or no response in time), on
// connections opened before the server's drain began ("existing") and after
// it ("new"); classifyShutdown sorts them out.

const (
	shutConns      = 32
	shutAfter      = 2 * time.Second
	shutExitBound  = 6 * time.Second // the server must have exited by then
	shutReadBound  = 5 * time.Second // a response slower than this counts as lost
	shutMaxPerConn = 200_000
	// shutDrainSlack: a response read this soon after the server's drain
	// began may have been written just before it.
	shutDrainSlack = 5 * time.Millisecond
)

// drainStart is when the server says its drain began ("draining since
// <unix ns>"), else def.
func drainStart(lines []string, def time.Time) time.Time {
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, "draining since "); ok {
			if ns, err := strconv.ParseInt(rest, 10, 64); err == nil {
				return time.Unix(0, ns)
			}
		}
	}
	return def
}

func shutdownScenario() faultScenario {
	return faultScenario{
		Name: "shutdown",
		Desc: fmt.Sprintf("%d keep-alive connections loop GET /plaintext (half) and GET /sleep?ms=200 (half), reconnecting when closed, while a dialer opens a new connection per GET /plaintext; SIGTERM after %v; clients stop when the server has exited (bound %v). Lost = written and never answered. Verdict: FAIL when a request is lost, on a connection opened before the SIGTERM or after it (a refused connect is not a loss: the client knows the request was not taken; an EOF on an existing connection whose last response came before the drain began is the HTTP/1.1 idle-close race, counted apart), or the server does not exit cleanly within %v",
			shutConns, shutAfter, shutExitBound, shutExitBound),
		Run: runShutdownFault,
	}
}

// shutTally collects what the clients saw.
type shutTally struct {
	sigAt   atomic.Int64 // unix ns when the SIGTERM was sent, 0 before
	mu      sync.Mutex
	before  int64       // answered before the SIGTERM was sent
	events  []shutEvent // requests answered after it, and every request lost
	refused int64       // connects after the SIGTERM that failed
}

// shutEvent is one request, sorted out by classifyShutdown once the server
// has said when its drain began.
type shutEvent struct {
	dialed time.Time // when its connection was opened
	lastAt time.Time // when the previous response on that connection arrived (zero: none)
	result string    // "" when answered; else "closed" (EOF), "reset", "timeout", "status N", …
}

func (t *shutTally) sent() bool { return t.sigAt.Load() != 0 }

func (t *shutTally) add(e shutEvent) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e.result == "" && !t.sent() {
		t.before++
		return
	}
	t.events = append(t.events, e)
}

// shutCounts is the outcome after the drain began.
type shutCounts struct {
	exAns, newAns   int
	exLost, newLost outcomes
	races           int // EOF on an idle existing connection: the HTTP/1.1 race
}

// classifyShutdown sorts the events by the drain's start. A connection
// opened before it is "existing", after it "new". An EOF (not a RST) means
// the server closed the connection before the request arrived: had the
// request been there unread, the close would have sent a RST. On a new
// connection that is a loss (accepted, then dropped instead of refused).
// On an existing one it depends on the server's last response there: if it
// came after the drain began (with shutDrainSlack for one written just
// before) it should have said Connection: close, a loss; if before, it is
// the idle-connection race of HTTP/1.1, which clients retry (RFC 9112
// §9.3.1), counted apart.
func classifyShutdown(events []shutEvent, drain time.Time) *shutCounts {
	c := &shutCounts{}
	for _, e := range events {
		isNew := !e.dialed.Before(drain)
		switch {
		case e.result == "" && isNew:
			c.newAns++
		case e.result == "":
			c.exAns++
		case e.result == "closed" && isNew:
			c.newLost.add("accepted, then closed without a response")
		case e.result == "closed" && (e.lastAt.IsZero() || e.lastAt.Before(drain.Add(shutDrainSlack))):
			c.races++
		case e.result == "closed":
			c.exLost.add("closed after a keep-alive response sent during the drain")
		case e.result == "reset" && isNew:
			c.newLost.add("reset: closed with the request unread")
		case e.result == "reset":
			c.exLost.add("reset: closed with the request unread")
		case isNew:
			c.newLost.add(e.result)
		default:
			c.exLost.add(e.result)
		}
	}
	return c
}

func runShutdownFault(fx *faultEnv, name string, v *verdict) string {
	p, err := fx.start(name)
	if err != nil {
		v.failf("start: %v", err)
		return ""
	}
	defer fx.stop(p)
	var (
		t    shutTally
		stop atomic.Bool
		wg   sync.WaitGroup
	)
	for i := 0; i < shutConns; i++ {
		path := "/plaintext"
		if i%2 == 1 {
			path = "/sleep?ms=200"
		}
		wg.Add(1)
		go func() { defer wg.Done(); shutClient(p.Addr, path, false, &stop, &t) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); shutClient(p.Addr, "/plaintext", true, &stop, &t) }()

	time.Sleep(shutAfter)
	t.sigAt.Store(time.Now().UnixNano())
	sig := time.Now()
	p.Cmd.Process.Signal(syscall.SIGTERM)
	exited := false
	select {
	case <-p.done:
		exited = true
	case <-time.After(shutExitBound):
	}
	exitAfter := time.Since(sig)
	time.Sleep(200 * time.Millisecond) // new connections now meet a closed port
	stop.Store(true)
	wg.Wait()

	drain := drainStart(p.output(), time.Unix(0, t.sigAt.Load()))
	c := classifyShutdown(t.events, drain)
	var outLines []string
	for _, l := range p.output() {
		if !strings.HasPrefix(l, "draining since ") {
			outLines = append(outLines, l)
		}
	}
	out := strings.Join(outLines, " | ")
	figs := fmt.Sprintf("answered before SIGTERM %d; after it, existing connections: %d answered, %d lost%s, %d idle-close races; new connections: %d answered, %d lost%s, %d refused; ",
		t.before, c.exAns, c.exLost.total(), paren(c.exLost.String()), c.races, c.newAns, c.newLost.total(), paren(c.newLost.String()), t.refused)
	if exited {
		figs += fmt.Sprintf("exited %v after SIGTERM (exit %d, %q)", exitAfter.Round(time.Millisecond), p.Cmd.ProcessState.ExitCode(), out)
		if p.Cmd.ProcessState.ExitCode() != 0 || !strings.Contains(out, "shutdown: clean") {
			v.failf("unclean exit (%s)", out)
		}
	} else {
		figs += fmt.Sprintf("still running %v after SIGTERM", shutExitBound)
		v.failf("did not exit within %v of SIGTERM", shutExitBound)
	}
	if n := c.exLost.total(); n > 0 {
		v.failf("%d requests lost on existing connections (%s)", n, c.exLost.String())
	}
	if n := c.newLost.total(); n > 0 {
		v.failf("%d requests lost on new connections (%s)", n, c.newLost.String())
	}
	if t.before == 0 {
		v.failf("no request answered before the SIGTERM")
	}
	return figs
}

// shutClient loops GET path on keep-alive connections (or, for the dialer,
// a new connection per request) until stop.
func shutClient(addr, path string, dialer bool, stop *atomic.Bool, t *shutTally) {
	var (
		k      *keepConn
		dialed time.Time
		lastAt time.Time // when the last response on k arrived
	)
	defer func() {
		if k != nil {
			k.c.Close()
		}
	}()
	req := []byte("GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\n\r\n")
	for n := 0; n < shutMaxPerConn && !stop.Load(); n++ {
		if k == nil {
			var err error
			dialed, lastAt = time.Now(), time.Time{}
			if k, err = dialKeep(addr, time.Second); err != nil {
				if t.sent() {
					t.mu.Lock()
					t.refused++
					t.mu.Unlock()
				}
				time.Sleep(20 * time.Millisecond)
				continue
			}
		}
		k.c.SetDeadline(time.Now().Add(shutReadBound))
		if _, err := k.c.Write(req); err != nil {
			// Not written: the server had already closed (and said so
			// with a RST); nothing was lost.
			k.c.Close()
			k = nil
			continue
		}
		status, _, keep, err := k.rr.readResponse(false)
		e := shutEvent{dialed: dialed, lastAt: lastAt}
		switch {
		case err != nil:
			e.result = ioKind(err)
		case status != 200:
			e.result = fmt.Sprintf("status %d", status)
		default:
			lastAt = time.Now()
		}
		t.add(e)
		if err != nil || !keep || dialer {
			k.c.Close()
			k = nil
		}
		if err != nil {
			time.Sleep(20 * time.Millisecond) // as after a refused connect: a bounded retry rate
		}
	}
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}
