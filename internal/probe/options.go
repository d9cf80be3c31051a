package probe

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Options configure a run. Zero values mean the defaults below.
type Options struct {
	URL         string        // http://host[:port]/path?query (required)
	MaxIdle     time.Duration // how long the idle probe waits for the server to close; default 20 s
	MaxRequests int           // how many requests the max-requests probe sends at most; default 200
	PathLarge   string        // path[?query] of a large response, for the framing fallback; optional
	PathPost    string        // path the POST + CRLF probe posts to; default the URL's path
	Timeout     time.Duration // per-probe time limit (and per-request for long probes); default 10 s
	DialTimeout time.Duration // TCP connect timeout; default 5 s
	CloseWait   time.Duration // how long to wait for a close the server should make; default 2 s
	Probes      []string      // probe ids to run; default all (see ProbeIDs)
	Limits      Limits        // response size limits; default DefaultLimits
}

// Defaults.
const (
	DefaultMaxIdle     = 20 * time.Second
	DefaultMaxRequests = 200
	DefaultTimeout     = 10 * time.Second
	DefaultDialTimeout = 5 * time.Second
	DefaultCloseWait   = 2 * time.Second
)

// ErrUsage wraps every error caused by bad options (as opposed to an
// unreachable target).
var ErrUsage = errors.New("usage")

// ErrUnreachable wraps the error returned when the target cannot be reached.
var ErrUnreachable = errors.New("target unreachable")

// target is the parsed URL.
type target struct {
	addr string // host:port to dial
	host string // Host header value
	path string // request-target for the probes (path + query)
	url  string
}

func usagef(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, args...))
}

// withDefaults validates o and fills in defaults.
func (o Options) withDefaults() (Options, target, error) {
	var t target
	if o.URL == "" {
		return o, t, usagef("a target URL is required")
	}
	u, err := url.Parse(o.URL)
	if err != nil {
		return o, t, usagef("bad URL %q: %v", o.URL, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
	case "https":
		return o, t, usagef("https is out of scope: kaprobe speaks plain HTTP/1.x over TCP to see the exact bytes; probe the server's http:// port (or a TLS-terminating proxy's backend)")
	default:
		return o, t, usagef("unsupported URL scheme %q (only http:// URLs)", u.Scheme)
	}
	if u.Host == "" || u.Hostname() == "" {
		return o, t, usagef("URL %q has no host", o.URL)
	}
	if u.User != nil {
		return o, t, usagef("URLs with user info are not supported")
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	t.addr = net.JoinHostPort(u.Hostname(), port)
	t.host = u.Host
	t.path = u.EscapedPath()
	if t.path == "" {
		t.path = "/"
	}
	if u.RawQuery != "" {
		t.path += "?" + u.RawQuery
	}
	t.url = u.String()

	if o.MaxIdle < 0 || o.MaxRequests < 0 || o.Timeout < 0 || o.DialTimeout < 0 || o.CloseWait < 0 {
		return o, t, usagef("durations and counts must not be negative")
	}
	if o.MaxIdle == 0 {
		o.MaxIdle = DefaultMaxIdle
	}
	if o.MaxRequests == 0 {
		o.MaxRequests = DefaultMaxRequests
	}
	if o.MaxRequests > 100000 {
		return o, t, usagef("-max-requests %d is too many (at most 100000)", o.MaxRequests)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.DialTimeout == 0 {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.CloseWait == 0 {
		o.CloseWait = DefaultCloseWait
	}
	if o.CloseWait > o.Timeout {
		o.CloseWait = o.Timeout
	}
	if o.Limits.MaxHeaderBytes <= 0 {
		o.Limits = DefaultLimits
	}
	for _, p := range []*string{&o.PathLarge, &o.PathPost} {
		if *p != "" && !strings.HasPrefix(*p, "/") {
			return o, t, usagef("path %q must start with /", *p)
		}
		if strings.ContainsAny(*p, " \r\n") {
			return o, t, usagef("path %q must not contain spaces or line breaks", *p)
		}
	}
	if o.PathPost == "" {
		o.PathPost = t.path
	}
	for _, id := range o.Probes {
		if !isProbeID(id) {
			return o, t, usagef("unknown probe %q (known: %s)", id, strings.Join(ProbeIDs(), ", "))
		}
	}
	return o, t, nil
}
