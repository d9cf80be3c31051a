package probe

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Code is a machine-readable verdict. A row's first code is its main
// verdict; the others add detail.
type Code string

// Verdict codes shared by every probe: the probe could not be completed.
const (
	CodeTimeout       Code = "timeout"        // the server did not answer within the probe's deadline
	CodeReset         Code = "reset"          // the server reset the connection (RST)
	CodeClosed        Code = "closed"         // the server closed before answering
	CodeTruncated     Code = "truncated"      // the server closed in the middle of a response
	CodeGarbage       Code = "garbage"        // the bytes received are not an HTTP/1.x response
	CodeDialFailed    Code = "dial-failed"    // no TCP connection could be opened for this probe
	CodeUnsolicited   Code = "unsolicited"    // the server sent bytes nobody asked for
	CodeWrongProtocol Code = "wrong-protocol" // the response's version does not match the probe's
)

// Verdict codes of the HTTP/1.1 persistence probe.
const (
	CodePersistent        Code = "persistent"         // every request answered on one connection
	CodeClosedAnnounced   Code = "closed-announced"   // the server closed after saying Connection: close
	CodeClosedUnannounced Code = "closed-unannounced" // the server closed without saying so first
)

// Verdict codes of the HTTP/1.0 probes.
const (
	CodeHTTP10Closed         Code = "http10-closed"           // 1.0 without keep-alive: closed after the response
	CodeHTTP10KeptOpen       Code = "http10-kept-open"        // 1.0 without keep-alive: left open anyway
	CodeKeepAliveHonoured    Code = "keepalive-honoured"      // 1.0 keep-alive echoed and a second request answered
	CodeKeepAliveIgnored     Code = "keepalive-ignored"       // 1.0 keep-alive not echoed, connection closed
	CodeKeepAliveBroken      Code = "keepalive-broken"        // 1.0 keep-alive echoed, but the second request failed
	CodeKeepAliveUnannounced Code = "keepalive-unannounced"   // not echoed, yet the second request was answered
	CodeKeepAliveEchoed      Code = "keepalive-echoed"        // the response carried Connection: keep-alive
	CodeKeepAliveAdvertised  Code = "keepalive-advertised"    // the response carried a Keep-Alive header
	CodeKeepAliveNoParams    Code = "keepalive-no-params"     // echoed without a Keep-Alive: timeout/max header
	CodeChunkedOnHTTP10      Code = "chunked-on-http10"       // chunked sent to an HTTP/1.0 client (a violation)
	CodeCloseHeaderSent      Code = "connection-close-sent"   // the response said Connection: close
	CodeCloseHeaderMissing   Code = "connection-close-absent" // closed without a Connection: close header
)

// Verdict codes of the idle-timeout and max-requests probes.
const (
	CodeIdleMeasured      Code = "idle-measured"      // the server closed the idle connection; Seconds holds when
	CodeIdleLonger        Code = "idle-longer"        // still open after -max-idle
	CodeNotPersistent     Code = "not-persistent"     // the server closed right after the first response
	CodeMaxMeasured       Code = "max-measured"       // the server ended the connection after Count requests
	CodeMaxUnlimited      Code = "max-unlimited"      // -max-requests requests answered on one connection
	CodeAdvertisedMatches Code = "advertised-matches" // the Keep-Alive hint agrees with the measurement
	CodeAdvertisedDiffers Code = "advertised-differs" // the Keep-Alive hint disagrees with the measurement
	CodeAdvertisedNone    Code = "advertised-none"    // no Keep-Alive hint to compare with
	CodeProbeDeadline     Code = "probe-deadline"     // stopped by the probe's own time limit
	CodeAnnouncedLast     Code = "announced"          // the last response said Connection: close
	CodeUnannouncedLast   Code = "unannounced"        // the server closed without notice
)

// Verdict codes of the pipelining probes.
const (
	CodePipelineOK         Code = "pipeline-ok"           // all answered, in order (order checked)
	CodePipelineUnverified Code = "pipeline-unverified"   // all answered; order could not be checked
	CodePipelineOutOfOrder Code = "pipeline-out-of-order" // a response is another request's: it echoes it, or is what it gets alone
	CodePipelinePartial    Code = "pipeline-partial"      // only the first Count requests were answered
	CodePipelineRejected   Code = "pipeline-rejected"     // answered with 4xx/5xx where the single request succeeds
	CodePipelineLimited    Code = "pipeline-limited"      // answered until a response said Connection: close (the verdict says whether in order)
)

// Verdict codes of the POST + CRLF probe.
const (
	CodeCRLFOK       Code = "crlf-ok"        // the request after the stray CRLF was answered normally
	CodeCRLF400      Code = "crlf-400"       // the stray CRLF made the server answer 400
	CodeCRLFClosed   Code = "crlf-closed"    // the server closed instead of answering the next request
	CodeCRLFPostFail Code = "crlf-post-fail" // the POST itself was not answered
)

// Verdict codes of the framing probes: the framing seen.
const (
	CodeFramingContentLength  Code = "framing-content-length"
	CodeFramingChunked        Code = "framing-chunked"
	CodeFramingCloseDelimited Code = "framing-close-delimited"
	CodeFramingNone           Code = "framing-none"
	CodeKeptOpen              Code = "kept-open"    // a second request was answered on the connection
	CodeClosedAfter           Code = "closed-after" // the connection was closed after the response
)

// Level grades a row: ok, warn (works but surprising or non-conforming), or
// error (the probe could not be completed: hang, reset, garbage).
type Level string

// The levels.
const (
	LevelOK    Level = "ok"
	LevelWarn  Level = "warn"
	LevelError Level = "error"
)

// Measurement is a number a probe measured, with what the server advertised.
type Measurement struct {
	Value      float64 `json:"value"`                // seconds or requests
	Unit       string  `json:"unit"`                 // "s" or "requests"
	Reached    bool    `json:"reached"`              // false: the limit was not reached, Value is a lower bound
	Advertised string  `json:"advertised,omitempty"` // the server's own hint (Keep-Alive timeout= or max=)
}

// String renders "1.02 s", "longer than 20 s", "5 requests", "more than 200 requests".
func (m *Measurement) String() string {
	v := strconv.FormatFloat(m.Value, 'f', -1, 64)
	if m.Unit == "s" {
		v = strconv.FormatFloat(m.Value, 'f', 2, 64)
	}
	if !m.Reached {
		if m.Unit == "s" {
			return "longer than " + v + " s"
		}
		return "more than " + v + " " + m.Unit
	}
	return v + " " + m.Unit
}

// Row is the outcome of one probe.
type Row struct {
	Probe       string       `json:"probe"`              // stable id, e.g. "http10-keepalive"
	Sent        string       `json:"sent"`               // what was sent, in short
	Statuses    []int        `json:"statuses"`           // status codes received, in order
	Status      string       `json:"status"`             // the statuses for display
	Connection  string       `json:"connection"`         // Connection header(s) seen ("-" when absent)
	KeepAlive   string       `json:"keep_alive"`         // Keep-Alive header(s) seen
	Framing     string       `json:"framing"`            // response framing(s) seen
	Measured    *Measurement `json:"measured,omitempty"` // idle timeout / max requests
	Verdict     string       `json:"verdict"`            // one sentence for humans
	Codes       []Code       `json:"codes"`              // machine-readable verdicts, main one first
	Level       Level        `json:"level"`              // ok, warn or error
	Error       string       `json:"error,omitempty"`    // the low-level error behind an error verdict
	DurationSec float64      `json:"duration_s"`         // how long the probe ran
	responses   []*Response  // the responses, for cross-checks
}

// Has reports whether the row carries code c.
func (r *Row) Has(c Code) bool { return slices.Contains(r.Codes, c) }

// Report is the outcome of a run.
type Report struct {
	Target      string  `json:"target"`
	Baseline    int     `json:"baseline_status,omitempty"` // status of a plain GET of the target
	StartedAt   string  `json:"started_at"`
	DurationSec float64 `json:"duration_s"`
	Rows        []Row   `json:"rows"`
}

// Row returns the row of the probe with the given id, or nil.
func (r *Report) Row(id string) *Row {
	for i := range r.Rows {
		if r.Rows[i].Probe == id {
			return &r.Rows[i]
		}
	}
	return nil
}

// record collects responses into a row and fills its display columns.
func (r *Row) record(resps ...*Response) {
	r.responses = append(r.responses, resps...)
	r.Statuses = r.Statuses[:0]
	var conn, ka, fr []string
	for _, resp := range r.responses {
		r.Statuses = append(r.Statuses, resp.StatusCode)
		c, ok := resp.Get("Connection")
		if !ok {
			c = "-"
		}
		k, ok := resp.Get("Keep-Alive")
		if !ok {
			k = "-"
		}
		conn, ka, fr = append(conn, c), append(ka, k), append(fr, framingShort(resp))
	}
	strs := make([]string, len(r.Statuses))
	for i, s := range r.Statuses {
		strs[i] = strconv.Itoa(s)
	}
	r.Status, r.Connection, r.KeepAlive, r.Framing = runs(strs), runs(conn), runs(ka), runs(fr)
}

func framingShort(resp *Response) string {
	switch resp.Framing {
	case FramingContentLength:
		return fmt.Sprintf("CL %d", resp.ContentLength)
	case FramingChunked:
		return fmt.Sprintf("chunked %d", resp.BodyLen)
	case FramingCloseDelimited:
		return fmt.Sprintf("close %d", resp.BodyLen)
	}
	return string(resp.Framing)
}

// runs compresses a sequence for display: equal neighbours become "v ×n",
// changes are shown with arrows: "- ×4 → close".
func runs(vals []string) string {
	if len(vals) == 0 {
		return "-"
	}
	var parts []string
	for i := 0; i < len(vals); {
		j := i
		for j < len(vals) && vals[j] == vals[i] {
			j++
		}
		if n := j - i; n > 1 {
			parts = append(parts, fmt.Sprintf("%s ×%d", vals[i], n))
		} else {
			parts = append(parts, vals[i])
		}
		i = j
	}
	return strings.Join(parts, " → ")
}

// set gives the row its verdict.
func (r *Row) set(level Level, verdict string, codes ...Code) {
	r.Level, r.Verdict, r.Codes = level, verdict, codes
}

// add appends detail codes.
func (r *Row) add(codes ...Code) {
	for _, c := range codes {
		if !r.Has(c) {
			r.Codes = append(r.Codes, c)
		}
	}
}

func seconds(d time.Duration) float64 {
	return float64(d.Round(time.Millisecond)) / float64(time.Second)
}
