package main

import (
	"strings"
	"testing"
	"time"
)

// Tests of the fault mode's pure parts; the scenarios themselves need
// server processes and run with `go run . -faults`.

func TestVerdict(t *testing.T) {
	var ok verdict
	if got := ok.String(); got != "ok" {
		t.Errorf("empty verdict %q, want ok", got)
	}
	var skip verdict
	skip.skipf("not %s", "here")
	if got := skip.String(); got != "skip: not here" {
		t.Errorf("skip verdict %q", got)
	}
	var fail verdict
	fail.skipf("ignored once something failed")
	fail.failf("a %d", 1)
	fail.failf("b")
	if got := fail.String(); got != "FAIL: a 1; b" {
		t.Errorf("fail verdict %q", got)
	}
}

func TestParseStatusKB(t *testing.T) {
	status := []byte("Name:\tbench\nVmPeak:\t  812345 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nThreads:\t7\n")
	cases := []struct {
		field string
		want  int64
		err   bool
	}{
		{"VmHWM", 20480 << 10, false},
		{"VmRSS", 10240 << 10, false},
		{"VmSwap", 0, true},
		{"Threads", 0, true}, // not a kB field
	}
	for _, c := range cases {
		got, err := parseStatusKB(status, c.field)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("%s: %d, %v; want %d, error %v", c.field, got, err, c.want, c.err)
		}
	}
}

func TestDrainStart(t *testing.T) {
	def := time.Unix(100, 0)
	got := drainStart([]string{"draining since 1700000000123456789", "shutdown: clean after 3ms"}, def)
	if want := time.Unix(0, 1700000000123456789); !got.Equal(want) {
		t.Errorf("drainStart = %v, want %v", got, want)
	}
	if got := drainStart([]string{"shutdown: clean after 3ms", "draining since x"}, def); !got.Equal(def) {
		t.Errorf("without a valid line: %v, want the default", got)
	}
}

func TestOutcomesString(t *testing.T) {
	var o outcomes
	if o.String() != "" || o.total() != 0 {
		t.Fatalf("empty outcomes: %q, %d", o.String(), o.total())
	}
	for _, k := range []string{"closed", "400", "closed", "held", "400", "closed"} {
		o.add(k)
	}
	if got, want := o.String(), "closed 3, 400 2, held 1"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if o.total() != 6 {
		t.Errorf("total %d, want 6", o.total())
	}
}

func TestSummarizeEnds(t *testing.T) {
	now := time.Now()
	recs := []floodConn{
		{endKind: "reset", endAt: 1200 * time.Millisecond},
		{endKind: "reset", endAt: 2 * time.Second},
		{lastProgress: now.Add(-3 * time.Second)}, // stalled
		{},                  // never progressed: stalled
		{lastProgress: now}, // still being read
		{endKind: "closed", endAt: 500 * time.Millisecond},
	}
	got := summarizeEnds(recs, now)
	want := "2 reset by the server after 1.2–2.0 s, 2 stalled (server stopped reading, kept open), 1 still read by the server at the end, 1 closed by the server after 0.5–0.5 s"
	if got != want {
		t.Errorf("summarizeEnds:\n got %s\nwant %s", got, want)
	}
}

func TestSelectFaultScenarios(t *testing.T) {
	all, err := selectFaultScenarios("")
	if err != nil || len(all) != 8 {
		t.Fatalf("all scenarios: %d, %v", len(all), err)
	}
	seen := map[string]bool{}
	for _, s := range all {
		if s.Name == "" || s.Desc == "" || s.Run == nil || seen[s.Name] {
			t.Errorf("scenario %q: incomplete or repeated", s.Name)
		}
		seen[s.Name] = true
	}
	// The flag's order does not matter: scenarios keep their run order.
	sel, err := selectFaultScenarios("burst, stream")
	if err != nil || len(sel) != 2 || sel[0].Name != "stream" || sel[1].Name != "burst" {
		t.Fatalf("selection: %v, %v", sel, err)
	}
	if _, err := selectFaultScenarios("stream,nope"); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown scenario: %v", err)
	}
}

func TestFaultReportMarkdown(t *testing.T) {
	r := &faultReport{
		runHeader: runHeader{Date: "2026-11-27 10:00 UTC", Command: "go run . -faults", Machine: "m", Pinning: "p", Elapsed: "2m"},
		Rows: []faultRow{
			{Scenario: "stream", Server: "kahttp-pool", Figures: "a | b", Verdict: "FAIL: 2 wrong"},
			{Scenario: "stream", Server: "nethttp", Figures: "c\nd", Verdict: "ok"},
			{Scenario: "burst", Server: "kahttp-inline", Figures: "—", Verdict: "skip: why"},
		},
		Scens: []faultScenario{{Name: "stream", Desc: "what it does"}},
	}
	md := r.Markdown()
	mdContains(t, md,
		"3 rows, 1 FAIL.",
		"| scenario | server | figures | verdict |\n|---|---|---|---|\n",
		"| stream | kahttp-pool | a \\| b | FAIL: 2 wrong |\n",
		"| stream | nethttp | c d | ok |\n",
		"- **stream**: what it does\n",
	)
	// One table: every table line has 4 cells.
	for _, l := range strings.Split(md, "\n") {
		if strings.HasPrefix(l, "|") && strings.Count(strings.ReplaceAll(l, `\|`, ""), "|") != 5 {
			t.Errorf("table line with a wrong cell count: %q", l)
		}
	}
}

func TestClassifyShutdown(t *testing.T) {
	drain := time.Unix(1000, 0)
	before := drain.Add(-time.Second)
	justBefore := drain.Add(-time.Millisecond)
	after := drain.Add(100 * time.Millisecond)
	events := []shutEvent{
		{dialed: before, lastAt: after}, // existing, answered during the drain
		{dialed: after},                 // new, answered
		{dialed: before, lastAt: justBefore, result: "closed"},                      // idle-close race
		{dialed: before, result: "closed"},                                          // first request of an idle connection: race
		{dialed: before, lastAt: drain.Add(2 * time.Millisecond), result: "closed"}, // within the slack: race
		{dialed: before, lastAt: after, result: "closed"},                           // keep-alive promised during the drain
		{dialed: before, lastAt: justBefore, result: "reset"},                       // request dropped unread
		{dialed: before, lastAt: justBefore, result: "timeout"},
		{dialed: after, result: "closed"},
		{dialed: after, result: "reset"},
		{dialed: after, result: "status 503"},
	}
	c := classifyShutdown(events, drain)
	if c.exAns != 1 || c.newAns != 1 || c.races != 3 {
		t.Errorf("answered %d existing, %d new, %d races; want 1, 1, 3", c.exAns, c.newAns, c.races)
	}
	if got, want := c.exLost.String(), "closed after a keep-alive response sent during the drain 1, reset: closed with the request unread 1, timeout 1"; got != want {
		t.Errorf("existing lost: %s\nwant %s", got, want)
	}
	if got, want := c.newLost.String(), "accepted, then closed without a response 1, reset: closed with the request unread 1, status 503 1"; got != want {
		t.Errorf("new lost: %s\nwant %s", got, want)
	}
}
