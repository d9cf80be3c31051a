package kahttp

import (
	"strings"
	"testing"
)

var (
	fuzzStatic = []string{"a", "b", "ab", "abc", "ba", "users", "u"}
	fuzzParam  = []string{":x", ":y", ":id"}
	fuzzPath   = []string{"a", "b", "ab", "abc", "ba", "users", "u", "c", "", "x"}
)

// fuzzPatterns turns bytes into route patterns of static and parameter segments.
func fuzzPatterns(data []byte) []string {
	var out []string
	for len(data) > 0 && len(out) < 40 {
		head := data[0]
		data = data[1:]
		n := int(head%4) + 1
		var parts []string
		for i := 0; i < n && len(data) > 0; i++ {
			b := data[0]
			data = data[1:]
			if b&0x80 != 0 {
				parts = append(parts, fuzzParam[int(b&0x7f)%len(fuzzParam)])
			} else {
				parts = append(parts, fuzzStatic[int(b)%len(fuzzStatic)])
			}
		}
		p := "/" + strings.Join(parts, "/")
		if head&0x10 != 0 && len(parts) > 0 {
			p += "/"
		}
		out = append(out, p)
	}
	return out
}

// fuzzPaths turns bytes into request paths.
func fuzzPaths(data []byte) []string {
	var out []string
	for len(data) > 0 && len(out) < 40 {
		n := int(data[0]%5) + 1
		data = data[1:]
		var parts []string
		for i := 0; i < n && len(data) > 0; i++ {
			parts = append(parts, fuzzPath[int(data[0])%len(fuzzPath)])
			data = data[1:]
		}
		out = append(out, "/"+strings.Join(parts, "/"))
	}
	return out
}

// refMatch is the naive reference: segment by segment, a static segment
// must be equal, a parameter takes one non-empty segment.
func refMatch(pattern, path string) ([]Param, bool) {
	ps, ss := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(ss) {
		return nil, false
	}
	var params []Param
	for i := range ps {
		if strings.HasPrefix(ps[i], ":") {
			if ss[i] == "" {
				return nil, false
			}
			params = append(params, Param{Key: ps[i][1:], Value: ss[i]})
		} else if ps[i] != ss[i] {
			return nil, false
		}
	}
	return params, true
}

// moreSpecific reports whether pattern a beats b for a path both match:
// from the left, the first segment where one is static and the other a
// parameter decides.
func moreSpecific(a, b string) bool {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	for i := range as {
		ap, bp := strings.HasPrefix(as[i], ":"), strings.HasPrefix(bs[i], ":")
		if ap != bp {
			return !ap
		}
	}
	return false
}

// refConflict reports whether p cannot join the accepted patterns: it is one
// of them, or at the first segment where it differs from one, both are
// parameters (with different names).
func refConflict(accepted []string, p string) bool {
	for _, q := range accepted {
		if p == q {
			return true
		}
		ps, qs := strings.Split(p, "/"), strings.Split(q, "/")
		for i := 0; i < len(ps) && i < len(qs); i++ {
			if ps[i] != qs[i] {
				if strings.HasPrefix(ps[i], ":") && strings.HasPrefix(qs[i], ":") {
					return true
				}
				break
			}
		}
	}
	return false
}

func refLookup(patterns []string, path string) (string, []Param, bool) {
	best, found := "", false
	var params []Param
	for _, p := range patterns {
		ps, ok := refMatch(p, path)
		if ok && (!found || moreSpecific(p, best)) {
			best, params, found = p, ps, true
		}
	}
	return best, params, found
}

// FuzzRouterMatchesReference registers random static/parameter routes and
// checks that the router agrees with the naive matcher on acceptance,
// on the route chosen, its parameters and the trailing-slash redirect.
func FuzzRouterMatchesReference(f *testing.F) {
	f.Add([]byte{0x01, 0x05, 0x80, 0x02, 0x05, 0x00, 0x81}, []byte{0x01, 0x05, 0x00, 0x02, 0x05, 0x01})
	f.Add([]byte{0x12, 0x00, 0x81, 0x02, 0x00, 0x00, 0x01, 0x02, 0x80, 0x01}, []byte{0x02, 0x00, 0x00, 0x02, 0x00, 0x02})
	f.Add([]byte{0x01, 0x80, 0x01, 0x81, 0x01, 0x00}, []byte{0x00, 0x00, 0x01, 0x03, 0x04})
	f.Add([]byte{0x02, 0x80, 0x01, 0x03, 0x00, 0x80, 0x02, 0x11, 0x05, 0x82}, []byte{0x01, 0x05, 0x08, 0x03, 0x00, 0x01, 0x02})
	f.Add([]byte(""), []byte("0")) // no route registered: the GET tree is nil
	f.Fuzz(func(t *testing.T, routes, paths []byte) {
		rt := NewRouter()
		var accepted []string
		for _, p := range fuzzPatterns(routes) {
			err := rt.Handle("GET", p, echoRoute(p))
			if want := refConflict(accepted, p); want != (err != nil) {
				t.Fatalf("register %q after %q: error %v, reference conflict %v", p, accepted, err, want)
			}
			if err == nil {
				accepted = append(accepted, p)
			}
		}
		for _, path := range fuzzPaths(paths) {
			wantPattern, wantParams, wantFound := refLookup(accepted, path)
			r := testRequest(t, "GET", path)
			h, _ := rt.Resolve(r)
			if !wantFound {
				if len(r.Params()) != 0 {
					t.Fatalf("%q: no route, but params %v", path, r.Params())
				}
				var found, tsr bool
				if gets := rt.trees[mGET]; gets != nil { // nil while no GET route is registered
					_, found, tsr = gets.Lookup(path, nil)
				}
				if found {
					t.Fatalf("%q: routes %q: router found a route, reference none", path, accepted)
				}
				alt := path + "/"
				if strings.HasSuffix(path, "/") {
					alt = path[:len(path)-1]
				}
				_, _, wantTSR := refLookup(accepted, alt)
				wantTSR = wantTSR && path != "/"
				if tsr != wantTSR {
					t.Fatalf("%q: routes %q: tsr %v, reference %v", path, accepted, tsr, wantTSR)
				}
				releaseRequest(r)
				continue
			}
			rte, found, _ := rt.trees[mGET].Lookup(path, nil)
			if !found || rte.pattern != wantPattern {
				t.Fatalf("%q: routes %q: router chose %v, reference %q", path, accepted, rte, wantPattern)
			}
			if rte.h == nil || h == nil {
				t.Fatalf("%q: no handler", path)
			}
			got := r.Params()
			if len(got) != len(wantParams) {
				t.Fatalf("%q → %q: params %v, reference %v", path, wantPattern, got, wantParams)
			}
			for i := range got {
				if got[i] != wantParams[i] {
					t.Fatalf("%q → %q: params %v, reference %v", path, wantPattern, got, wantParams)
				}
			}
			releaseRequest(r)
		}
	})
}
