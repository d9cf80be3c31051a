// Package tree implements the compressed radix tree that kahttp's router
// uses to map request paths to handlers. It knows nothing about HTTP: it maps
// path patterns to values of any type T.
//
// # Patterns
//
// A pattern starts with '/' and is made of segments separated by '/':
//
//   - static text, matched byte for byte ("/users/new");
//   - a named parameter ":name" that is a whole segment; it matches one
//     non-empty segment and stops at the next '/' ("/users/:id");
//   - a catch-all "*name" that must be the last segment; it matches the rest
//     of the path including any '/', and may match the empty string
//     ("/static/*filepath" matches "/static/" and "/static/css/a.css").
//
// ':' and '*' may only start a segment; anywhere else they are an error, as
// are empty names, a catch-all that is not last, a duplicate pattern, and two
// parameters (or two catch-alls) with different names at the same place.
// Overlapping routes are not errors.
//
// # Precedence
//
// When several routes could match a path, the most specific one wins,
// segment by segment from the left: a static segment beats a parameter, which
// beats a catch-all. If the more specific branch fails further right, Lookup
// backtracks and tries the less specific one. With "/users/new",
// "/users/:id/posts" and "/static/*path" registered, "/users/new" goes to the
// static route, "/users/new/posts" backtracks to "/users/:id/posts" with
// id=new, and "/static/x/y" goes to the catch-all with path="x/y".
//
// # Allocation-free lookup
//
// Lookup does not allocate: parameters are reported as offsets into the
// path (Param.Start, Param.End) written into a caller-owned Params slice.
// If that slice has capacity MaxParams() the append never grows it, so a
// router can keep one pooled Params per connection. Matching works on the
// already-decoded path; the tree does no decoding or cleaning.
//
// A Tree is not safe for concurrent Add; concurrent Lookups on a tree that
// is no longer modified are safe.
package tree

import (
	"fmt"
	"strings"
)

// Param is one matched parameter. Its value is path[Start:End] of the path
// passed to Lookup; Key is the name from the pattern (without ':' or '*').
// Storing offsets instead of a substring keeps Param pointer-light and lets
// the caller decide whether to materialise the value.
type Param struct {
	Key        string
	Start, End int
}

// Params is the list of parameters of a match, in pattern order.
type Params []Param

// Get returns the value of the parameter named key, given the path that was
// passed to Lookup.
func (ps Params) Get(path, key string) (string, bool) {
	for _, p := range ps {
		if p.Key == key {
			return path[p.Start:p.End], true
		}
	}
	return "", false
}

// Tree maps path patterns to values. The zero value is an empty tree ready
// to use.
type Tree[T any] struct {
	root      node[T]
	maxParams int
}

// node is a radix tree node. A static node consumes prefix; a parameter node
// consumes one non-empty segment; a catch-all node consumes the rest of the
// path. After that, a node may end a route (pattern != "") and/or continue
// through its children, tried in precedence order: static children (by first
// byte), then the parameter child, then the catch-all child.
//
// Fields read on every step of a lookup come first so that they share the
// node's first cache line.
type node[T any] struct {
	prefix   string     // static bytes consumed; "" for wildcard nodes and the root
	indices  string     // indices[i] == children[i].prefix[0]; a string keeps the scan compact
	children []*node[T] // static children, prefixes pairwise differ in the first byte
	param    *node[T]   // at most one ":name" child
	catchAll *node[T]   // at most one "*name" child
	pattern  string     // the route ending here; "" if none (patterns are never empty)
	name     string     // parameter / catch-all name; "" for static nodes
	value    T
	owner    string // for wildcard nodes: the first pattern that created it (for errors)
}

// MaxParams returns the largest number of parameters any registered route
// produces. A Params with that capacity makes Lookup allocation-free.
func (t *Tree[T]) MaxParams() int { return t.maxParams }

// Add registers pattern → v. It returns an error, leaving the tree
// unchanged, if the pattern is malformed or conflicts with a registered
// route (see the package documentation).
func (t *Tree[T]) Add(pattern string, v T) error {
	nparams, err := validate(pattern)
	if err != nil {
		return err
	}
	// Conflicts are detected by a read-only walk first so that a rejected
	// pattern never leaves half-inserted nodes behind.
	if err := t.root.checkConflict(pattern); err != nil {
		return err
	}
	t.root.insert(pattern, pattern, v)
	if nparams > t.maxParams {
		t.maxParams = nparams
	}
	return nil
}

// validate checks the syntax of pattern and returns its number of wildcards.
func validate(pattern string) (int, error) {
	if pattern == "" || pattern[0] != '/' {
		return 0, fmt.Errorf("tree: pattern %q must start with '/'", pattern)
	}
	n := 0
	rest := pattern[1:]
	for {
		seg, after, more := strings.Cut(rest, "/")
		if i := strings.IndexAny(seg, ":*"); i >= 0 {
			switch {
			case i > 0:
				return 0, fmt.Errorf("tree: wildcard %q in the middle of segment %q in pattern %q; wildcards must be a whole segment", seg[i:i+1], seg, pattern)
			case seg[0] == '*' && more:
				return 0, fmt.Errorf("tree: catch-all %q must be the last segment of pattern %q", seg, pattern)
			case len(seg) == 1:
				return 0, fmt.Errorf("tree: empty wildcard name %q in pattern %q", seg, pattern)
			case strings.ContainsAny(seg[1:], ":*"):
				return 0, fmt.Errorf("tree: malformed wildcard %q in pattern %q; a segment holds one wildcard with a name made of neither ':' nor '*'", seg, pattern)
			}
			n++
		}
		if !more {
			return n, nil
		}
		rest = after
	}
}

// wildcard splits s, which starts with ':' or '*', into the wildcard name and
// what follows the wildcard segment.
func wildcard(s string) (name, rest string) {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		return s[1:i], s[i:]
	}
	return s[1:], ""
}

// staticLen returns the length of the static text at the start of s.
func staticLen(s string) int {
	if i := strings.IndexAny(s, ":*"); i >= 0 {
		return i
	}
	return len(s)
}

func (n *node[T]) child(c byte) *node[T] {
	for i := 0; i < len(n.indices); i++ {
		if n.indices[i] == c {
			return n.children[i]
		}
	}
	return nil
}

// checkConflict follows pattern through the existing tree without modifying
// it. n's own prefix has already been consumed; s is the rest of pattern.
func (n *node[T]) checkConflict(pattern string) error {
	s := pattern
	for {
		if s == "" {
			if n.pattern != "" {
				return fmt.Errorf("tree: duplicate pattern %q: already registered as %q", pattern, n.pattern)
			}
			return nil
		}
		switch s[0] {
		case ':':
			name, rest := wildcard(s)
			if n.param == nil {
				return nil
			}
			if n.param.name != name {
				return fmt.Errorf("tree: parameter %q in pattern %q conflicts with parameter %q of existing pattern %q at the same position",
					":"+name, pattern, ":"+n.param.name, n.param.owner)
			}
			n, s = n.param, rest
		case '*':
			name := s[1:]
			if n.catchAll == nil {
				return nil
			}
			if n.catchAll.name != name {
				return fmt.Errorf("tree: catch-all %q in pattern %q conflicts with catch-all %q of existing pattern %q at the same position",
					"*"+name, pattern, "*"+n.catchAll.name, n.catchAll.owner)
			}
			return fmt.Errorf("tree: duplicate pattern %q: already registered as %q", pattern, n.catchAll.pattern)
		default:
			c := n.child(s[0])
			// If the child's prefix is not a prefix of s, the new route
			// branches off inside it and cannot collide with anything below.
			if c == nil || !strings.HasPrefix(s, c.prefix) {
				return nil
			}
			n, s = c, s[len(c.prefix):]
		}
	}
}

// insert adds the route; n's own prefix has been consumed and s is what is
// left of pattern. The pattern is known to be valid and conflict-free.
func (n *node[T]) insert(s, pattern string, v T) {
	for {
		// Split n if its prefix and the static head of s diverge.
		if len(n.prefix) > 0 {
			lit := s[:staticLen(s)]
			i := commonPrefix(n.prefix, lit)
			if i < len(n.prefix) {
				tail := &node[T]{
					prefix:   n.prefix[i:],
					pattern:  n.pattern,
					value:    n.value,
					indices:  n.indices,
					children: n.children,
					param:    n.param,
					catchAll: n.catchAll,
				}
				*n = node[T]{prefix: n.prefix[:i], indices: tail.prefix[:1], children: []*node[T]{tail}}
			}
			s = s[i:]
		}
		if s == "" {
			n.pattern, n.value = pattern, v
			return
		}
		switch s[0] {
		case ':':
			name, rest := wildcard(s)
			if n.param == nil {
				n.param = &node[T]{name: name, owner: pattern}
			}
			n, s = n.param, rest
		case '*':
			n.catchAll = &node[T]{name: s[1:], owner: pattern, pattern: pattern, value: v}
			return
		default:
			c := n.child(s[0])
			if c == nil {
				c = &node[T]{prefix: s[:staticLen(s)]}
				n.indices += s[:1]
				n.children = append(n.children, c)
			}
			n = c
		}
	}
}

func commonPrefix(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

// Lookup finds the value registered for path. Parameters of the match are
// appended to (*ps)[:0]; ps may be nil when the caller does not need them.
// Lookup does not allocate when cap(*ps) >= t.MaxParams().
//
// When nothing matches, tsr reports whether the path with its trailing slash
// removed (if it has one) or added (if it has none) would match, so that a
// router can redirect "/a/" ↔ "/a". On a miss *ps is left empty.
func (t *Tree[T]) Lookup(path string, ps *Params) (v T, found bool, tsr bool) {
	if ps != nil {
		*ps = (*ps)[:0]
	}
	if n := t.root.lookup(path, 0, ps); n != nil {
		return n.value, true, false
	}
	if ps != nil {
		*ps = (*ps)[:0]
	}
	if l := len(path); l > 0 && path[l-1] == '/' {
		// "/" has no shorter form: "" is not a path.
		tsr = l > 1 && t.root.lookup(path[:l-1], 0, nil) != nil
	} else {
		tsr = t.root.matchWithSlash(path, 0)
	}
	return v, false, tsr
}

// lookup matches path[pos:] below n (whose own part is already consumed) and
// returns the node ending the winning route, or nil. It loops while there is
// a single way forward and recurses only where a less specific alternative
// must be kept for backtracking.
func (n *node[T]) lookup(path string, pos int, ps *Params) *node[T] {
walk:
	for {
		if pos == len(path) {
			if n.pattern != "" {
				return n
			}
			if c := n.catchAll; c != nil { // catch-all may be empty
				if ps != nil {
					*ps = append(*ps, Param{Key: c.name, Start: pos, End: pos})
				}
				return c
			}
			return nil
		}

		// 1. Static child: at most one can match, chosen by first byte.
		ch := path[pos]
		for i := 0; i < len(n.indices); i++ {
			if n.indices[i] != ch {
				continue
			}
			c := n.children[i]
			if hasPrefixAt(path, pos, c.prefix) {
				if n.param == nil && n.catchAll == nil {
					n, pos = c, pos+len(c.prefix) // nothing to fall back to: iterate
					continue walk
				}
				var mark int
				if ps != nil {
					mark = len(*ps)
				}
				if r := c.lookup(path, pos+len(c.prefix), ps); r != nil {
					return r
				}
				if ps != nil {
					*ps = (*ps)[:mark]
				}
			}
			break
		}

		// 2. Parameter child: one non-empty segment.
		if p := n.param; p != nil {
			end := pos
			for end < len(path) && path[end] != '/' {
				end++
			}
			if end > pos {
				var mark int
				if ps != nil {
					mark = len(*ps)
					*ps = append(*ps, Param{Key: p.name, Start: pos, End: end})
				}
				if n.catchAll == nil {
					n, pos = p, end
					continue
				}
				if r := p.lookup(path, end, ps); r != nil {
					return r
				}
				if ps != nil {
					*ps = (*ps)[:mark]
				}
			}
		}

		// 3. Catch-all child: the rest of the path.
		if c := n.catchAll; c != nil {
			if ps != nil {
				*ps = append(*ps, Param{Key: c.name, Start: pos, End: len(path)})
			}
			return c
		}
		return nil
	}
}

// hasPrefixAt reports whether path[pos:] starts with p. Prefixes in a
// route tree are mostly a few bytes long, for which a byte loop beats the
// call into the runtime's memequal; the first byte is already known to match.
func hasPrefixAt(path string, pos int, p string) bool {
	if len(path)-pos < len(p) {
		return false
	}
	path = path[pos : pos+len(p)]
	for i := 1; i < len(p); i++ {
		if path[i] != p[i] {
			return false
		}
	}
	return true
}

// matchWithSlash reports whether path[pos:]+"/" matches below n, without
// building that string (Lookup must not allocate, even on a miss). It is the
// same walk as lookup, with a virtual '/' after the end of path and no
// parameters recorded.
func (n *node[T]) matchWithSlash(path string, pos int) bool {
	for {
		rest := path[pos:]
		ch := byte('/') // first byte of rest+"/"
		if rest != "" {
			ch = rest[0]
		}
		if c := n.child(ch); c != nil {
			switch p := c.prefix; {
			case strings.HasPrefix(rest, p):
				if c.matchWithSlash(path, pos+len(p)) {
					return true
				}
			case len(p) == len(rest)+1 && p[len(rest)] == '/' && strings.HasPrefix(p, rest):
				// p == rest+"/": everything, including the virtual '/', is
				// consumed here, so c must end a route or have an empty catch-all.
				if c.pattern != "" || c.catchAll != nil {
					return true
				}
			}
		}
		if p := n.param; p != nil {
			end := pos
			for end < len(path) && path[end] != '/' {
				end++
			}
			if end > pos {
				if n.catchAll == nil {
					n, pos = p, end
					continue
				}
				if p.matchWithSlash(path, end) {
					return true
				}
			}
		}
		return n.catchAll != nil
	}
}
