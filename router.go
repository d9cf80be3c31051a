package kahttp

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/kahttp/kahttp/internal/tree"
)

// Router routes requests by method and path with a radix tree.
//
// Patterns are made of '/'-separated segments: static text ("/users/new"),
// a named parameter that is a whole segment ("/users/:id", one non-empty
// segment) and a trailing catch-all ("/static/*path", the rest of the path,
// possibly empty). When routes overlap, static beats parameter beats
// catch-all, segment by segment from the left, with backtracking. Malformed
// and conflicting patterns (a duplicate, or two parameter names at the same
// place) are errors at registration: Handle returns them, the method helpers
// (GET, POST, ...) record them, and Err joins them all; a Server refuses to
// Start a router with errors.
//
// Paths are matched on the decoded path (Request.Path); the raw query stays
// available. Parameters are read with Request.Param, without allocating.
//
// Beyond the routes:
//   - no route for the path: NotFound (404);
//   - the path has routes, but not for the method: MethodNotAllowed (405),
//     with an Allow header listing the methods;
//   - OPTIONS with no OPTIONS route: 204 with Allow (GlobalOPTIONS, when set,
//     writes the answer);
//   - CONNECT with no CONNECT route for its target, and no route for it
//     with another method: 501 Not Implemented, with Connection: close. The
//     router does not tunnel; an authority-form target ("host:443") is no
//     path, so 404 would be wrong, and 405 would claim the target supports
//     other methods. The close keeps bytes a client sent ahead for the
//     tunnel from being read as a request (RFC 9110 §9.3.6);
//   - HEAD with no HEAD route is served by the GET route (without the body);
//   - "/a/" when only "/a" matches, or the reverse: a redirect, 301 for GET
//     and HEAD, 308 for the other methods (RedirectTrailingSlash).
//
// These answers (custom NotFound, MethodNotAllowed and GlobalOPTIONS
// handlers included) run through the middleware of the group that owns the
// path, as its routes do: the innermost group whose prefix is the path or
// a parent of it ("/api" owns "/api" and "/api/x", not "/apix"; among
// groups with the same prefix, the first made), else the router's. So an
// auth middleware on a group hides which of its paths exist, and a CORS
// middleware answers its preflights.
//
// Router is a Handler and a Resolver: the server resolves the route on the
// event loop, then runs the route's handler where its Mode says (see
// WithMode). Register every route before serving: a Router is not safe for
// registration concurrent with requests.
type Router struct {
	// NotFound answers requests that match no route (default: 404 text).
	NotFound Handler
	// MethodNotAllowed answers requests whose path has routes for other
	// methods only (default: 405 text). The Allow header is set before it runs.
	MethodNotAllowed Handler
	// GlobalOPTIONS, when set, answers OPTIONS requests that no OPTIONS
	// route handles (a CORS preflight, say). The Allow header is set before it runs.
	GlobalOPTIONS Handler
	// RedirectTrailingSlash redirects "/a/" to "/a" (or the reverse) when
	// only the other form has a route. On by NewRouter.
	RedirectTrailingSlash bool

	root      Group
	trees     [len(stdMethods)]*tree.Tree[*route]
	custom    []methodTree
	maxParams int
	// maxBodyLimit is the largest WithBodyLimit: the parser's bound, the
	// route's own applied once the request is routed.
	maxBodyLimit int64
	minBodyLimit int64 // the smallest WithBodyLimit, 0 without one
	errs         []error

	groups []*Group // every group, in the order made

	once  sync.Once
	top   answers        // the router's own answers, in the router's middleware
	owned []ownedAnswers // the same in the middleware of the groups that own a prefix; longest first

	allowMu    sync.Mutex
	allowCache map[uint64]string
}

// route is what the trees hold: the route's final (wrapped) handler.
type route struct {
	h         Handler
	mode      Mode
	pattern   string
	bodyLimit int64       // WithBodyLimit; 0: Config.MaxBodyBytes
	errw      ErrorWriter // its group's (SetErrorWriter), nil for the server's
}

type methodTree struct {
	method string
	t      *tree.Tree[*route]
}

// stdMethods are the methods with a fixed tree slot, in the order Allow lists them.
var stdMethods = [...]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE"}

const (
	mGET     = 0
	mHEAD    = 1
	mOPTIONS = 7
)

// maxMethods bounds the distinct methods a router knows (Allow is a bit set).
const maxMethods = 64

func stdIndex(m string) int {
	switch m {
	case "GET":
		return 0
	case "HEAD":
		return 1
	case "POST":
		return 2
	case "PUT":
		return 3
	case "PATCH":
		return 4
	case "DELETE":
		return 5
	case "CONNECT":
		return 6
	case "OPTIONS":
		return 7
	case "TRACE":
		return 8
	}
	return -1
}

// NewRouter returns an empty router with RedirectTrailingSlash on.
func NewRouter() *Router {
	rt := &Router{RedirectTrailingSlash: true}
	rt.root.rt = rt
	return rt
}

// RouteOption configures one route.
type RouteOption func(*routeOptions)

type routeOptions struct {
	mode      Mode
	mws       []Middleware
	bodyLimit int64
}

// WithBodyLimit sets the largest request body the route takes, instead of
// Config.MaxBodyBytes: larger ones get 413, before the handler runs when
// their length is declared, else when the handler reads past it. A route
// for large uploads reads its body with Request.BodyReader on a pooled
// handler, where the body streams instead of being held.
func WithBodyLimit(n int64) RouteOption {
	return func(o *routeOptions) { o.bodyLimit = n }
}

// WithMode sets where the route's handler runs: Inline on the event loop
// (for handlers that never block), Pooled on the worker pool, Default (the
// default) for the server's Config.Mode.
func WithMode(m Mode) RouteOption {
	return func(o *routeOptions) { o.mode = m }
}

// WithMiddleware wraps the route's handler in mw, inside the router's and
// the groups' middleware.
func WithMiddleware(mw ...Middleware) RouteOption {
	return func(o *routeOptions) { o.mws = append(o.mws, mw...) }
}

// Group is a set of routes under a path prefix that share middleware.
// Middleware runs outer to inner in the order it was added: the router's,
// then each group's from the outermost, then the route's own. The router's
// own answers for paths under the prefix (404, 405, OPTIONS, redirects)
// run through the group's middleware too.
type Group struct {
	rt     *Router
	parent *Group
	prefix string
	mws    []Middleware
	errw   ErrorWriter // SetErrorWriter's, nil to take the parent's
	used   bool        // routes were registered in it or below: Use would come too late
}

// SetErrorWriter makes f write the answers the server gives on the
// application's behalf for the group's routes and the paths it owns (the
// router's 404 and 405, 413, 503, 500 after a panic, WriteError), through
// the group's middleware; groups below inherit it. See ErrorWriter. Like
// Use, it must come before the routes.
func (g *Group) SetErrorWriter(f ErrorWriter) {
	if g.used {
		g.rt.errs = append(g.rt.errs, fmt.Errorf("kahttp: SetErrorWriter on group %q after routes were registered in it; set it first", g.prefix))
		return
	}
	g.errw = f
}

// errorWriter is the group's ErrorWriter: its own, else the nearest parent's.
func (g *Group) errorWriter() ErrorWriter {
	for x := g; x != nil; x = x.parent {
		if x.errw != nil {
			return x.errw
		}
	}
	return nil
}

// bodyLimits are the largest and smallest WithBodyLimit of its routes (0
// without any): the server sizes its parser and its checks by them.
func (rt *Router) bodyLimits() (largest, smallest int64) { return rt.maxBodyLimit, rt.minBodyLimit }

// Group returns a group of routes under prefix (e.g. "/api") with its own middleware.
func (g *Group) Group(prefix string, mw ...Middleware) *Group {
	if prefix != "" && prefix[0] != '/' {
		g.rt.errs = append(g.rt.errs, fmt.Errorf("kahttp: group prefix %q must start with '/'", prefix))
	}
	prefix = strings.TrimSuffix(prefix, "/")
	ng := &Group{rt: g.rt, parent: g, prefix: g.prefix + prefix, mws: append([]Middleware(nil), mw...)}
	g.rt.groups = append(g.rt.groups, ng)
	return ng
}

// Use adds middleware to the group's routes. It must come before the
// routes: middleware is applied once, when a route is registered, so Use
// after a route of the group (or of a group below it) is an error.
func (g *Group) Use(mw ...Middleware) {
	if g.used {
		where := "router"
		if g.parent != nil {
			where = fmt.Sprintf("group %q", g.prefix)
		}
		g.rt.errs = append(g.rt.errs, fmt.Errorf("kahttp: Use on the %s after routes were registered in it; add middleware first", where))
		return
	}
	g.mws = append(g.mws, mw...)
}

// Handle registers h for method and path (appended to the group's prefix).
// The error is also recorded for Err.
func (g *Group) Handle(method, path string, h Handler, opts ...RouteOption) error {
	err := g.handle(method, path, h, opts)
	if err != nil {
		g.rt.errs = append(g.rt.errs, err)
	}
	return err
}

// HandleFunc is Handle for a function.
func (g *Group) HandleFunc(method, path string, f func(*Response, *Request), opts ...RouteOption) error {
	if f == nil {
		return g.Handle(method, path, nil, opts...)
	}
	return g.Handle(method, path, HandlerFunc(f), opts...)
}

// GET registers h for GET (and so HEAD) on path; errors go to Err.
func (g *Group) GET(path string, h Handler, opts ...RouteOption) {
	_ = g.Handle("GET", path, h, opts...)
}

// HEAD registers h for HEAD on path; errors go to Err.
func (g *Group) HEAD(path string, h Handler, opts ...RouteOption) {
	_ = g.Handle("HEAD", path, h, opts...)
}

// POST registers h for POST on path; errors go to Err.
func (g *Group) POST(path string, h Handler, opts ...RouteOption) {
	_ = g.Handle("POST", path, h, opts...)
}

// PUT registers h for PUT on path; errors go to Err.
func (g *Group) PUT(path string, h Handler, opts ...RouteOption) {
	_ = g.Handle("PUT", path, h, opts...)
}

// PATCH registers h for PATCH on path; errors go to Err.
func (g *Group) PATCH(path string, h Handler, opts ...RouteOption) {
	_ = g.Handle("PATCH", path, h, opts...)
}

// DELETE registers h for DELETE on path; errors go to Err.
func (g *Group) DELETE(path string, h Handler, opts ...RouteOption) {
	_ = g.Handle("DELETE", path, h, opts...)
}

// OPTIONS registers h for OPTIONS on path; errors go to Err.
func (g *Group) OPTIONS(path string, h Handler, opts ...RouteOption) {
	_ = g.Handle("OPTIONS", path, h, opts...)
}

func (g *Group) handle(method, path string, h Handler, opts []RouteOption) error {
	rt := g.rt
	if method == "" || !validFieldName(method) {
		return fmt.Errorf("kahttp: route %q %q: invalid method", method, path)
	}
	pattern := g.prefix + path
	switch {
	case path == "" && g.prefix == "":
		return fmt.Errorf("kahttp: route %s %q: empty path", method, path)
	case path != "" && path[0] != '/':
		return fmt.Errorf("kahttp: route %s %q: path must start with '/'", method, path)
	case h == nil:
		return fmt.Errorf("kahttp: route %s %s: nil handler", method, pattern)
	}
	var o routeOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.mode > Inline {
		return fmt.Errorf("kahttp: route %s %s: unknown mode %d", method, pattern, o.mode)
	}
	if o.bodyLimit < 0 {
		return fmt.Errorf("kahttp: route %s %s: negative body limit", method, pattern)
	}
	t := rt.tree(method)
	if t == nil {
		if len(stdMethods)+len(rt.custom) >= maxMethods {
			return fmt.Errorf("kahttp: route %s %s: too many distinct methods (at most %d)", method, pattern, maxMethods)
		}
		t = new(tree.Tree[*route])
		if i := stdIndex(method); i >= 0 {
			rt.trees[i] = t
		} else {
			rt.custom = append(rt.custom, methodTree{method: strings.Clone(method), t: t})
		}
	}
	// Wrap once, now: the route's own middleware innermost, then each
	// group's from the nearest out to the router's.
	for i := len(o.mws) - 1; i >= 0; i-- {
		h = o.mws[i](h)
	}
	for x := g; x != nil; x = x.parent {
		for i := len(x.mws) - 1; i >= 0; i-- {
			h = x.mws[i](h)
		}
	}
	if err := t.Add(pattern, &route{h: h, mode: o.mode, pattern: pattern, bodyLimit: o.bodyLimit, errw: g.errorWriter()}); err != nil {
		return fmt.Errorf("kahttp: route %s %s: %w", method, pattern, err)
	}
	rt.maxParams = max(rt.maxParams, t.MaxParams())
	rt.maxBodyLimit = max(rt.maxBodyLimit, o.bodyLimit)
	if o.bodyLimit > 0 && (rt.minBodyLimit == 0 || o.bodyLimit < rt.minBodyLimit) {
		rt.minBodyLimit = o.bodyLimit
	}
	for x := g; x != nil; x = x.parent {
		x.used = true
	}
	return nil
}

// Group returns a group of routes under prefix (e.g. "/api") with its own middleware.
func (rt *Router) Group(prefix string, mw ...Middleware) *Group { return rt.root.Group(prefix, mw...) }

// Use adds middleware to every route, and to the router's own answers
// (not found, 405, OPTIONS, redirects). It must come before the routes.
func (rt *Router) Use(mw ...Middleware) { rt.root.Use(mw...) }

// SetErrorWriter sets the ErrorWriter of every route and of the router's
// own answers, unless a group sets its own. It must come before the routes.
func (rt *Router) SetErrorWriter(f ErrorWriter) { rt.root.SetErrorWriter(f) }

// Handle registers h for method and path; the error is also recorded for Err.
func (rt *Router) Handle(method, path string, h Handler, opts ...RouteOption) error {
	return rt.root.Handle(method, path, h, opts...)
}

// HandleFunc is Handle for a function.
func (rt *Router) HandleFunc(method, path string, f func(*Response, *Request), opts ...RouteOption) error {
	return rt.root.HandleFunc(method, path, f, opts...)
}

// GET registers h for GET (and so HEAD) on path; errors go to Err.
func (rt *Router) GET(path string, h Handler, opts ...RouteOption) { rt.root.GET(path, h, opts...) }

// HEAD registers h for HEAD on path; errors go to Err.
func (rt *Router) HEAD(path string, h Handler, opts ...RouteOption) { rt.root.HEAD(path, h, opts...) }

// POST registers h for POST on path; errors go to Err.
func (rt *Router) POST(path string, h Handler, opts ...RouteOption) { rt.root.POST(path, h, opts...) }

// PUT registers h for PUT on path; errors go to Err.
func (rt *Router) PUT(path string, h Handler, opts ...RouteOption) { rt.root.PUT(path, h, opts...) }

// PATCH registers h for PATCH on path; errors go to Err.
func (rt *Router) PATCH(path string, h Handler, opts ...RouteOption) { rt.root.PATCH(path, h, opts...) }

// DELETE registers h for DELETE on path; errors go to Err.
func (rt *Router) DELETE(path string, h Handler, opts ...RouteOption) {
	rt.root.DELETE(path, h, opts...)
}

// OPTIONS registers h for OPTIONS on path; errors go to Err.
func (rt *Router) OPTIONS(path string, h Handler, opts ...RouteOption) {
	rt.root.OPTIONS(path, h, opts...)
}

// Err is every registration error, joined; nil if the routes are sound.
func (rt *Router) Err() error { return errors.Join(rt.errs...) }

func (rt *Router) tree(method string) *tree.Tree[*route] {
	if i := stdIndex(method); i >= 0 {
		return rt.trees[i]
	}
	for i := range rt.custom {
		if rt.custom[i].method == method {
			return rt.custom[i].t
		}
	}
	return nil
}

// Serve routes the request and runs its handler here, whatever the route's
// Mode (a server calls Resolve instead, and honours it).
func (rt *Router) Serve(w *Response, r *Request) {
	h, _ := rt.Resolve(r)
	h.Serve(w, r)
}

// Resolve finds the handler for r and where it runs, and sets r's
// parameters. It does not allocate. The router's own answers (not found,
// 405, OPTIONS, redirects, CONNECT's 501) run Inline unless the router has middleware or a
// custom handler for them, which run in the server's mode.
func (rt *Router) Resolve(r *Request) (Handler, Mode) {
	rt.once.Do(rt.freeze)
	r.params, r.bodyLimit = r.params[:0], 0
	method, path := r.Method(), r.path
	t := rt.tree(method)
	var ps *tree.Params
	if rt.maxParams > 0 {
		// The tree's positions go in the pooled Request's own scratch: no
		// allocation once it has grown to the router's widest route.
		if cap(r.scratch) < rt.maxParams {
			r.scratch = make(tree.Params, 0, rt.maxParams)
		}
		ps = &r.scratch
	}
	var (
		rte      *route
		found    bool
		tsr, ts2 bool
	)
	if t != nil {
		rte, found, tsr = t.Lookup(path, ps)
	}
	if !found && method == "HEAD" && rt.trees[mGET] != nil {
		rte, found, ts2 = rt.trees[mGET].Lookup(path, ps)
		tsr = tsr || ts2
	}
	if found {
		if ps != nil && len(*ps) > 0 {
			if cap(r.params) < rt.maxParams {
				r.params = make([]Param, 0, rt.maxParams)
			}
			for _, p := range *ps {
				r.params = append(r.params, Param{Key: p.Key, Value: path[p.Start:p.End]})
			}
		}
		r.bodyLimit, r.errw = rte.bodyLimit, rte.errw
		return rte.h, rte.mode
	}
	a := rt.answersFor(path)
	r.errw = a.errw
	if tsr && rt.RedirectTrailingSlash && path != "/" {
		return a.redirect.h, a.redirect.mode
	}
	if rt.allowMask(path) != 0 {
		if method == "OPTIONS" {
			return a.options.h, a.options.mode
		}
		return a.notAllow.h, a.notAllow.mode
	}
	if method == "CONNECT" {
		return a.connect.h, a.connect.mode
	}
	return a.notFound.h, a.notFound.mode
}
