package tree

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkTree re-derives the structural invariants of the tree and fails the
// test on any violation. Tests call it after every Add (see build).
func checkTree[T any](tb testing.TB, t *Tree[T]) {
	tb.Helper()
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	routes, maxParams := 0, 0

	// full is the pattern text spelled by the path from the root to n,
	// including n itself; params counts the wildcards on that path.
	var walk func(n *node[T], full string, kind byte, params int)
	walk = func(n *node[T], full string, kind byte, params int) {
		switch kind {
		case ':', '*':
			if n.prefix != "" {
				fail("%q: wildcard node has static prefix %q", full, n.prefix)
			}
			if n.name == "" || strings.ContainsAny(n.name, ":*/") {
				fail("%q: bad wildcard name %q", full, n.name)
			}
			if n.owner == "" || !strings.HasPrefix(n.owner, full) {
				fail("%q: owner %q does not start with the node's path", full, n.owner)
			}
		case 's':
			if n.name != "" || n.owner != "" {
				fail("%q: static node with wildcard name %q/owner %q", full, n.name, n.owner)
			}
			if strings.ContainsAny(n.prefix, ":*") {
				fail("%q: static prefix %q holds a wildcard character", full, n.prefix)
			}
		}
		if n.pattern != "" {
			routes++
			maxParams = max(maxParams, params)
			if n.pattern != full {
				fail("node reached via %q stores pattern %q", full, n.pattern)
			}
		}
		if len(n.indices) != len(n.children) {
			fail("%q: %d indices for %d children", full, len(n.indices), len(n.children))
		}
		seen := map[byte]bool{}
		for i, c := range n.children {
			if c.prefix == "" {
				fail("%q: static child %d has an empty prefix", full, i)
				continue
			}
			if i < len(n.indices) && n.indices[i] != c.prefix[0] {
				fail("%q: indices[%d]=%q but child prefix is %q", full, i, n.indices[i], c.prefix)
			}
			if seen[c.prefix[0]] {
				fail("%q: two static children start with %q", full, c.prefix[0])
			}
			seen[c.prefix[0]] = true
			if kind == ':' && c.prefix[0] != '/' {
				fail("%q: child %q of a parameter does not start with '/'", full, c.prefix)
			}
		}
		if (n.param != nil || n.catchAll != nil) && !strings.HasSuffix(full, "/") {
			fail("%q: wildcard child not at the start of a segment", full)
		}
		if kind == ':' || kind == '*' {
			if n.param != nil || n.catchAll != nil {
				fail("%q: wildcard directly followed by a wildcard", full)
			}
		}
		if kind == '*' && (n.pattern == "" || len(n.children) > 0) {
			fail("%q: catch-all must be a leaf ending a route", full)
		}
		// No dead ends, and static nodes are compressed: a non-root static
		// node that ends no route and has no wildcard child must branch.
		nkids := len(n.children)
		if n.param != nil {
			nkids++
		}
		if n.catchAll != nil {
			nkids++
		}
		if kind != 'r' && n.pattern == "" && nkids == 0 {
			fail("%q: dead-end node", full)
		}
		if kind == 's' && n.pattern == "" && n.param == nil && n.catchAll == nil && len(n.children) == 1 {
			fail("%q: uncompressed static node with a single child %q", full, n.children[0].prefix)
		}
		for _, c := range n.children {
			walk(c, full+c.prefix, 's', params)
		}
		if n.param != nil {
			walk(n.param, full+":"+n.param.name, ':', params+1)
		}
		if n.catchAll != nil {
			walk(n.catchAll, full+"*"+n.catchAll.name, '*', params+1)
		}
	}
	if t.root.prefix != "" {
		fail("root has prefix %q", t.root.prefix)
	}
	walk(&t.root, "", 'r', 0)
	if maxParams != t.maxParams {
		fail("MaxParams()=%d, routes need %d", t.maxParams, maxParams)
	}
	if len(errs) > 0 {
		tb.Fatalf("tree invariants violated:\n  %s\n%s", strings.Join(errs, "\n  "), dump(t))
	}
}

// dump renders the tree, one node per line, for failure messages and for
// checking that a rejected Add left the tree unchanged.
func dump[T any](t *Tree[T]) string {
	var b strings.Builder
	var walk func(n *node[T], label string, depth int)
	walk = func(n *node[T], label string, depth int) {
		fmt.Fprintf(&b, "%s%s", strings.Repeat("  ", depth), label)
		if n.pattern != "" {
			fmt.Fprintf(&b, "  => %s (%v)", n.pattern, n.value)
		}
		b.WriteByte('\n')
		for _, c := range n.children {
			walk(c, fmt.Sprintf("%q", c.prefix), depth+1)
		}
		if n.param != nil {
			walk(n.param, ":"+n.param.name, depth+1)
		}
		if n.catchAll != nil {
			walk(n.catchAll, "*"+n.catchAll.name, depth+1)
		}
	}
	walk(&t.root, "(root)", 0)
	return b.String()
}

// build registers each pattern with itself as the value, checking the
// invariants after every Add.
func build(tb testing.TB, patterns ...string) *Tree[string] {
	tb.Helper()
	t := &Tree[string]{}
	for _, p := range patterns {
		require.NoError(tb, t.Add(p, p), "Add(%q)", p)
		checkTree(tb, t)
	}
	return t
}

// params renders ps as "k=v,k=v" for compact expectations.
func params(path string, ps Params) string {
	var parts []string
	for _, p := range ps {
		parts = append(parts, p.Key+"="+path[p.Start:p.End])
	}
	return strings.Join(parts, ",")
}

type lookupCase struct {
	path    string
	want    string // winning pattern; "" = not found
	params  string // "k=v,..." as rendered by params
	wantTSR bool
}

func runLookups(t *testing.T, tr *Tree[string], cases []lookupCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			ps := make(Params, 0, tr.MaxParams())
			v, found, tsr := tr.Lookup(tc.path, &ps)
			if tc.want == "" {
				assert.False(t, found, "matched %q", v)
				assert.Empty(t, ps)
				assert.Equal(t, tc.wantTSR, tsr, "tsr")
				return
			}
			require.True(t, found, "no match; want %q", tc.want)
			assert.Equal(t, tc.want, v)
			assert.Equal(t, tc.params, params(tc.path, ps))
			assert.False(t, tsr, "tsr must be false on a match")

			// Same answer without a Params.
			v2, found2, _ := tr.Lookup(tc.path, nil)
			assert.True(t, found2)
			assert.Equal(t, tc.want, v2)
		})
	}
}

func TestLookupPrecedence(t *testing.T) {
	tr := build(t,
		"/users/new",
		"/users/:id",
		"/users/:id/posts",
		"/users/new/edit",
		"/static/*path",
		"/static/css/main.css",
		"/:x/y",
		"/",
		"/about",
	)
	runLookups(t, tr, []lookupCase{
		{path: "/", want: "/"},
		{path: "/about", want: "/about"},
		{path: "/users/new", want: "/users/new"},
		{path: "/users/42", want: "/users/:id", params: "id=42"},
		{path: "/users/ne", want: "/users/:id", params: "id=ne"},
		{path: "/users/newx", want: "/users/:id", params: "id=newx"},
		{path: "/users/new/edit", want: "/users/new/edit"},
		// static "new" has no "/posts": backtrack to the parameter.
		{path: "/users/new/posts", want: "/users/:id/posts", params: "id=new"},
		{path: "/users/42/posts", want: "/users/:id/posts", params: "id=42"},
		// static "users" wins over ":x" at segment 1, then ":id" takes "y".
		{path: "/users/y", want: "/users/:id", params: "id=y"},
		{path: "/foo/y", want: "/:x/y", params: "x=foo"},
		{path: "/about/y", want: "/:x/y", params: "x=about"},
		{path: "/static/css/main.css", want: "/static/css/main.css"},
		{path: "/static/css/x", want: "/static/*path", params: "path=css/x"},
		{path: "/static/css/main.cssx", want: "/static/*path", params: "path=css/main.cssx"},
		{path: "/static/css/main.css/", want: "/static/*path", params: "path=css/main.css/"},
		// catch-all under static beats the root parameter route "/:x/y".
		{path: "/static/y", want: "/static/*path", params: "path=y"},
		{path: "/static/", want: "/static/*path", params: "path="},
		{path: "/static", wantTSR: true},
		{path: "/users/42/edit"},
		{path: "/users/new/edit/", wantTSR: true},
		{path: "/users/new/posts/", wantTSR: true},
		{path: "/users/", wantTSR: false},
		{path: "/users"},
		{path: "/users//posts"}, // parameters never match an empty segment
		{path: "/foo"},
		{path: "/about/", wantTSR: true},
		{path: "//y"},
		{path: "", wantTSR: true}, // "" + "/" matches "/"
		{path: "x"},
	})
}

func TestLookupBacktracking(t *testing.T) {
	tr := build(t, "/a/b/c", "/a/:p/d", "/:q/b/e", "/*rest")
	runLookups(t, tr, []lookupCase{
		{path: "/a/b/c", want: "/a/b/c"},
		{path: "/a/b/d", want: "/a/:p/d", params: "p=b"},
		{path: "/a/x/d", want: "/a/:p/d", params: "p=x"},
		// static a → b fails, :p=b fails, root :q=a succeeds.
		{path: "/a/b/e", want: "/:q/b/e", params: "q=a"},
		{path: "/x/b/e", want: "/:q/b/e", params: "q=x"},
		// everything more specific fails: the catch-all takes the path.
		{path: "/a/b/f", want: "/*rest", params: "rest=a/b/f"},
		{path: "/a/b/c/", want: "/*rest", params: "rest=a/b/c/"},
		{path: "/", want: "/*rest", params: "rest="},
		{path: "//", want: "/*rest", params: "rest=/"},
	})

	// Parameters recorded on an abandoned branch must not leak.
	tr = build(t, "/:a/:b/x", "/:a/*rest")
	runLookups(t, tr, []lookupCase{
		{path: "/1/2/x", want: "/:a/:b/x", params: "a=1,b=2"},
		{path: "/1/2/y", want: "/:a/*rest", params: "a=1,rest=2/y"},
		{path: "/1/", want: "/:a/*rest", params: "a=1,rest="},
		{path: "/1", wantTSR: true},
	})

	// Static prefixes that split inside a segment.
	tr = build(t, "/ab", "/abc/:x", "/a/:y", "/:z")
	runLookups(t, tr, []lookupCase{
		{path: "/ab", want: "/ab"},
		{path: "/abc", want: "/:z", params: "z=abc"},
		{path: "/abc/1", want: "/abc/:x", params: "x=1"},
		{path: "/a", want: "/:z", params: "z=a"},
		{path: "/a/1", want: "/a/:y", params: "y=1"},
		{path: "/abd", want: "/:z", params: "z=abd"},
		{path: "/abc/", wantTSR: true},
		{path: "/ab/", wantTSR: true}, // no route takes "/ab/", but "/ab" exists
	})
}

func TestLookupParams(t *testing.T) {
	tr := build(t,
		"/repos/:owner/:repo/issues/:number",
		"/repos/:owner/:repo",
		"/files/*path",
		"/*all",
	)
	assert.Equal(t, 3, tr.MaxParams())
	runLookups(t, tr, []lookupCase{
		{path: "/repos/kahttp/kahttp/issues/12", want: "/repos/:owner/:repo/issues/:number", params: "owner=kahttp,repo=kahttp,number=12"},
		{path: "/repos/a/b", want: "/repos/:owner/:repo", params: "owner=a,repo=b"},
		{path: "/repos/a/b/issues", want: "/*all", params: "all=repos/a/b/issues"},
		{path: "/files/a/b/c", want: "/files/*path", params: "path=a/b/c"},
		{path: "/files/", want: "/files/*path", params: "path="},
		{path: "/files//x", want: "/files/*path", params: "path=/x"},
		{path: "/files", want: "/*all", params: "all=files"},
		{path: "/", want: "/*all", params: "all="},
		{path: "/a%2Fb", want: "/*all", params: "all=a%2Fb"}, // no decoding in the tree
	})

	ps := Params{{Key: "a", Start: 1, End: 2}, {Key: "b", Start: 3, End: 5}}
	v, ok := ps.Get("/x/yz", "b")
	assert.True(t, ok)
	assert.Equal(t, "yz", v)
	_, ok = ps.Get("/x/yz", "c")
	assert.False(t, ok)

	// Lookup resets a reused Params.
	ps = make(Params, 2, 3)
	_, found, _ := tr.Lookup("/repos/a/b", &ps)
	require.True(t, found)
	assert.Len(t, ps, 2)
	_, found, _ = tr.Lookup("/nope/", nil)
	assert.True(t, found) // "/*all"
}

func TestLookupTSR(t *testing.T) {
	tr := build(t, "/a", "/b/", "/c/:id", "/d/*rest", "/e/:id/", "/", "/f/g", "/h/:id/x/")
	runLookups(t, tr, []lookupCase{
		{path: "/a/", wantTSR: true},    // remove
		{path: "/b", wantTSR: true},     // add
		{path: "/c/1/", wantTSR: true},  // remove, to a parameter route
		{path: "/d", wantTSR: true},     // add, to an empty catch-all
		{path: "/e/1", wantTSR: true},   // add, after a parameter
		{path: "/f/g/", wantTSR: true},  // remove
		{path: "/h/1/x", wantTSR: true}, // add
		{path: "/h/1", wantTSR: false},
		{path: "/f", wantTSR: false},
		{path: "/f/", wantTSR: false},
		{path: "/x", wantTSR: false},
		{path: "/a//", wantTSR: false},
		{path: "/b//", wantTSR: true}, // "/b/" exists
		{path: "/c/", wantTSR: false},
		{path: "/c", wantTSR: false},
	})
	// "/" has a trailing slash, so only removal is considered, and "" is
	// not a path: no TSR even when "//" exists.
	tr = build(t, "/a", "//")
	runLookups(t, tr, []lookupCase{{path: "/", wantTSR: false}, {path: "//", want: "//"}})
}

func TestAddErrors(t *testing.T) {
	tests := []struct {
		name     string
		existing []string
		pattern  string
		mention  []string // substrings the error must contain
	}{
		{"empty", nil, "", []string{`""`, "start with '/'"}},
		{"no slash", nil, "users", []string{`"users"`, "start with '/'"}},
		{"duplicate static", []string{"/a"}, "/a", []string{"duplicate", `"/a"`}},
		{"duplicate param", []string{"/u/:id/x", "/u/:id"}, "/u/:id", []string{"duplicate", `"/u/:id"`}},
		{"duplicate root", []string{"/"}, "/", []string{"duplicate", `"/"`}},
		{"duplicate catch-all", []string{"/s/*p"}, "/s/*p", []string{"duplicate", `"/s/*p"`}},
		{"param name", []string{"/users/:id"}, "/users/:name/x", []string{`"/users/:id"`, `"/users/:name/x"`, `":id"`, `":name"`}},
		{"param name reverse", []string{"/users/:name/x"}, "/users/:id", []string{`"/users/:id"`, `"/users/:name/x"`}},
		{"param name deep", []string{"/a/:x/b/:y"}, "/a/:x/b/:z/c", []string{`"/a/:x/b/:y"`, `"/a/:x/b/:z/c"`}},
		{"param name under split", []string{"/ab/:x", "/ac"}, "/ab/:y", []string{`"/ab/:x"`, `"/ab/:y"`}},
		{"catch-all name", []string{"/s/*a"}, "/s/*b", []string{`"/s/*a"`, `"/s/*b"`, `"*a"`, `"*b"`}},
		{"catch-all not last", nil, "/a/*x/b", []string{`"/a/*x/b"`, "last"}},
		{"catch-all not last empty", nil, "/a/*/b", []string{`"/a/*/b"`, "last"}},
		{"empty param", nil, "/a/:", []string{`"/a/:"`, "empty"}},
		{"empty param mid", nil, "/:/a", []string{`"/:/a"`, "empty"}},
		{"empty catch-all", nil, "/a/*", []string{`"/a/*"`, "empty"}},
		{"param param", nil, "/a/:a:b", []string{`"/a/:a:b"`, "malformed"}},
		{"param catch-all", nil, "/:a*b", []string{`"/:a*b"`, "malformed"}},
		{"catch-all param", nil, "/*a:b", []string{`"/*a:b"`, "malformed"}},
		{"mid-segment param", nil, "/a:b", []string{`"/a:b"`, "middle"}},
		{"mid-segment catch-all", nil, "/a/b*c", []string{`"/a/b*c"`, "middle"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := build(t, tc.existing...)
			before := dump(tr)
			err := tr.Add(tc.pattern, "new")
			require.Error(t, err)
			for _, m := range tc.mention {
				assert.Contains(t, err.Error(), m)
			}
			assert.Equal(t, before, dump(tr), "a rejected Add must leave the tree unchanged")
			checkTree(t, tr)
		})
	}
}

// Overlapping routes are not conflicts, in any registration order.
func TestAddOverlapsAnyOrder(t *testing.T) {
	patterns := []string{
		"/users/new", "/users/:id", "/users/:id/posts", "/users/new/edit",
		"/static/*path", "/static/css/main.css", "/:x/y", "/:x", "/*all", "/",
		"/static/", "/users/:id/*rest",
	}
	paths := []string{"/users/new/posts", "/static/css/x", "/q/y", "/static/", "/users/1/a/b", "/"}

	var want []string
	for i := 0; i < 20; i++ {
		// Deterministic rotations and reversals of the list.
		ps := append([]string(nil), patterns[i%len(patterns):]...)
		ps = append(ps, patterns[:i%len(patterns)]...)
		if i%2 == 1 {
			sort.Sort(sort.Reverse(sort.StringSlice(ps)))
		}
		tr := build(t, ps...)
		var got []string
		for _, p := range paths {
			var pp Params
			v, _, _ := tr.Lookup(p, &pp)
			got = append(got, v+" "+params(p, pp))
		}
		if want == nil {
			want = got
		}
		assert.Equal(t, want, got, "order %v", ps)
	}
	assert.Equal(t, []string{
		"/users/:id/posts id=new",
		"/static/*path path=css/x",
		"/:x/y x=q",
		"/static/ ",
		"/users/:id/*rest id=1,rest=a/b",
		"/ ",
	}, want)
}

func TestLookupDoesNotAllocate(t *testing.T) {
	tr := build(t,
		"/users/new", "/users/:id", "/users/:id/posts", "/users/new/edit",
		"/static/*path", "/static/css/main.css", "/:x/y", "/b/",
	)
	ps := make(Params, 0, tr.MaxParams())
	for _, path := range []string{
		"/users/new", "/users/new/posts", "/static/css/x", "/q/y",
		"/nope", "/b", "/users/new/edit/", "/static", // misses, with and without TSR
	} {
		allocs := testing.AllocsPerRun(100, func() { tr.Lookup(path, &ps) })
		assert.Zero(t, allocs, "Lookup(%q) allocates", path)
	}
}

func TestZeroValueTree(t *testing.T) {
	var tr Tree[int]
	_, found, tsr := tr.Lookup("/", nil)
	assert.False(t, found)
	assert.False(t, tsr)
	assert.Equal(t, 0, tr.MaxParams())
	require.NoError(t, tr.Add("/x/:a/*b", 7))
	checkTree(t, &tr)
	var ps Params
	v, found, _ := tr.Lookup("/x/1/2/3", &ps)
	assert.True(t, found)
	assert.Equal(t, 7, v)
	assert.Equal(t, "a=1,b=2/3", params("/x/1/2/3", ps))
}
