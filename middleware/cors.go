package middleware

import (
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/kahttp/kahttp"
)

// CORSOptions say which cross-origin requests a browser may make (the
// Fetch standard's CORS protocol).
type CORSOptions struct {
	// AllowOrigins are the origins allowed, as browsers send them
	// ("https://ui.example": scheme, host and port, no path); "*" allows
	// any origin.
	AllowOrigins []string
	// AllowOriginFunc, when set, decides for an origin AllowOrigins does
	// not list. It must be quick and safe for concurrent use.
	AllowOriginFunc func(origin string) bool
	// AllowMethods are the methods a preflight allows (default GET, HEAD,
	// POST). A browser needs no preflight for GET, HEAD and POST with
	// simple fields.
	AllowMethods []string
	// AllowHeaders are the request header fields a preflight allows
	// (case-insensitive); nil allows those the browser asks for.
	AllowHeaders []string
	// ExposeHeaders are the response header fields the page's script may
	// read beyond the safelisted ones (Content-Type, …).
	ExposeHeaders []string
	// AllowCredentials lets the browser send cookies and HTTP
	// authentication, and the page read the answer. The allowed origin is
	// then named, never "*", as the standard requires.
	AllowCredentials bool
	// MaxAge is how long a browser may cache a preflight's answer (0: not
	// sent, the browser's default of 5 s).
	MaxAge time.Duration
}

// CORS answers preflights (OPTIONS with Access-Control-Request-Method)
// itself, with 204 and the Access-Control-Allow-* fields when the origin,
// method and fields are allowed (else it passes them on, without them, and
// the browser refuses), and marks the answers of allowed origins' other
// requests with Access-Control-Allow-Origin (and -Credentials,
// -Expose-Headers). Unless every origin is allowed without credentials,
// every answer says Vary: Origin, so a cache never serves one origin's
// answer to another. A request without Origin passes untouched but for
// that field, without allocating.
//
// Put it outermost on the group it guards (before auth: a preflight
// carries no credentials), so that the router's 404s and 405s, and the
// server's own answers (an ErrorWriter's), carry its fields too.
func CORS(o CORSOptions) kahttp.Middleware {
	c := newCORS(o)
	return func(next kahttp.Handler) kahttp.Handler {
		return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
			h := w.Header()
			if c.vary {
				h.Add("Vary", "Origin")
			}
			origin := r.Header("Origin")
			if origin == "" || !c.allowed(origin) {
				next.Serve(w, r)
				return
			}
			if r.Method() == "OPTIONS" {
				if method := r.Header("Access-Control-Request-Method"); method != "" {
					c.preflight(w, r, origin, method)
					return
				}
			}
			c.allow(h, origin)
			if c.expose != "" {
				h.Set("Access-Control-Expose-Headers", c.expose)
			}
			next.Serve(w, r)
		})
	}
}

// cors is CORSOptions made ready for requests: the fields' values joined
// once, so a request costs lookups, not allocations.
type cors struct {
	o        CORSOptions
	any      bool            // "*" is among the origins
	origins  map[string]bool // the others
	methods  string          // Access-Control-Allow-Methods
	method   map[string]bool // the same, to look up
	fields   map[string]bool // AllowHeaders, canonical; nil: any asked for
	expose   string
	maxAge   string
	vary     bool // the answer depends on Origin
	anyValue string
}

func newCORS(o CORSOptions) *cors {
	c := &cors{o: o, origins: map[string]bool{}}
	for _, origin := range o.AllowOrigins {
		if origin == "*" {
			c.any = true
		} else {
			c.origins[origin] = true
		}
	}
	methods := o.AllowMethods
	if len(methods) == 0 {
		methods = []string{"GET", "HEAD", "POST"}
	}
	c.methods = strings.Join(methods, ", ")
	c.method = map[string]bool{}
	for _, m := range methods {
		c.method[m] = true
	}
	if o.AllowHeaders != nil {
		c.fields = map[string]bool{}
		for _, f := range o.AllowHeaders {
			c.fields[textproto.CanonicalMIMEHeaderKey(f)] = true
		}
	}
	c.expose = strings.Join(o.ExposeHeaders, ", ")
	if o.MaxAge > 0 {
		c.maxAge = strconv.Itoa(int(o.MaxAge.Seconds()))
	}
	if c.any && !o.AllowCredentials {
		c.anyValue = "*"
	}
	c.vary = c.anyValue == "" // the allowed origin is named: the answer depends on it
	return c
}

func (c *cors) allowed(origin string) bool {
	return c.any || c.origins[origin] || c.o.AllowOriginFunc != nil && c.o.AllowOriginFunc(origin)
}

// allow sets the fields every allowed answer carries.
func (c *cors) allow(h *kahttp.ResponseHeader, origin string) {
	if c.anyValue != "" {
		h.Set("Access-Control-Allow-Origin", c.anyValue)
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
	}
	if c.o.AllowCredentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
}

// preflight answers an allowed origin's preflight: 204 with the fields
// when the method and header fields it asks for are allowed, else 204
// without them (the browser then refuses the request).
func (c *cors) preflight(w *kahttp.Response, r *kahttp.Request, origin, method string) {
	h := w.Header()
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	asked := r.Header("Access-Control-Request-Headers")
	if c.method[method] && c.headersAllowed(asked) {
		c.allow(h, origin)
		h.Set("Access-Control-Allow-Methods", c.methods)
		if asked != "" {
			h.Set("Access-Control-Allow-Headers", asked) // each one allowed: name them as asked
		}
		if c.maxAge != "" {
			h.Set("Access-Control-Max-Age", c.maxAge)
		}
	}
	w.WriteHeader(kahttp.StatusNoContent)
}

// headersAllowed reports whether every field of the comma-separated list
// asked for is allowed.
func (c *cors) headersAllowed(asked string) bool {
	if c.fields == nil {
		return true
	}
	for f := range strings.SplitSeq(asked, ",") {
		if f = strings.TrimSpace(f); f != "" && !c.fields[textproto.CanonicalMIMEHeaderKey(f)] {
			return false
		}
	}
	return true
}
