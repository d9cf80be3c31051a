package probe

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fastOptions are options for servers on 127.0.0.1: short waits, so a
// whole run takes a few seconds even against a server that hangs.
func fastOptions(url string) Options {
	return Options{
		URL:         url,
		MaxIdle:     3 * time.Second,
		MaxRequests: 20,
		Timeout:     2 * time.Second,
		DialTimeout: 5 * time.Second,
		CloseWait:   300 * time.Millisecond,
	}
}

func mustRun(t *testing.T, o Options) Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	rep, err := Run(ctx, o)
	require.NoError(t, err)
	require.LessOrEqual(t, time.Since(start), MaxDuration(o)+time.Second, "the run must stay within its bound")
	for _, r := range rep.Rows {
		t.Logf("%-20s %-5s %v | %s | status %s conn %s ka %s framing %s", r.Probe, r.Level, r.Codes, r.Verdict, r.Status, r.Connection, r.KeepAlive, r.Framing)
		require.NotEmpty(t, r.Codes, "row %s has no verdict", r.Probe)
		require.NotEmpty(t, r.Verdict, "row %s has no verdict", r.Probe)
	}
	return rep
}

// assertCodes checks that the probe's main verdict is want[0] and that it
// carries the other codes too.
func assertCodes(t *testing.T, rep Report, id string, want ...Code) *Row {
	t.Helper()
	row := rep.Row(id)
	require.NotNil(t, row, "no row for %s", id)
	require.NotEmpty(t, row.Codes, "row %s", id)
	assert.Equal(t, want[0], row.Codes[0], "main verdict of %s (%s)", id, row.Verdict)
	for _, c := range want[1:] {
		assert.Contains(t, row.Codes, c, "codes of %s (%s)", id, row.Verdict)
	}
	return row
}

// assertSeconds checks a measured duration against the configured one: a
// little early is clock granularity, late is a loaded machine, so the
// tolerance is asymmetric and generous.
func assertSeconds(t *testing.T, want, got float64, msg string) {
	t.Helper()
	assert.GreaterOrEqual(t, got, want-0.15, msg)
	assert.LessOrEqual(t, got, want+1.0, msg)
}
