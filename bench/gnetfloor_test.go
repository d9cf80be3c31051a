package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// newGnetFloor runs the floor server in this process on a free port; the
// cleanup stops it with Engine.Stop and waits for it.
func newGnetFloor(t *testing.T) string {
	t.Helper()
	addr, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	errc := make(chan error, 1)
	go func() { errc <- runGnetFloor(addr, stop) }()
	t.Cleanup(func() {
		close(stop)
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("gnet-floor stopped with %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("gnet-floor did not stop within 5 s")
		}
	})
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-errc:
			t.Fatalf("gnet-floor: %v", err)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatal("gnet-floor did not start")
		}
	}
}

// floorWant is the answer kahttp gives to GET /plaintext, with the date
// as "<date>" and extra before the blank line.
func floorWant(extra string) string {
	return "HTTP/1.1 200 OK\r\nServer: kahttp\r\nContent-Type: text/plain; charset=utf-8\r\nDate: <date>\r\nContent-Length: 13\r\n" + extra + "\r\nHello, World!"
}

const (
	floorKA    = "Connection: keep-alive\r\nKeep-Alive: timeout=75\r\n"
	floorClosA = "Connection: close\r\n"
)

var dateLine = regexp.MustCompile(`Date: ([^\r]*)\r\n`)

// readAnswers reads n answers of the given form from c, checks every byte
// but the date's, and that the dates are now's.
func readAnswers(t *testing.T, c net.Conn, n int, extra string) {
	t.Helper()
	want := strings.Repeat(floorWant(extra), n)
	size := len(want) + n*(len(http.TimeFormat)-len("<date>"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, size)
	if k, err := io.ReadFull(c, got); err != nil {
		t.Fatalf("reading %d answers: %v (got %q)", n, err, got[:k])
	}
	for _, m := range dateLine.FindAllSubmatch(got, -1) {
		d, err := http.ParseTime(string(m[1]))
		if err != nil || time.Since(d).Abs() > 5*time.Second {
			t.Errorf("Date %q: %v", m[1], err)
		}
	}
	if s := dateLine.ReplaceAllString(string(got), "Date: <date>\r\n"); s != want {
		t.Fatalf("got  %q\nwant %q", s, want)
	}
}

// wantOpen checks that c stays open and quiet; wantClosed that the server
// closed it with nothing more.
func wantOpen(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	var b [1]byte
	if n, err := c.Read(b[:]); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("want an open, quiet connection; read %d bytes, %v", n, err)
	}
}

func wantClosed(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if rest, err := io.ReadAll(c); err != nil || len(rest) != 0 {
		t.Fatalf("want the server's close; read %q, %v", rest, err)
	}
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestGnetFloorAnswers(t *testing.T) {
	addr := newGnetFloor(t)
	req := "GET /plaintext HTTP/1.1\r\nHost: " + addr + "\r\n\r\n"

	t.Run("one", func(t *testing.T) {
		c := dial(t, addr)
		io.WriteString(c, req)
		readAnswers(t, c, 1, "")
		wantOpen(t, c)
	})
	t.Run("pipelined16", func(t *testing.T) {
		// 16 requests, the last one cut over three writes: the floor
		// keeps the unfinished head for the next reads.
		c := dial(t, addr)
		batch := strings.Repeat(req, 16)
		cut1, cut2 := len(batch)-len(req)/2, len(batch)-3
		io.WriteString(c, batch[:cut1])
		readAnswers(t, c, 15, "")
		wantOpen(t, c)
		io.WriteString(c, batch[cut1:cut2])
		wantOpen(t, c)
		io.WriteString(c, batch[cut2:])
		readAnswers(t, c, 1, "")
		wantOpen(t, c)
	})
	t.Run("http10-keepalive", func(t *testing.T) {
		c := dial(t, addr)
		for range 2 {
			io.WriteString(c, "GET /plaintext HTTP/1.0\r\nHost: "+addr+"\r\nConnection: Keep-Alive\r\n\r\n")
			readAnswers(t, c, 1, floorKA)
			wantOpen(t, c)
		}
	})
	t.Run("http10", func(t *testing.T) {
		c := dial(t, addr)
		io.WriteString(c, "GET /plaintext HTTP/1.0\r\nHost: "+addr+"\r\n\r\n")
		readAnswers(t, c, 1, floorClosA)
		wantClosed(t, c)
	})
	t.Run("close", func(t *testing.T) {
		// The answers before a Connection: close request come first, and
		// nothing after it is answered.
		c := dial(t, addr)
		io.WriteString(c, req+req+"GET /plaintext HTTP/1.1\r\nHost: "+addr+"\r\nConnection: close\r\n\r\n"+req)
		readAnswers(t, c, 2, "")
		readAnswers(t, c, 1, floorClosA)
		wantClosed(t, c)
	})
}

// The harness's own checks pass: the route check on the floor's route,
// and the load generator, which checks every answer, in every mode the
// floor runs.
func TestGnetFloorUnderHarness(t *testing.T) {
	addr := newGnetFloor(t)
	checks, err := checkRoutes(addr, registry["gnet-floor"].answers)
	if err != nil || len(checks) != 2 {
		t.Fatalf("route check: %v, %+v", err, checks)
	}
	if !strings.Contains(strings.Join(checks[0].Headers, ","), "connection,content-length,content-type,date,server") {
		t.Errorf("GET /plaintext headers %v", checks[0].Headers)
	}
	for name, spec := range map[string]LoadSpec{
		"keepalive":        {Conns: 4},
		"pipelined":        {Conns: 2, Pipeline: 16},
		"shortlived":       {Conns: 2, NewConnPerReq: true, MaxRequests: 100},
		"http10-keepalive": {Conns: 2, HTTP10: true, KeepAlive10: true},
	} {
		spec.Addr = addr
		spec.Requests = []Request{getPlaintext()}
		res := run(t, spec)
		if res.Errors != 0 || res.OK == 0 {
			t.Errorf("%s: ok %d errors %d %v", name, res.OK, res.Errors, res.ErrSamples)
		}
	}
}

func TestFloorKind(t *testing.T) {
	for head, want := range map[string]int{
		"GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n":                           floorPlain,
		"GET /plaintext HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n":      floorClose,
		"GET /plaintext HTTP/1.0\r\nHost: a\r\nConnection: Keep-Alive\r\n\r\n": floorKeepAlive,
		"GET /plaintext HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n": floorKeepAlive,
		"GET /plaintext HTTP/1.0\r\nHost: a\r\n\r\n":                           floorClose,
	} {
		if got := floorKind([]byte(head)); got != want {
			t.Errorf("%q: kind %d, want %d", head, got, want)
		}
	}
	a := buildFloorAnswers(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	one := string(a.copies[floorPlain][:a.size[floorPlain]])
	if want := strings.Replace(floorWant(""), "<date>", "Fri, 02 Jan 2026 03:04:05 GMT", 1); one != want {
		t.Errorf("answer %q, want %q", one, want)
	}
	if !bytes.Equal(a.copies[floorPlain], bytes.Repeat([]byte(one), floorBatch)) {
		t.Error("the batch is not floorBatch copies of the answer")
	}
}

// The floor runs the GET /plaintext cases only; the tables say so.
func TestFloorCases(t *testing.T) {
	floor := registry["gnet-floor"]
	runs := map[string]bool{}
	for _, c := range allCases() {
		if floor.notRun(&c) == "" {
			runs[c.Scenario] = true
		}
		if registry["kahttp-inline"].notRun(&c) != "" {
			t.Errorf("kahttp-inline skips %s", c.Name())
		}
	}
	for _, s := range scenarioNames {
		want := s == "keepalive" || s == "pipelined" || s == "shortlived" || s == "http10-keepalive" || s == "idle"
		if runs[s] != want {
			t.Errorf("floor runs %s: %v, want %v", s, runs[s], want)
		}
	}
	cs, err := selectCases("mixed", false)
	if err != nil || len(cs) != 1 {
		t.Fatal(cs, err)
	}
	mixed := cs[0]
	cr := &CaseResult{Name: mixed.Name(), Scenario: mixed.Scenario, Rounds: map[string][]Sample{}}
	if got := caseServers(&mixed, []string{"kahttp-inline", "gnet-floor"}, cr); len(got) != 1 || cr.NotRun["gnet-floor"] != "n/a (only GET /plaintext)" {
		t.Fatalf("caseServers %v, not run %v", got, cr.NotRun)
	}

	run := fixedRun()
	run.Servers = append(run.Servers, "gnet-floor")
	run.Labels = map[string]string{"gnet-floor": floor.Label}
	run.Cases[0].Rounds["gnet-floor"] = run.Cases[0].Rounds["fasthttp"]
	run.Cases[1].NotRun = map[string]string{"gnet-floor": "n/a (only GET /plaintext)"}
	run.Cases[2].NotRun = map[string]string{"gnet-floor": "n/a (only GET /plaintext)"}
	md := run.Markdown()
	mdContains(t, md,
		"| keepalive/c64 | gnet floor (fixed answer, no HTTP) | 65000 |",
		"| pipelined/p16-c64 | gnet floor (fixed answer, no HTTP) | n/a (only GET /plaintext) | — |",
		"| gnet floor (fixed answer, no HTTP) | n/a (only GET /plaintext) | — |",
		"gnet floor (fixed answer, no HTTP) is `gnet-floor`, not an HTTP server",
	)
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "| pipelined/p16-c64 |") && strings.Count(l, "|") != 15 {
			t.Errorf("row has %d pipes, want 15: %s", strings.Count(l, "|"), l)
		}
	}
}
