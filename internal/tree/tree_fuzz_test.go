package tree

import (
	"fmt"
	"strings"
	"testing"
)

// The reference implementation below is deliberately naive: patterns are
// split into segments and matching tries, segment by segment, the static
// routes, then the parameter routes, then the catch-all, recursing over
// route sets. It shares no code with the tree.

type refSeg struct {
	kind byte // 's' static, ':' parameter, '*' catch-all
	text string
}

type refRoute struct {
	pattern string
	segs    []refSeg
	id      int
}

// refParse reports whether pattern is valid and returns its segments.
func refParse(pattern string) ([]refSeg, bool) {
	if !strings.HasPrefix(pattern, "/") {
		return nil, false
	}
	raw := strings.Split(pattern[1:], "/")
	segs := make([]refSeg, 0, len(raw))
	for i, s := range raw {
		if !strings.ContainsAny(s, ":*") {
			segs = append(segs, refSeg{'s', s})
			continue
		}
		name := s[1:]
		if (s[0] != ':' && s[0] != '*') || name == "" || strings.ContainsAny(name, ":*") {
			return nil, false
		}
		if s[0] == '*' && i != len(raw)-1 {
			return nil, false
		}
		segs = append(segs, refSeg{s[0], name})
	}
	return segs, true
}

// refConflicts reports whether r may not be registered next to e: same
// pattern, or parameters/catch-alls with different names at the same place.
func refConflicts(e, r []refSeg) bool {
	for i := 0; ; i++ {
		if i == len(e) || i == len(r) {
			return len(e) == len(r) // identical route
		}
		a, b := e[i], r[i]
		if a.kind != b.kind {
			return false
		}
		if a.text != b.text {
			return a.kind != 's'
		}
	}
}

type kv struct{ k, v string }

func refMatch(cands []*refRoute, segs []string, i int, ps []kv) (*refRoute, []kv) {
	if i == len(segs) {
		for _, c := range cands {
			if len(c.segs) == i {
				return c, ps
			}
		}
		return nil, nil
	}
	var static, param, catchAll []*refRoute
	for _, c := range cands {
		if len(c.segs) <= i {
			continue
		}
		switch s := c.segs[i]; s.kind {
		case 's':
			if s.text == segs[i] {
				static = append(static, c)
			}
		case ':':
			param = append(param, c)
		case '*':
			catchAll = append(catchAll, c)
		}
	}
	if r, rps := refMatch(static, segs, i+1, ps); r != nil {
		return r, rps
	}
	if len(param) > 0 && segs[i] != "" {
		p := append(ps[:len(ps):len(ps)], kv{param[0].segs[i].text, segs[i]})
		if r, rps := refMatch(param, segs, i+1, p); r != nil {
			return r, rps
		}
	}
	if len(catchAll) > 0 {
		return catchAll[0], append(ps[:len(ps):len(ps)], kv{catchAll[0].segs[i].text, strings.Join(segs[i:], "/")})
	}
	return nil, nil
}

func refLookup(routes []*refRoute, path string) (*refRoute, []kv) {
	if !strings.HasPrefix(path, "/") {
		return nil, nil
	}
	return refMatch(routes, strings.Split(path[1:], "/"), 0, nil)
}

func refTSR(routes []*refRoute, path string) bool {
	if strings.HasSuffix(path, "/") {
		if path == "/" {
			return false
		}
		r, _ := refLookup(routes, path[:len(path)-1])
		return r != nil
	}
	r, _ := refLookup(routes, path+"/")
	return r != nil
}

// fuzzInput hands out bytes of the fuzz input, then zeros.
type fuzzInput []byte

func (in *fuzzInput) next() int {
	if len(*in) == 0 {
		return 0
	}
	b := (*in)[0]
	*in = (*in)[1:]
	return int(b)
}

func (in *fuzzInput) pick(list ...string) string { return list[in.next()%len(list)] }

var (
	fuzzStatic  = []string{"a", "b", "ab", "", "aa", "ba"}
	fuzzPathSeg = []string{"a", "b", "ab", "", "aa", "c", "x", "abc", "ba"}
)

func (in *fuzzInput) pattern() string {
	n := 1 + in.next()%4
	segs := make([]string, n)
	for i := range segs {
		switch k := in.next() % 16; {
		case k < 8:
			segs[i] = in.pick(fuzzStatic...)
		case k < 12:
			segs[i] = ":" + in.pick("x", "x", "y")
		case k < 14:
			segs[i] = "*" + in.pick("r", "r", "s")
		case k < 15:
			segs[i] = in.pick(":", "*", "a:b", ":x:y", "a*", ":x*", "*r:")
		default:
			segs[i] = in.pick(fuzzStatic...) + in.pick("", "a")
		}
	}
	return "/" + strings.Join(segs, "/")
}

// path invents a path, often by instantiating one of the patterns so that
// matches (and near misses) are common.
func (in *fuzzInput) path(patterns []string) string {
	var segs []string
	if len(patterns) > 0 && in.next()%4 != 0 {
		p := patterns[in.next()%len(patterns)]
		for _, s := range strings.Split(p[1:], "/") {
			switch {
			case strings.HasPrefix(s, ":"):
				segs = append(segs, in.pick(fuzzPathSeg...))
			case strings.HasPrefix(s, "*"):
				for j := in.next() % 3; j > 0; j-- {
					segs = append(segs, in.pick(fuzzPathSeg...))
				}
				if len(segs) == 0 || in.next()%2 == 0 {
					segs = append(segs, "") // allow an empty remainder
				}
			default:
				segs = append(segs, s)
			}
		}
	} else {
		for j := 1 + in.next()%5; j > 0; j-- {
			segs = append(segs, in.pick(fuzzPathSeg...))
		}
	}
	path := "/" + strings.Join(segs, "/")
	switch in.next() % 8 {
	case 0:
		path += "/"
	case 1:
		if len(path) > 1 {
			path = strings.TrimSuffix(path, "/")
		}
	}
	return path
}

func FuzzTreeMatchesReference(f *testing.F) {
	f.Add([]byte("seed"))
	f.Add([]byte{5, 1, 0, 9, 1, 0, 3, 12, 0, 2, 3, 8, 1, 10, 0, 4, 1, 2})
	f.Add([]byte{8, 2, 3, 0, 9, 1, 2, 3, 0, 9, 0, 1, 1, 12, 1, 0, 14, 2, 1, 3, 0, 2, 0, 1, 7})
	f.Add([]byte("\x07\x03\x08\x00\x00\x09\x00\x0a\x01\x02\x0c\x0d\x00\x01\x05\x03\x01\x01\x02\x06\x0f\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		in := fuzzInput(data)
		tr := &Tree[int]{}
		var routes []*refRoute
		var patterns []string

		for n := 1 + in.next()%10; n > 0; n-- {
			p := in.pattern()
			segs, valid := refParse(p)
			conflict := false
			for _, r := range routes {
				if valid && refConflicts(r.segs, segs) {
					conflict = true
				}
			}
			err := tr.Add(p, len(routes))
			checkTree(t, tr)
			switch {
			case err != nil && valid && !conflict:
				t.Fatalf("Add(%q) = %v; reference accepts it next to %q", p, err, patterns)
			case err == nil && (!valid || conflict):
				t.Fatalf("Add(%q) accepted; reference rejects it (valid=%v) next to %q", p, valid, patterns)
			case err != nil && !strings.Contains(err.Error(), fmt.Sprintf("%q", p)):
				t.Fatalf("Add(%q) error does not name the pattern: %v", p, err)
			case err == nil:
				routes = append(routes, &refRoute{pattern: p, segs: segs, id: len(routes)})
				patterns = append(patterns, p)
			}
		}

		ps := make(Params, 0, tr.MaxParams())
		for n := 1 + in.next()%8; n > 0; n-- {
			path := in.path(patterns)
			want, wantPS := refLookup(routes, path)
			v, found, tsr := tr.Lookup(path, &ps)
			if found != (want != nil) {
				t.Fatalf("Lookup(%q): found=%v (value %d), reference %v\nroutes %q\n%s", path, found, v, want, patterns, dump(tr))
			}
			if !found {
				if len(ps) != 0 {
					t.Fatalf("Lookup(%q): miss left params %v", path, ps)
				}
				if wantTSR := refTSR(routes, path); tsr != wantTSR {
					t.Fatalf("Lookup(%q): tsr=%v, reference %v\nroutes %q\n%s", path, tsr, wantTSR, patterns, dump(tr))
				}
				continue
			}
			if tsr {
				t.Fatalf("Lookup(%q): tsr=true on a match", path)
			}
			if v != want.id {
				t.Fatalf("Lookup(%q) matched %q, reference %q\nroutes %q\n%s", path, patterns[v], want.pattern, patterns, dump(tr))
			}
			got := make([]kv, len(ps))
			for i, p := range ps {
				got[i] = kv{p.Key, path[p.Start:p.End]}
			}
			if fmt.Sprint(got) != fmt.Sprint(wantPS) {
				t.Fatalf("Lookup(%q) → %q: params %v, reference %v", path, want.pattern, got, wantPS)
			}
			if len(ps) > tr.MaxParams() {
				t.Fatalf("Lookup(%q): %d params > MaxParams %d", path, len(ps), tr.MaxParams())
			}
		}
	})
}
