package probe

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes the report as indented JSON.
func WriteJSON(w io.Writer, rep Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteTable writes the report as a table, one row per probe, followed by
// the verdicts in full (the table keeps them short).
func WriteTable(w io.Writer, rep Report) error {
	fmt.Fprintf(w, "kaprobe %s (baseline GET: %s), %d probes in %.1f s\n\n",
		rep.Target, statusOrUnknown(rep.Baseline), len(rep.Rows), rep.DurationSec)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROBE\tSTATUS\tCONNECTION\tKEEP-ALIVE\tFRAMING\tMEASURED\tVERDICT")
	for _, r := range rep.Rows {
		m := "-"
		if r.Measured != nil {
			m = r.Measured.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s %s\n", r.Probe, clip(r.Status, 20), clip(r.Connection, 22),
			clip(r.KeepAlive, 26), clip(r.Framing, 22), m, strings.ToUpper(string(r.Level)), codes(r.Codes))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, r := range rep.Rows {
		fmt.Fprintf(w, "%-20s sent: %s\n%-20s  got: %s\n", r.Probe, r.Sent, "", r.Verdict)
	}
	return nil
}

func statusOrUnknown(s int) string {
	if s == 0 {
		return "no valid answer"
	}
	return fmt.Sprint(s)
}

func codes(cs []Code) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ",")
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
