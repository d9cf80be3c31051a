package main

import (
	"context"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The routes every server answers, with the same bytes:
//
//	GET  /plaintext        "Hello, World!" text/plain; charset=utf-8
//	GET  /json             {"message":"Hello, World!"} application/json
//	POST /echo             the request body, with the request's Content-Type
//	GET  /stream?size=N    N bytes of 'x', written in 1 KiB pieces, no Content-Length set by the handler
//	GET  /sleep?ms=N       "slept N ms" after time.Sleep(N ms)
//	GET  /query?a=X&b=Y    decimal X+Y
//	POST /upload           "<bytes> <sha256 hex>" of the body, read as a stream
//	                       (only when started with -uploads; see uploads.go)
//
// Every server sends Server, Date, Content-Type and Content-Length (or chunked
// framing where the server streams) so that header bytes stay comparable; the
// orchestrator checks and prints what each server actually sends before it
// measures anything.
const (
	helloBody   = "Hello, World!"
	jsonBody    = `{"message":"Hello, World!"}`
	ctPlain     = "text/plain; charset=utf-8"
	ctJSON      = "application/json"
	streamPiece = 1024
	maxStream   = 64 << 20 // refuse /stream sizes above 64 MiB
	maxSleepMS  = 10_000
)

// chunk1K is the 1 KiB piece the /stream route writes repeatedly.
var chunk1K = func() []byte {
	b := make([]byte, streamPiece)
	for i := range b {
		b[i] = 'x'
	}
	return b
}()

// uploadLimit is the largest body POST /upload takes (413 beyond), in
// every server.
const uploadLimit = 1 << 30

// serveUploads is set by `bench -serve NAME -uploads`: the server then has
// the POST /upload route and the settings it needs (kahttp: a Router with
// the route's WithBodyLimit in front of the usual handler; fasthttp:
// StreamRequestBody and MaxRequestBodySize). Without it every server is
// exactly what the benchmark matrix measures.
var serveUploads bool

// uploadAnswer is the body of a successful POST /upload.
func uploadAnswer(n int64, sum []byte) string {
	return strconv.FormatInt(n, 10) + " " + hex.EncodeToString(sum)
}

// serverDef is one server implementation that `bench -serve NAME` can run.
type serverDef struct {
	Name  string
	Desc  string
	Order int // position in tables and in each round
	// Label, if set, names the server in the reports instead of Name.
	Label string
	// Routes, if set, are the only routes the server answers ("GET
	// /plaintext"): the route check asks it only those, and the cases that
	// need another route are not run on it (the tables say "n/a").
	Routes []string
	// Arena marks the peers of examples/arena (-arena only): the default
	// server list of the other modes leaves them out.
	Arena bool
	// Run serves on addr until stop is closed, then shuts down gracefully
	// (finishing the requests in progress, within shutdownGrace) and
	// returns. It returns early with the server's error if serving fails.
	Run func(addr string, stop <-chan struct{}) error
}

// answers says whether d answers route ("GET /plaintext", no query).
func (d serverDef) answers(route string) bool {
	if d.Routes == nil {
		return true
	}
	for _, r := range d.Routes {
		if r == route {
			return true
		}
	}
	return false
}

// notRun is why d does not run case c ("n/a (only GET /plaintext)"), or ""
// when it runs it.
func (d serverDef) notRun(c *Case) string {
	for _, r := range c.routes() {
		if !d.answers(r) {
			return "n/a (only " + strings.Join(d.Routes, ", ") + ")"
		}
	}
	return ""
}

// routeOf is a request's route: its method and its path without the query.
func routeOf(method, target string) string {
	path, _, _ := strings.Cut(target, "?")
	return method + " " + path
}

// shutdownGrace bounds a server's graceful shutdown in -serve mode.
const shutdownGrace = 5 * time.Second

// serveUntilStop runs serve until stop is closed, then drains with
// shutdown within shutdownGrace; it returns serve's error if serving ends
// first.
func serveUntilStop(stop <-chan struct{}, serve func() error, shutdown func(context.Context) error) error {
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		return err
	case <-stop:
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	return shutdown(ctx)
}

// registry holds the servers compiled into this binary; servers_kahttp.go
// adds the kahttp servers from its init().
var registry = map[string]serverDef{}

func register(d serverDef) { registry[d.Name] = d }

// serverNames lists the registered servers in table order.
func serverNames() []string {
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := registry[names[i]], registry[names[j]]
		if a.Order != b.Order {
			return a.Order < b.Order
		}
		return a.Name < b.Name
	})
	return names
}

// baseline is the server every ratio is taken against.
const baseline = "nethttp"

// atoiDefault parses a small non-negative decimal, returning def when s is
// not one. Shared by the handlers so they agree on bad input.
func atoiDefault(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return def
	}
	return n
}

func clamp(n, lo, hi int) int {
	if n < lo {
		return lo
	}
	if n > hi {
		return hi
	}
	return n
}
