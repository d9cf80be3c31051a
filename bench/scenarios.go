package main

import (
	"fmt"
	"strings"
)

// Scenario names are fixed: results are compared across runs by name.
// A scenario has one or more cases (variants); a case is one row per server.

// Case is one measured load shape.
type Case struct {
	Scenario string
	Variant  string // "" when the scenario has one case
	Desc     string
	Spec     LoadSpec // Addr, Duration and MaxRequests are filled in per run
	Quick    bool     // part of the -quick matrix
	// Idle cases open IdleConns keep-alive connections, make one request on
	// each and measure the server's RSS growth per connection; Spec is unused.
	Idle bool
}

// Name is the case's row label, e.g. "keepalive/c64".
func (c *Case) Name() string {
	if c.Variant == "" {
		return c.Scenario
	}
	return c.Scenario + "/" + c.Variant
}

// routes are the routes the case asks (the idle case: GET /plaintext).
func (c *Case) routes() []string {
	if c.Idle {
		return []string{"GET /plaintext"}
	}
	var rs []string
	for _, r := range c.Spec.Requests {
		rs = append(rs, routeOf(r.Method, r.Path))
	}
	return rs
}

var scenarioNames = []string{
	"keepalive", "pipelined", "mixed", "shortlived", "http10-keepalive", "sizes", "slow", "idle",
}

func getPlaintext() Request {
	return Request{Method: "GET", Path: "/plaintext", ExpectLen: int64(len(helloBody))}
}

// mixedBody is the POST body of the mixed scenario (64 bytes of JSON).
var mixedBody = []byte(`{"id":12345,"name":"kahttp-bench","tags":["a","b","c"],"ok":true}`)

func allCases() []Case {
	var cs []Case
	for _, n := range []int{64, 256} {
		cs = append(cs, Case{
			Scenario: "keepalive", Variant: fmt.Sprintf("c%d", n),
			Desc:  fmt.Sprintf("GET /plaintext, %d keep-alive connections, one request in flight each", n),
			Spec:  LoadSpec{Conns: n, Pipeline: 1, Requests: []Request{getPlaintext()}},
			Quick: n == 64,
		})
	}
	cs = append(cs, Case{
		Scenario: "pipelined", Variant: "p16-c64",
		Desc:  "GET /plaintext, 64 connections, 16 requests per write",
		Spec:  LoadSpec{Conns: 64, Pipeline: 16, Requests: []Request{getPlaintext()}},
		Quick: true,
	})
	cs = append(cs, Case{
		Scenario: "mixed", Variant: "c64",
		Desc: "HttpArena baseline shape, rotated: GET /query?a=13&b=29, POST /echo with Content-Length, POST /echo chunked; 64 connections",
		Spec: LoadSpec{Conns: 64, Pipeline: 1, Requests: []Request{
			{Method: "GET", Path: "/query?a=13&b=29", ExpectLen: 2},
			{Method: "POST", Path: "/echo", ContentType: ctJSON, Body: mixedBody, ExpectLen: int64(len(mixedBody))},
			{Method: "POST", Path: "/echo", ContentType: ctJSON, Body: mixedBody, Chunked: true, ExpectLen: int64(len(mixedBody))},
		}},
		Quick: true,
	})
	cs = append(cs, Case{
		Scenario: "shortlived", Variant: "c32",
		Desc:  "GET /plaintext with Connection: close, a new connection per request, 32 at a time",
		Spec:  LoadSpec{Conns: 32, NewConnPerReq: true, Requests: []Request{getPlaintext()}},
		Quick: true,
	})
	cs = append(cs, Case{
		Scenario: "http10-keepalive", Variant: "c64",
		Desc:  "GET /plaintext as HTTP/1.0 with Connection: Keep-Alive (what ab -k sends), 64 connections",
		Spec:  LoadSpec{Conns: 64, HTTP10: true, KeepAlive10: true, Requests: []Request{getPlaintext()}},
		Quick: true,
	})
	for _, sz := range []struct {
		name string
		n    int
	}{{"1KiB", 1 << 10}, {"4KiB", 4 << 10}, {"16KiB", 16 << 10}, {"1MiB", 1 << 20}} {
		cs = append(cs, Case{
			Scenario: "sizes", Variant: sz.name,
			Desc: fmt.Sprintf("GET /stream?size=%d (written in 1 KiB pieces, no Content-Length from the handler), 64 connections", sz.n),
			Spec: LoadSpec{Conns: 64, Requests: []Request{
				{Method: "GET", Path: fmt.Sprintf("/stream?size=%d", sz.n), ExpectLen: int64(sz.n)},
			}},
			Quick: sz.n == 16<<10,
		})
	}
	cs = append(cs, Case{
		Scenario: "slow", Variant: "c256",
		Desc:  "GET /sleep?ms=10 over 256 connections: a handler that blocks must not stall the others",
		Spec:  LoadSpec{Conns: 256, Requests: []Request{{Method: "GET", Path: "/sleep?ms=10", ExpectLen: int64(len("slept 10 ms"))}}},
		Quick: true,
	})
	cs = append(cs, Case{
		Scenario: "idle",
		Desc:     "N idle keep-alive connections after one request each: server RSS growth per connection (VmRSS)",
		Idle:     true,
		Quick:    true,
	})
	return cs
}

// selectCases filters cases by a comma-separated list of scenario names or
// case names ("sizes" or "sizes/1MiB"); an empty list selects all (or the
// quick subset).
func selectCases(list string, quick bool) ([]Case, error) {
	all := allCases()
	if strings.TrimSpace(list) == "" {
		var out []Case
		for _, c := range all {
			if !quick || c.Quick {
				out = append(out, c)
			}
		}
		return out, nil
	}
	var out []Case
	for _, want := range strings.Split(list, ",") {
		want = strings.TrimSpace(want)
		found := false
		for _, c := range all {
			if c.Scenario == want || c.Name() == want {
				// A named scenario runs all its cases, except in -quick,
				// where only its quick cases run.
				if c.Scenario == want && quick && !c.Quick {
					found = true
					continue
				}
				out = append(out, c)
				found = true
			}
		}
		if !found && isUploadName(want) {
			return nil, fmt.Errorf("the upload scenario runs on its own, with its own table: go run . -scenario %s (or -uploads)", want)
		}
		if !found {
			return nil, fmt.Errorf("unknown scenario %q (have %s; upload runs on its own)", want, strings.Join(scenarioNames, ", "))
		}
	}
	return out, nil
}
