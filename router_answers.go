package kahttp

import (
	"slices"
	"strings"

	"github.com/kahttp/kahttp/internal/tree"
)

// The router's own answers: what a request that no route takes gets (404,
// 405 with Allow, OPTIONS, the trailing-slash redirect, CONNECT's 501),
// each run through the middleware of the group that owns its path.

// resolved is a handler and the mode it runs in.
type resolved struct {
	h    Handler
	mode Mode
}

// answers are the router's own answers (not found, 405, OPTIONS, the
// trailing-slash redirect, CONNECT's 501) for a part of the paths, each
// wrapped in the middleware of the group that owns them.
type answers struct {
	notFound resolved // NotFound
	notAllow resolved // MethodNotAllowed, with Allow
	options  resolved // the automatic OPTIONS answer
	redirect resolved // the trailing-slash redirect
	connect  resolved // CONNECT that no route takes: 501
	answer   resolved // the server's answer to a routed request (answerRequestError)
	// errw is the owning group's ErrorWriter, nil for the server's.
	errw ErrorWriter
}

// ownedAnswers are the answers for the paths under a group's prefix.
type ownedAnswers struct {
	prefix string
	answers
}

// answersFor is the router's answers for path: those of the innermost
// group whose prefix owns it (the prefix itself, or the prefix and a '/'),
// else the router's.
func (rt *Router) answersFor(path string) *answers {
	for i := range rt.owned {
		o := &rt.owned[i]
		if strings.HasPrefix(path, o.prefix) && (len(path) == len(o.prefix) || path[len(o.prefix)] == '/') {
			return &o.answers
		}
	}
	return &rt.top
}

// freeze builds the router's own answers once, before the first request:
// wrapped in the router's middleware, and for each group with a prefix
// and middleware of its own (or its parents'), in that group's chain too,
// so that auth hides a group's 404s and 405s and CORS answers its preflights.
func (rt *Router) freeze() {
	rt.top = rt.answers(rt.root.mws, rt.root.errw)
	groups := slices.Clone(rt.groups)
	slices.SortStableFunc(groups, func(a, b *Group) int { return len(b.prefix) - len(a.prefix) })
	for _, g := range groups {
		var chain []Middleware
		for x := g; x != nil; x = x.parent {
			chain = append(slices.Clone(x.mws), chain...)
		}
		errw := g.errorWriter()
		if g.prefix == "" || len(chain) == len(rt.root.mws) && errw == nil {
			continue // the router's answers already
		}
		rt.owned = append(rt.owned, ownedAnswers{prefix: g.prefix, answers: rt.answers(chain, errw)})
	}
}

// answers wraps the router's answers in chain (outermost first), with
// errw the ErrorWriter they answer through.
func (rt *Router) answers(chain []Middleware, errw ErrorWriter) answers {
	mode := Inline
	if len(chain) > 0 {
		mode = Default // middleware may block: not on the loop
	}
	wrap := func(h Handler, custom bool) resolved {
		for i := len(chain) - 1; i >= 0; i-- {
			h = chain[i](h)
		}
		if custom {
			return resolved{h, Default}
		}
		return resolved{h, mode}
	}
	var a answers
	if rt.NotFound != nil {
		a.notFound = wrap(rt.NotFound, true)
	} else {
		a.notFound = wrap(HandlerFunc(notFound), false)
	}
	if rt.MethodNotAllowed != nil {
		a.notAllow = wrap(allowHandler{rt, rt.MethodNotAllowed}, true)
	} else {
		a.notAllow = wrap(allowHandler{rt, HandlerFunc(methodNotAllowed)}, false)
	}
	if rt.GlobalOPTIONS != nil {
		a.options = wrap(allowHandler{rt, rt.GlobalOPTIONS}, true)
	} else {
		a.options = wrap(allowHandler{rt, HandlerFunc(options)}, false)
	}
	a.redirect = wrap(HandlerFunc(trailingSlash), false)
	a.connect = wrap(HandlerFunc(connectNotImplemented), false)
	a.answer = wrap(HandlerFunc(answerRequestError), false)
	a.errw = errw
	return a
}

// allowMask is the set of methods with a route for path: bit i for
// stdMethods[i], then the custom methods. HEAD is in it when GET is, and
// OPTIONS whenever anything is. "*" (OPTIONS *) has every method registered.
func (rt *Router) allowMask(path string) uint64 {
	var mask uint64
	for i, t := range rt.trees {
		if t != nil && (path == "*" || lookupOnly(t, path)) {
			mask |= 1 << i
		}
	}
	for i, mt := range rt.custom {
		if path == "*" || lookupOnly(mt.t, path) {
			mask |= 1 << (len(stdMethods) + i)
		}
	}
	if mask&(1<<mGET) != 0 {
		mask |= 1 << mHEAD
	}
	if mask != 0 {
		mask |= 1 << mOPTIONS
	}
	return mask
}

func lookupOnly(t *tree.Tree[*route], path string) bool {
	_, found, _ := t.Lookup(path, nil)
	return found
}

// allow is the Allow header value for path, e.g. "GET, HEAD, OPTIONS".
// The strings are cached per set of methods.
func (rt *Router) allow(path string) string {
	mask := rt.allowMask(path)
	rt.allowMu.Lock()
	defer rt.allowMu.Unlock()
	if s, ok := rt.allowCache[mask]; ok {
		return s
	}
	var b strings.Builder
	for i := 0; i < maxMethods; i++ {
		if mask&(1<<i) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		if i < len(stdMethods) {
			b.WriteString(stdMethods[i])
		} else {
			b.WriteString(rt.custom[i-len(stdMethods)].method)
		}
	}
	if rt.allowCache == nil {
		rt.allowCache = make(map[uint64]string)
	}
	s := b.String()
	rt.allowCache[mask] = s
	return s
}

// allowHandler sets Allow, then runs next.
type allowHandler struct {
	rt   *Router
	next Handler
}

func (a allowHandler) Serve(w *Response, r *Request) {
	w.Header().Set("Allow", a.rt.allow(r.Path()))
	a.next.Serve(w, r)
}

func notFound(w *Response, r *Request) {
	w.errorAnswer(&RequestError{Status: StatusNotFound, Reason: "no route for the path"}, func() {
		plain(w, StatusNotFound, "404 Not Found\n")
	})
}

func methodNotAllowed(w *Response, r *Request) {
	w.errorAnswer(&RequestError{Status: StatusMethodNotAllowed, Reason: "method not allowed for the path"}, func() {
		plain(w, StatusMethodNotAllowed, "405 Method Not Allowed\n")
	})
}

func options(w *Response, r *Request) { w.WriteHeader(StatusNoContent) }

// connectNotImplemented refuses a tunnel and closes the connection.
func connectNotImplemented(w *Response, r *Request) {
	w.Header().Set("Connection", "close")
	w.errorAnswer(&RequestError{Status: StatusNotImplemented, Reason: "CONNECT is not supported"}, func() {
		plain(w, StatusNotImplemented, "501 Not Implemented\n")
	})
}

// trailingSlash redirects to the path with its trailing slash toggled: 301
// for GET and HEAD, 308 (which keeps the method and body) for the rest.
func trailingSlash(w *Response, r *Request) {
	raw := r.RawPath()
	var loc string
	switch {
	case strings.HasSuffix(raw, "/"):
		loc = raw[:len(raw)-1]
	case len(raw) >= 3 && strings.EqualFold(raw[len(raw)-3:], "%2f"):
		loc = raw[:len(raw)-3]
	default:
		loc = raw + "/"
	}
	if strings.HasPrefix(loc, "//") {
		loc = "/" + strings.TrimLeft(loc, "/") // never a scheme-relative URL to another host
	}
	if q := r.RawQuery(); q != "" {
		loc += "?" + q
	}
	code := StatusPermanentRedirect
	if m := r.Method(); m == "GET" || m == "HEAD" {
		code = StatusMovedPermanently
	}
	w.Header().Set("Location", loc)
	plain(w, code, StatusText(code)+"\n")
}

func plain(w *Response, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.WriteString(body)
}
