package probe

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The "advertised vs real" probes: the idle timeout the server enforces and
// the number of requests it allows on one connection.

func probeIdleTimeout(ctx context.Context, p *prober) Row {
	row := Row{Sent: fmt.Sprintf("GET %s HTTP/1.1, then idle until the server closes (up to %s)", p.t.path, p.o.MaxIdle)}
	s, err := p.dial(ctx, &row)
	if err != nil {
		return row
	}
	defer s.close()
	resp, err := s.roundTrip(ctx, "GET", request("GET", withQuery(p.t.path, "idle"), "HTTP/1.1", p.t.host))
	if err != nil {
		row.fail("request", err)
		return row
	}
	row.record(resp)
	if closes, _ := closesAfter(resp); closes {
		row.set(LevelWarn, "not persistent: the server ends the connection after the first response, no idle timeout to measure",
			CodeNotPersistent)
		return row
	}
	closed, after, err := s.waitClose(ctx, p.o.MaxIdle)
	if err != nil {
		row.fail("while idle", err)
		return row
	}
	if closed && after < immediateClose {
		row.Measured = &Measurement{Value: seconds(after), Unit: "s", Reached: true}
		row.set(LevelWarn, fmt.Sprintf("not persistent: the server closed %s after the response, without Connection: close", row.Measured),
			CodeNotPersistent, CodeCloseHeaderMissing)
		return row
	}
	if closed {
		row.Measured = &Measurement{Value: seconds(after), Unit: "s", Reached: true}
		row.set(LevelOK, fmt.Sprintf("the server closed the idle connection after %s (without notice, as idle closes are)", row.Measured), CodeIdleMeasured)
		return row
	}
	row.Measured = &Measurement{Value: seconds(p.o.MaxIdle), Unit: "s", Reached: false}
	row.set(LevelOK, fmt.Sprintf("idle timeout %s: still open when kaprobe stopped waiting (-max-idle)", row.Measured), CodeIdleLonger)
	return row
}

// immediateClose: a close this soon after a response is the server ending
// the connection, not an idle timeout.
const immediateClose = 100 * time.Millisecond

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func probeMaxRequests(ctx context.Context, p *prober) Row {
	row := Row{Sent: fmt.Sprintf("up to %d× GET %s HTTP/1.1, sequential on one connection", p.o.MaxRequests, p.t.path)}
	s, err := p.dial(ctx, &row)
	if err != nil {
		return row
	}
	defer s.close()
	for i := 1; i <= p.o.MaxRequests; i++ {
		resp, err := s.roundTrip(ctx, "GET", request("GET", withQuery(p.t.path, "max-"+strconv.Itoa(i)), "HTTP/1.1", p.t.host))
		if err != nil {
			n := float64(i - 1)
			switch {
			case i > 1 && isClosed(err):
				row.Measured = &Measurement{Value: n, Unit: "requests", Reached: true}
				row.set(LevelWarn, fmt.Sprintf("the server ended the connection after %s, without Connection: close on the last one", plural(i-1, "request")),
					CodeMaxMeasured, CodeUnannouncedLast)
				row.Error = err.Error()
			case i > 1 && isTimeout(err) && errors.Is(ctx.Err(), context.DeadlineExceeded):
				row.Measured = &Measurement{Value: n, Unit: "requests", Reached: false}
				row.set(LevelWarn, fmt.Sprintf("at least %d requests per connection: the probe's time limit ran out", i-1),
					CodeMaxUnlimited, CodeProbeDeadline)
			default:
				row.fail(fmt.Sprintf("request %d", i), err)
				if i > 1 {
					row.Measured = &Measurement{Value: n, Unit: "requests", Reached: false}
				}
			}
			return row
		}
		row.record(resp)
		if closes, announced := closesAfter(resp); closes {
			row.Measured = &Measurement{Value: float64(i), Unit: "requests", Reached: true}
			if announced {
				row.set(LevelOK, fmt.Sprintf("the server ends a connection after %s, saying Connection: close on the last", plural(i, "request")),
					CodeMaxMeasured, CodeAnnouncedLast)
			} else {
				row.set(LevelWarn, fmt.Sprintf("the server ends a connection after %s (close-delimited, no Connection: close)", plural(i, "request")),
					CodeMaxMeasured, CodeUnannouncedLast)
			}
			return row
		}
	}
	row.Measured = &Measurement{Value: float64(p.o.MaxRequests), Unit: "requests", Reached: false}
	row.set(LevelOK, fmt.Sprintf("all %d requests answered on one connection (no limit reached; -max-requests)", p.o.MaxRequests), CodeMaxUnlimited)
	return row
}

// keepAliveParam returns the integer value of param (timeout or max) in a
// Keep-Alive header value such as "timeout=5, max=100".
func keepAliveParam(v, param string) (int, bool) {
	for _, part := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), param) {
			continue
		}
		n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(val), `"`))
		if err == nil && n >= 0 {
			return n, true
		}
	}
	return 0, false
}

// advertised finds the first Keep-Alive param among the rows' responses,
// preferring the rows named first.
func advertised(rows []Row, param string, ids ...string) (int, bool) {
	for _, id := range ids {
		for _, r := range rows {
			if r.Probe != id {
				continue
			}
			for _, resp := range r.responses {
				if v, ok := resp.Get("Keep-Alive"); ok {
					if n, ok := keepAliveParam(v, param); ok {
						return n, true
					}
				}
			}
		}
	}
	return 0, false
}

// crossCheck compares what the server advertised in Keep-Alive headers with
// what the idle-timeout and max-requests probes measured.
func crossCheck(rows []Row) {
	for i := range rows {
		r := &rows[i]
		if r.Measured == nil || r.Level == LevelError {
			continue
		}
		switch r.Probe {
		case "idle-timeout":
			adv, ok := advertised(rows, "timeout", "idle-timeout", "http10-keepalive", "framing-http10")
			if !ok {
				r.add(CodeAdvertisedNone)
				continue
			}
			r.Measured.Advertised = fmt.Sprintf("timeout=%d", adv)
			tol := math.Max(1, 0.25*float64(adv))
			m := r.Measured.Value
			switch {
			case r.Measured.Reached && math.Abs(m-float64(adv)) <= tol:
				r.add(CodeAdvertisedMatches)
				r.Verdict += fmt.Sprintf("; matches the advertised timeout=%d", adv)
			case r.Measured.Reached || m > float64(adv)+tol:
				r.add(CodeAdvertisedDiffers)
				r.Verdict += fmt.Sprintf("; the server advertised timeout=%d", adv)
				r.Level = LevelWarn
			default:
				r.Verdict += fmt.Sprintf("; advertised timeout=%d, not reached within -max-idle", adv)
			}
		case "max-requests":
			adv, ok := advertised(rows, "max", "http10-keepalive", "max-requests", "framing-http10")
			if !ok {
				r.add(CodeAdvertisedNone)
				continue
			}
			r.Measured.Advertised = fmt.Sprintf("max=%d", adv)
			n := int(r.Measured.Value)
			// max= counts the requests left after the response carrying it;
			// servers differ on whether that one is included.
			switch {
			case r.Measured.Reached && (n == adv || n == adv+1):
				r.add(CodeAdvertisedMatches)
				r.Verdict += fmt.Sprintf("; matches the advertised max=%d", adv)
			case r.Measured.Reached || n > adv+1:
				r.add(CodeAdvertisedDiffers)
				r.Verdict += fmt.Sprintf("; the server advertised max=%d", adv)
				r.Level = LevelWarn
			default:
				r.Verdict += fmt.Sprintf("; advertised max=%d, beyond -max-requests", adv)
			}
		}
	}
	// A pipeline cut short with notice at the measured request limit is the
	// limit at work, not a pipelining problem.
	if mr := findRow(rows, "max-requests"); mr != nil && mr.Measured != nil && mr.Measured.Reached {
		for i := range rows {
			r := &rows[i]
			if r.Has(CodePipelineLimited) && len(r.Statuses) == int(mr.Measured.Value) {
				r.Verdict += " (= the measured max requests per connection)"
			}
		}
	}
}

func findRow(rows []Row, id string) *Row {
	for i := range rows {
		if rows[i].Probe == id {
			return &rows[i]
		}
	}
	return nil
}
