package probe

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"
)

type probeFunc func(ctx context.Context, p *prober) Row

// prober is what every probe gets: the target and the options.
type prober struct {
	t        target
	o        Options
	baseline int // status of a lone GET of the target; 0 if unknown
}

func (p *prober) dial(ctx context.Context, row *Row) (*session, error) {
	s, err := dial(ctx, p.t, p.o)
	if err != nil {
		row.set(LevelError, "could not connect: "+err.Error(), CodeDialFailed)
		row.Error = err.Error()
	}
	return s, err
}

type probeDef struct {
	id    string
	run   probeFunc
	large bool                          // needs Options.PathLarge
	limit func(o Options) time.Duration // the probe's own time limit
}

func perProbe(o Options) time.Duration { return o.Timeout }

func withCloseWait(o Options) time.Duration { return o.Timeout + o.CloseWait }

// twoRounds: a -timeout for the probe, another for the requests that check it.
func twoRounds(o Options) time.Duration { return 2 * o.Timeout }

var probes = []probeDef{
	{id: "http11-persist", run: probeHTTP11Persist, limit: perProbe},
	{id: "http10-close", run: probeHTTP10Close, limit: withCloseWait},
	{id: "http10-keepalive", run: probeHTTP10KeepAlive, limit: withCloseWait},
	{id: "idle-timeout", run: probeIdleTimeout, limit: func(o Options) time.Duration { return o.MaxIdle + o.Timeout + time.Second }},
	{id: "max-requests", run: probeMaxRequests, limit: func(o Options) time.Duration { return 3 * o.Timeout }},
	{id: "pipeline-2", run: probePipeline(2), limit: twoRounds},
	{id: "pipeline-10", run: probePipeline(10), limit: twoRounds},
	{id: "post-crlf", run: probePostCRLF, limit: perProbe},
	{id: "framing-http11", run: probeFraming("HTTP/1.1", ""), limit: perProbe},
	{id: "framing-http10", run: probeFraming("HTTP/1.0", ""), limit: perProbe},
	{id: "framing-http11-large", run: probeFraming("HTTP/1.1", "large"), large: true, limit: perProbe},
	{id: "framing-http10-large", run: probeFraming("HTTP/1.0", "large"), large: true, limit: perProbe},
}

// ProbeIDs lists the probes in the order of the report.
func ProbeIDs() []string {
	ids := make([]string, len(probes))
	for i, p := range probes {
		ids[i] = p.id
	}
	return ids
}

func isProbeID(id string) bool { return slices.Contains(ProbeIDs(), id) }

// MaxDuration is an upper bound of how long Run takes with these options
// (after defaults): the reachability check plus the longest probe, as the
// probes run concurrently.
func MaxDuration(o Options) time.Duration {
	o, _, err := o.withDefaults()
	if err != nil {
		return 0
	}
	longest := time.Duration(0)
	for _, p := range probes {
		longest = max(longest, p.limit(o))
	}
	return o.DialTimeout + o.Timeout + longest
}

// Run checks that the target can be reached, then runs the probes
// concurrently, each bounded by its own deadline, and returns one Row per
// probe. The error is non-nil only for bad options (wrapping ErrUsage) or
// an unreachable target (wrapping ErrUnreachable); verdicts, however bad,
// are in the Report.
func Run(ctx context.Context, opts Options) (Report, error) {
	o, t, err := opts.withDefaults()
	if err != nil {
		return Report{}, err
	}
	start := time.Now()
	rep := Report{Target: t.url, StartedAt: start.UTC().Format(time.RFC3339)}
	p := &prober{t: t, o: o}
	if p.baseline, err = reach(ctx, t, o); err != nil {
		return rep, err
	}
	rep.Baseline = p.baseline

	var defs []probeDef
	for _, d := range probes {
		if d.large && o.PathLarge == "" {
			continue
		}
		if len(o.Probes) > 0 && !slices.Contains(o.Probes, d.id) {
			continue
		}
		defs = append(defs, d)
	}
	rep.Rows = make([]Row, len(defs))
	var wg sync.WaitGroup
	for i, d := range defs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, d.limit(o))
			defer cancel()
			t0 := time.Now()
			row := runOne(pctx, d, p)
			row.Probe = d.id
			row.DurationSec = seconds(time.Since(t0))
			rep.Rows[i] = row
		}()
	}
	wg.Wait()
	crossCheck(rep.Rows)
	rep.DurationSec = seconds(time.Since(start))
	return rep, nil
}

// runOne runs a probe; a panic inside it (a bug of kaprobe, not of the
// server) becomes an error row instead of a crash.
func runOne(ctx context.Context, d probeDef, p *prober) (row Row) {
	defer func() {
		if r := recover(); r != nil {
			row = Row{Level: LevelError, Verdict: fmt.Sprintf("kaprobe bug: probe panicked: %v", r), Codes: []Code{"internal-error"}}
		}
	}()
	row = d.run(ctx, p)
	if row.Statuses == nil {
		row.Statuses = []int{}
		row.record()
	}
	return row
}

// reach dials the target once and asks for the URL with Connection: close.
// A failed dial is ErrUnreachable; a bad answer only leaves the baseline
// status unknown (the probes will report it).
func reach(ctx context.Context, t target, o Options) (int, error) {
	d := net.Dialer{Timeout: o.DialTimeout}
	c, err := d.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %v", ErrUnreachable, t.addr, err)
	}
	bctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	s := &session{conn: c, opTO: o.Timeout, lim: o.Limits, target: t}
	s.br = newReader(c)
	s.stop = context.AfterFunc(bctx, func() { _ = c.SetDeadline(time.Now()) })
	defer s.close()
	resp, err := s.roundTrip(bctx, "GET", request("GET", t.path, "HTTP/1.1", t.host, "Connection: close"))
	if err != nil {
		return 0, nil
	}
	return resp.StatusCode, nil
}
