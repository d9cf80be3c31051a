package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// runWrk runs the keep-alive or pipelined case with wrk instead of the
// built-in generator, as a cross-check. wrk runs one thread (it inherits
// this process's CPU pinning). It does not check bodies; it reports non-2xx
// responses and socket errors, which are counted as errors here.
func runWrk(spec LoadSpec) (*LoadResult, error) {
	if spec.HTTP10 || spec.NewConnPerReq || len(spec.Requests) != 1 || spec.Requests[0].Method != "GET" {
		return nil, fmt.Errorf("wrk cross-checks only single-GET keep-alive/pipelined cases")
	}
	secs := int(spec.Duration.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	args := []string{"-t1", "-c" + strconv.Itoa(spec.Conns), "-d" + strconv.Itoa(secs) + "s", "--latency", "--timeout", "5s"}
	if spec.Pipeline > 1 {
		dir, err := os.MkdirTemp("", "kahttp-bench-wrk")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		script := filepath.Join(dir, "pipeline.lua")
		lua := fmt.Sprintf(`init = function(args)
  local r = {}
  for i = 1, %d do r[i] = wrk.format(nil, %q) end
  req = table.concat(r)
end
request = function() return req end
`, spec.Pipeline, spec.Requests[0].Path)
		if err := os.WriteFile(script, []byte(lua), 0o644); err != nil {
			return nil, err
		}
		args = append(args, "-s", script)
	}
	args = append(args, "http://"+spec.Addr+spec.Requests[0].Path)
	start := time.Now()
	cmd := exec.Command("wrk", args...)
	out, err := cmd.CombinedOutput()
	elapsed := time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("wrk: %v: %s", err, out)
	}
	res, err := parseWrk(string(out), elapsed)
	if err == nil && cmd.ProcessState != nil {
		res.ChildCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	return res, err
}

var (
	reWrkTotal   = regexp.MustCompile(`(\d+) requests in ([\d.]+)(us|ms|s|m)`)
	reWrkLatency = regexp.MustCompile(`(?m)^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)`)
	reWrkPct     = regexp.MustCompile(`(?m)^\s*(50|99)%\s+(\S+)`)
	reWrkNon2xx  = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	reWrkSocket  = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

func parseWrkDur(s string) float64 { // in µs
	for _, u := range []struct {
		suf string
		mul float64
	}{{"us", 1}, {"ms", 1e3}, {"m", 60e6}, {"s", 1e6}} {
		if v, ok := strings.CutSuffix(s, u.suf); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f * u.mul
			}
		}
	}
	return 0
}

func parseWrk(out string, wall time.Duration) (*LoadResult, error) {
	m := reWrkTotal.FindStringSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("wrk: cannot parse output: %s", out)
	}
	total, _ := strconv.ParseInt(m[1], 10, 64)
	res := &LoadResult{Elapsed: time.Duration(parseWrkDur(m[2]+m[3]) * float64(time.Microsecond))}
	if res.Elapsed <= 0 {
		res.Elapsed = wall
	}
	var errs int64
	if m := reWrkNon2xx.FindStringSubmatch(out); m != nil {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		errs += n
	}
	if m := reWrkSocket.FindStringSubmatch(out); m != nil {
		for _, f := range m[1:] {
			n, _ := strconv.ParseInt(f, 10, 64)
			errs += n
		}
	}
	res.Errors = errs
	res.OK = total - errs
	if res.OK < 0 {
		res.OK = 0
	}
	lat := make([]float64, 3)
	if m := reWrkLatency.FindStringSubmatch(out); m != nil {
		lat[2] = parseWrkDur(m[3])
	}
	for _, m := range reWrkPct.FindAllStringSubmatch(out, -1) {
		if m[1] == "50" {
			lat[0] = parseWrkDur(m[2])
		} else {
			lat[1] = parseWrkDur(m[2])
		}
	}
	res.WrkLatency = lat
	return res, nil
}
