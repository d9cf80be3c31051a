package main

import (
	"fmt"
	"strings"
)

// faultReport is one -faults run: one table, a row per scenario and server.
type faultReport struct {
	Date, Command, Machine, Pinning, Elapsed string
	Rows                                     []faultRow
	Scens                                    []faultScenario
}

// Markdown renders results/faults.md.
func (r *faultReport) Markdown() string {
	var b strings.Builder
	b.WriteString("# Fault scenarios\n\n")
	fmt.Fprintf(&b, "- date: %s\n- command: `%s` (in bench/)\n- machine: %s\n- pinning: %s\n- wall time: %s\n\n",
		r.Date, r.Command, r.Machine, r.Pinning, r.Elapsed)
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
