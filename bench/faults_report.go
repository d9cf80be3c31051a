package main

import (
	"fmt"
	"strings"
	"time"
)

// runHeader is what the report of every mode says of its run first.
type runHeader struct {
	Date, Command, Machine, Pinning, Elapsed string
}

// newRunHeader describes the run that began at start, as of now (finish
// updates Elapsed for a run that goes on).
func newRunHeader(o *options, machine Machine, pin *pinning, start time.Time) runHeader {
	h := runHeader{Date: time.Now().UTC().Format("2006-01-02 15:04 MST"), Command: o.commandStr,
		Machine: machine.String(), Pinning: pin.String()}
	h.finish(start)
	return h
}

// finish sets the wall time of the run that began at start.
func (h *runHeader) finish(start time.Time) {
	h.Elapsed = time.Since(start).Round(time.Second).String()
}

// markdown writes the header as the list every report begins with.
func (h *runHeader) markdown(b *strings.Builder) {
	fmt.Fprintf(b, "- date: %s\n- command: `%s` (in bench/)\n- machine: %s\n- pinning: %s\n- wall time: %s\n\n",
		h.Date, h.Command, h.Machine, h.Pinning, h.Elapsed)
}

// faultReport is one -faults run: one table, a row per scenario and server.
type faultReport struct {
	runHeader
	Rows  []faultRow
	Scens []faultScenario
}

// Markdown renders results/faults.md.
func (r *faultReport) Markdown() string {
	var b strings.Builder
	b.WriteString("# Fault scenarios\n\n")
	r.runHeader.markdown(&b)
	fails := 0
	for _, row := range r.Rows {
		if strings.HasPrefix(row.Verdict, "FAIL") {
			fails++
		}
	}
	fmt.Fprintf(&b, "%d rows, %d FAIL. Each server ran as its own process, started afresh for every scenario.\n\n", len(r.Rows), fails)
	b.WriteString("| scenario | server | figures | verdict |\n|---|---|---|---|\n")
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", mdEscape(row.Scenario), mdEscape(row.Server), mdEscape(row.Figures), mdEscape(row.Verdict))
	}
	if len(r.Scens) > 0 {
		b.WriteString("\nScenarios (see bench/README.md for what each checks and its verdict rule):\n\n")
		for _, s := range r.Scens {
			fmt.Fprintf(&b, "- **%s**: %s\n", s.Name, mdEscape(s.Desc))
		}
	}
	return b.String()
}
