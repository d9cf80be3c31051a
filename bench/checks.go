package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Before anything is measured every server is asked every route once and
// the answers are compared byte for byte, so a server that answers wrongly is
// caught before it can "win"; the load runs then check status and body
// length of every response.

type routeCheck struct {
	Route     string
	Status    int
	HeadBytes int
	Headers   []string // header names, lower case, sorted
	Problem   string
}

type rawResponse struct {
	status int
	head   []byte
	hdr    map[string]string // lower-case name -> value (last one wins)
	names  []string
	body   []byte
}

// rawExchange sends raw request bytes on a fresh connection and reads the
// response until the server closes (the request asks it to) or 5 s pass.
func rawExchange(addr string, req []byte) (*rawResponse, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(req); err != nil {
		return nil, err
	}
	all, err := io.ReadAll(c)
	if err != nil && len(all) == 0 {
		return nil, err
	}
	return parseRaw(all)
}

func parseRaw(all []byte) (*rawResponse, error) {
	i := bytes.Index(all, []byte("\r\n\r\n"))
	if i < 0 {
		return nil, errors.New("no end of header")
	}
	r := &rawResponse{head: all[:i+4], hdr: map[string]string{}}
	lines := strings.Split(string(all[:i]), "\r\n")
	f := strings.Fields(lines[0])
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/1.") {
		return nil, fmt.Errorf("bad status line %q", lines[0])
	}
	r.status, _ = strconv.Atoi(f[1])
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		r.hdr[k] = strings.TrimSpace(v)
		r.names = append(r.names, k)
	}
	body := all[i+4:]
	if strings.EqualFold(r.hdr["transfer-encoding"], "chunked") {
		rr := respReader{c: bytes.NewReader(body), buf: make([]byte, 4096)}
		var out []byte
		for {
			l, err := rr.line()
			if err != nil {
				return nil, fmt.Errorf("chunked body: %w", err)
			}
			n, err := strconv.ParseInt(strings.TrimSpace(strings.SplitN(string(l), ";", 2)[0]), 16, 64)
			if err != nil {
				return nil, fmt.Errorf("chunk size %q", l)
			}
			if n == 0 {
				break
			}
			for n > 0 {
				if rr.r == rr.w {
					if err := rr.fill(); err != nil {
						return nil, fmt.Errorf("chunk data: %w", err)
					}
				}
				k := min(int64(rr.w-rr.r), n)
				out = append(out, rr.buf[rr.r:rr.r+int(k)]...)
				rr.r += int(k)
				n -= k
			}
			if l, err := rr.line(); err != nil || len(l) != 0 {
				return nil, errors.New("chunk not followed by CRLF")
			}
		}
		r.body = out
	} else if cl, ok := r.hdr["content-length"]; ok {
		n, err := strconv.Atoi(cl)
		if err != nil || n > len(body) {
			return nil, fmt.Errorf("Content-Length %q with %d body bytes", cl, len(body))
		}
		r.body = body[:n]
	} else {
		r.body = body
	}
	return r, nil
}

// checkRoutes asks every route once, or with answers only the routes for
// which it says yes. It returns the checks and an error naming the first
// wrong answer.
func checkRoutes(addr string, answers func(route string) bool) ([]routeCheck, error) {
	type probe struct {
		name  string
		req   string
		want  string
		ctype string
	}
	host := "Host: " + addr + "\r\n"
	body := string(mixedBody)
	probes := []probe{
		{name: "GET /plaintext", req: "GET /plaintext HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n", want: helloBody, ctype: "text/plain"},
		{name: "GET /json", req: "GET /json HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n", want: jsonBody, ctype: ctJSON},
		{name: "POST /echo", req: "POST /echo HTTP/1.1\r\n" + host + "Connection: close\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body, want: body, ctype: ctJSON},
		{name: "POST /echo chunked", req: "POST /echo HTTP/1.1\r\n" + host + "Connection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
			strconv.FormatInt(int64(len(body)/2), 16) + "\r\n" + body[:len(body)/2] + "\r\n" + strconv.FormatInt(int64(len(body)-len(body)/2), 16) + "\r\n" + body[len(body)/2:] + "\r\n0\r\n\r\n", want: body, ctype: ctJSON},
		{name: "GET /stream?size=5000", req: "GET /stream?size=5000 HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n", want: strings.Repeat("x", 5000)},
		{name: "GET /sleep?ms=1", req: "GET /sleep?ms=1 HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n", want: "slept 1 ms"},
		{name: "GET /query?a=13&b=29", req: "GET /query?a=13&b=29 HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n", want: "42"},
		{name: "GET /plaintext HTTP/1.0", req: "GET /plaintext HTTP/1.0\r\n" + host + "\r\n", want: helloBody},
	}
	var out []routeCheck
	var firstErr error
	for _, p := range probes {
		if f := strings.Fields(p.req); answers != nil && !answers(routeOf(f[0], f[1])) {
			continue
		}
		rc := routeCheck{Route: p.name}
		resp, err := rawExchange(addr, []byte(p.req))
		switch {
		case err != nil:
			rc.Problem = err.Error()
		case resp.status != 200:
			rc.Status = resp.status
			rc.Problem = fmt.Sprintf("status %d", resp.status)
		case string(resp.body) != p.want:
			rc.Status = resp.status
			rc.Problem = fmt.Sprintf("body %q (%d bytes), want %d bytes", truncate(resp.body, 40), len(resp.body), len(p.want))
		case p.ctype != "" && !strings.HasPrefix(resp.hdr["content-type"], p.ctype):
			rc.Status = resp.status
			rc.Problem = fmt.Sprintf("Content-Type %q, want %q", resp.hdr["content-type"], p.ctype)
		}
		if resp != nil {
			rc.Status = resp.status
			rc.HeadBytes = len(resp.head)
			rc.Headers = append([]string(nil), resp.names...)
			sort.Strings(rc.Headers)
		}
		if rc.Problem != "" && firstErr == nil {
			firstErr = fmt.Errorf("%s: %s", p.name, rc.Problem)
		}
		out = append(out, rc)
	}
	return out, firstErr
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

func printRouteChecks(names []string, checks map[string][]routeCheck) {
	fmt.Println("route check (every route once, bodies compared byte for byte):")
	for _, n := range names {
		bad := 0
		for _, rc := range checks[n] {
			if rc.Problem != "" {
				bad++
				fmt.Printf("  %-14s WRONG %s: %s\n", n, rc.Route, rc.Problem)
			}
		}
		if len(checks[n]) > 0 {
			pt := checks[n][0]
			fmt.Printf("  %-14s %d/%d routes right; GET /plaintext head %d bytes: %s\n", n, len(checks[n])-bad, len(checks[n]), pt.HeadBytes, strings.Join(pt.Headers, ", "))
		}
	}
}

func headerSummary(names []string, checks map[string][]routeCheck) map[string]string {
	m := map[string]string{}
	for _, n := range names {
		if len(checks[n]) > 0 {
			pt := checks[n][0]
			m[n] = fmt.Sprintf("%d bytes: %s", pt.HeadBytes, strings.Join(pt.Headers, ", "))
		}
	}
	return m
}
