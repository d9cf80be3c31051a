package kahttp

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kahttp/kahttp/internal/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoRoute answers "<name>" plus its parameters: "user id=42".
func echoRoute(name string) Handler {
	return HandlerFunc(func(w *Response, r *Request) {
		var b strings.Builder
		b.WriteString(name)
		for _, p := range r.Params() {
			b.WriteString(" " + p.Key + "=" + p.Value)
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.WriteString(b.String())
	})
}

// roundTrip sends raw requests to h in memory and parses the responses.
func roundTrip(t *testing.T, h Handler, mode Mode, method, target string, extra ...string) (*http.Response, string) {
	t.Helper()
	m := newMemServer(h, Config{Mode: mode, Logger: discardLogger()})
	req := method + " " + target + " HTTP/1.1\r\nHost: x\r\n" + strings.Join(extra, "") + "\r\n"
	m.feed(t, []byte(req))
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(m.c.sent)), &http.Request{Method: method})
	require.NoError(t, err, "response to %s %s: %q", method, target, m.c.sent)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func testRouter(t *testing.T) *Router {
	rt := NewRouter()
	rt.GET("/", echoRoute("root"))
	rt.GET("/users", echoRoute("users"))
	rt.POST("/users", echoRoute("create"))
	rt.GET("/users/new", echoRoute("new"))
	rt.GET("/users/:id", echoRoute("user"))
	rt.PUT("/users/:id", echoRoute("put"))
	rt.DELETE("/users/:id", echoRoute("delete"))
	rt.GET("/users/:id/posts", echoRoute("posts"))
	rt.GET("/users/:id/posts/:post", echoRoute("post"))
	rt.GET("/repos/:owner/:repo/issues", echoRoute("issues"))
	rt.GET("/static/*path", echoRoute("static"))
	rt.GET("/static/special", echoRoute("special"))
	rt.GET("/a", echoRoute("a"))
	rt.GET("/b/", echoRoute("b"))
	rt.POST("/form", echoRoute("form"))
	rt.GET("/cors", echoRoute("cors"))
	rt.OPTIONS("/cors", echoRoute("cors-options"))
	rt.GET("/head", echoRoute("head-get"))
	rt.HEAD("/head", HandlerFunc(func(w *Response, r *Request) { w.Header().Set("X-Head", "own") }))
	require.NoError(t, rt.Handle("PURGE", "/cache/:key", echoRoute("purge")))
	require.NoError(t, rt.Err())
	return rt
}

func TestRouterMatching(t *testing.T) {
	rt := testRouter(t)
	tests := []struct {
		name, method, target string
		status               int
		body                 string
		allow, location      string
	}{
		{"root", "GET", "/", 200, "root", "", ""},
		{"static", "GET", "/users", 200, "users", "", ""},
		{"static beats param", "GET", "/users/new", 200, "new", "", ""},
		{"param", "GET", "/users/42", 200, "user id=42", "", ""},
		{"param on other method", "PUT", "/users/42", 200, "put id=42", "", ""},
		{"backtrack from static to param", "GET", "/users/new/posts", 200, "posts id=new", "", ""},
		{"two params", "GET", "/users/7/posts/9", 200, "post id=7 post=9", "", ""},
		{"three params", "GET", "/repos/kahttp/kahttp/issues", 200, "issues owner=kahttp repo=kahttp", "", ""},
		{"param is decoded", "GET", "/users/a%20b", 200, "user id=a b", "", ""},
		{"query is not part of the path", "GET", "/users/42?x=1&y=2", 200, "user id=42", "", ""},
		{"catch-all", "GET", "/static/css/site.css", 200, "static path=css/site.css", "", ""},
		{"catch-all may be empty", "GET", "/static/", 200, "static path=", "", ""},
		{"static beats catch-all", "GET", "/static/special", 200, "special", "", ""},
		{"catch-all below a static sibling", "GET", "/static/special/x", 200, "static path=special/x", "", ""},
		{"custom method", "PURGE", "/cache/k1", 200, "purge key=k1", "", ""},
		{"unknown path", "GET", "/nope", 404, "404 Not Found\n", "", ""},
		{"unknown below a param", "GET", "/users/1/2/3", 404, "404 Not Found\n", "", ""},
		{"decoded slash splits segments", "GET", "/users/a%2Fb", 404, "404 Not Found\n", "", ""},
		{"empty param segment", "GET", "/users//posts", 404, "404 Not Found\n", "", ""},
		{"unknown method on a known path", "POST", "/users/42", 405, "405 Method Not Allowed\n", "GET, HEAD, PUT, DELETE, OPTIONS", ""},
		{"405 lists custom methods", "GET", "/cache/k", 405, "405 Method Not Allowed\n", "OPTIONS, PURGE", ""},
		{"405 on a POST-only path", "GET", "/form", 405, "405 Method Not Allowed\n", "POST, OPTIONS", ""},
		{"OPTIONS answered with Allow", "OPTIONS", "/users", 204, "", "GET, HEAD, POST, OPTIONS", ""},
		{"OPTIONS on an unknown path", "OPTIONS", "/nope", 404, "404 Not Found\n", "", ""},
		{"OPTIONS route wins", "OPTIONS", "/cors", 200, "cors-options", "", ""},
		{"OPTIONS *", "OPTIONS", "*", 204, "", "GET, HEAD, POST, PUT, DELETE, OPTIONS, PURGE", ""},
		{"redirect: drop the slash (GET)", "GET", "/a/", 301, "Moved Permanently\n", "", "/a"},
		{"redirect: add the slash (GET)", "GET", "/b", 301, "Moved Permanently\n", "", "/b/"},
		{"redirect keeps the query", "GET", "/a/?q=1", 301, "Moved Permanently\n", "", "/a?q=1"},
		{"redirect: 308 for POST", "POST", "/users/", 308, "Permanent Redirect\n", "", "/users"},
		{"redirect to a param route", "GET", "/users/42/", 301, "Moved Permanently\n", "", "/users/42"},
		{"redirect to an empty catch-all", "GET", "/static", 301, "Moved Permanently\n", "", "/static/"},
		{"redirect keeps the escaping", "GET", "/users/a%20b/", 301, "Moved Permanently\n", "", "/users/a%20b"},
		{"no redirect across methods", "PUT", "/a/", 404, "404 Not Found\n", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := roundTrip(t, rt, Inline, tt.method, tt.target)
			assert.Equal(t, tt.status, resp.StatusCode)
			assert.Equal(t, tt.body, body)
			assert.Equal(t, tt.allow, resp.Header.Get("Allow"))
			assert.Equal(t, tt.location, resp.Header.Get("Location"))
		})
	}
}

// TestRouterCONNECT: the router does not tunnel. A CONNECT that no CONNECT
// route takes is 501 Not Implemented, never a 404 (its authority-form
// target is no path), with Connection: close so that bytes the client sent
// for the tunnel are never read as a request; a path that has routes for
// other methods is still 405 with Allow; a CONNECT route is served.
func TestRouterCONNECT(t *testing.T) {
	rt := testRouter(t)
	rt.Handle("CONNECT", "/tunnel", echoRoute("tunnel"))
	require.NoError(t, rt.Err())
	tests := []struct {
		name, target string
		status       int
		body, allow  string
		close        bool
	}{
		{"authority-form", "example.com:443", 501, "501 Not Implemented\n", "", true},
		{"IP literal", "[::1]:8443", 501, "501 Not Implemented\n", "", true},
		{"origin-form, no route at all", "/nope", 501, "501 Not Implemented\n", "", true},
		{"origin-form, other methods", "/users", 405, "405 Method Not Allowed\n", "GET, HEAD, POST, OPTIONS", false},
		{"CONNECT route", "/tunnel", 200, "tunnel", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mode := range []Mode{Inline, Pooled} {
				m := newMemServer(rt, Config{Mode: mode, Logger: discardLogger()})
				m.feed(t, []byte("CONNECT "+tt.target+" HTTP/1.1\r\nHost: "+strings.Trim(tt.target, "/")+"\r\n\r\n"+
					"GET /users HTTP/1.1\r\nHost: x\r\n\r\n"))
				br := bufio.NewReader(bytes.NewReader(m.c.sent))
				resp, err := http.ReadResponse(br, &http.Request{Method: "CONNECT"})
				require.NoError(t, err, "%q", m.c.sent)
				body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
				require.NoError(t, err)
				assert.Equal(t, tt.status, resp.StatusCode, mode)
				assert.Equal(t, tt.body, string(body), mode)
				assert.Equal(t, tt.allow, resp.Header.Get("Allow"), mode)
				if tt.close {
					assert.True(t, resp.Close, "%v: Connection: close", mode)
					assert.True(t, m.c.closing, "%v: the connection closes", mode)
					assert.Zero(t, br.Buffered(), "%v: nothing after the 501 was answered", mode)
				}
			}
		})
	}
}

func TestRouterHEAD(t *testing.T) {
	rt := testRouter(t)
	for _, mode := range []Mode{Inline, Pooled} {
		resp, body := roundTrip(t, rt, mode, "HEAD", "/users/42")
		assert.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "", body)
		assert.Equal(t, "text/plain", resp.Header.Get("Content-Type"))
		assert.Equal(t, int64(len("user id=42")), resp.ContentLength, "HEAD has the GET's length")

		resp, _ = roundTrip(t, rt, mode, "HEAD", "/head")
		assert.Equal(t, "own", resp.Header.Get("X-Head"), "an explicit HEAD route wins over GET")

		resp, _ = roundTrip(t, rt, mode, "HEAD", "/form")
		assert.Equal(t, 405, resp.StatusCode)
		resp, _ = roundTrip(t, rt, mode, "HEAD", "/a/")
		assert.Equal(t, 301, resp.StatusCode)
	}
}

func TestRouterRedirectOff(t *testing.T) {
	rt := testRouter(t)
	rt.RedirectTrailingSlash = false
	resp, _ := roundTrip(t, rt, Inline, "GET", "/a/")
	assert.Equal(t, 404, resp.StatusCode)
}

func TestRouterOpenRedirect(t *testing.T) {
	rt := NewRouter()
	rt.GET("/*any", echoRoute("any"))
	rt.GET("/x/:y", echoRoute("y"))
	resp, _ := roundTrip(t, rt, Inline, "GET", "/x/evil.com/")
	assert.Equal(t, 200, resp.StatusCode) // the catch-all takes it: no redirect
	rt2 := NewRouter()
	rt2.GET("//evil.com", echoRoute("odd"))
	resp, _ = roundTrip(t, rt2, Inline, "GET", "//evil.com/")
	require.Equal(t, 301, resp.StatusCode)
	assert.Equal(t, "/evil.com", resp.Header.Get("Location"), "never a scheme-relative Location")
}

func TestRouterCustomHandlers(t *testing.T) {
	rt := testRouter(t)
	rt.NotFound = HandlerFunc(func(w *Response, r *Request) { plain(w, 404, "custom 404 "+r.Path()) })
	rt.MethodNotAllowed = HandlerFunc(func(w *Response, r *Request) {
		plain(w, 405, "custom 405, allow "+w.Header().Get("Allow"))
	})
	rt.GlobalOPTIONS = HandlerFunc(func(w *Response, r *Request) {
		w.Header().Set("Access-Control-Allow-Methods", w.Header().Get("Allow"))
		w.WriteHeader(204)
	})
	_, body := roundTrip(t, rt, Inline, "GET", "/missing")
	assert.Equal(t, "custom 404 /missing", body)
	_, body = roundTrip(t, rt, Inline, "POST", "/a")
	assert.Equal(t, "custom 405, allow GET, HEAD, OPTIONS", body)
	resp, _ := roundTrip(t, rt, Inline, "OPTIONS", "/a")
	assert.Equal(t, "GET, HEAD, OPTIONS", resp.Header.Get("Access-Control-Allow-Methods"))
}

func TestRouterRegistrationErrors(t *testing.T) {
	ok := echoRoute("ok")
	tests := []struct {
		name   string
		first  [2]string // method, pattern registered first (may be empty)
		method string
		path   string
		h      Handler
		want   string // substring of the error; "" for none
	}{
		{"param names conflict", [2]string{"GET", "/users/:id"}, "GET", "/users/:name", ok, "conflicts with parameter"},
		{"param names conflict deeper", [2]string{"GET", "/u/:id/posts"}, "GET", "/u/:uid/likes", ok, "conflicts with parameter"},
		{"catch-all names conflict", [2]string{"GET", "/s/*path"}, "GET", "/s/*file", ok, "conflicts with catch-all"},
		{"duplicate", [2]string{"GET", "/a"}, "GET", "/a", ok, "duplicate"},
		{"duplicate catch-all", [2]string{"GET", "/s/*p"}, "GET", "/s/*p", ok, "duplicate"},
		{"catch-all not last", [2]string{}, "GET", "/s/*p/x", ok, "must be the last segment"},
		{"wildcard inside a segment", [2]string{}, "GET", "/a:b", ok, "middle of segment"},
		{"empty wildcard name", [2]string{}, "GET", "/a/:", ok, "empty wildcard name"},
		{"no leading slash", [2]string{}, "GET", "users", ok, "must start with '/'"},
		{"empty path", [2]string{}, "GET", "", ok, "empty path"},
		{"nil handler", [2]string{}, "GET", "/x", nil, "nil handler"},
		{"bad method", [2]string{}, "GE T", "/x", ok, "invalid method"},
		{"empty method", [2]string{}, "", "/x", ok, "invalid method"},
		{"static and param overlap", [2]string{"GET", "/users/new"}, "GET", "/users/:id", ok, ""},
		{"param and catch-all overlap", [2]string{"GET", "/f/:id"}, "GET", "/f/*rest", ok, ""},
		{"same pattern, other method", [2]string{"GET", "/a/:id"}, "POST", "/a/:id", ok, ""},
		{"other param name, other method", [2]string{"GET", "/a/:id"}, "POST", "/a/:name", ok, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := NewRouter()
			if tt.first[0] != "" {
				require.NoError(t, rt.Handle(tt.first[0], tt.first[1], ok))
			}
			err := rt.Handle(tt.method, tt.path, tt.h)
			if tt.want == "" {
				require.NoError(t, err)
				require.NoError(t, rt.Err())
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "kahttp: route")
			assert.ErrorIs(t, rt.Err(), err, "Err records what Handle returned")
		})
	}
}

func TestRouterErrJoinsAndServerRefuses(t *testing.T) {
	rt := NewRouter()
	rt.GET("/users/:id", echoRoute("a"))
	rt.GET("/users/:name", echoRoute("b")) // recorded, not returned
	rt.POST("nope", echoRoute("c"))
	err := rt.Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), ":name")
	assert.Contains(t, err.Error(), "nope")
	srv := NewServer(rt, Config{Logger: discardLogger()})
	require.EqualError(t, srv.Start("127.0.0.1:0"), err.Error())
	assert.Nil(t, srv.Addr(), "the server did not start")
}

func TestRouterGroupsAndMiddleware(t *testing.T) {
	trace := func(name string) Middleware {
		return func(next Handler) Handler {
			return HandlerFunc(func(w *Response, r *Request) {
				w.Header().Add("X-Trace", name)
				next.Serve(w, r)
			})
		}
	}
	rt := NewRouter()
	rt.Use(trace("router1"), trace("router2"))
	rt.GET("/health", echoRoute("health"))
	api := rt.Group("/api", trace("api"))
	v1 := api.Group("/v1/")
	v1.Use(trace("v1"))
	v1.GET("/items/:id", echoRoute("item"), WithMiddleware(trace("route")))
	api.GET("", echoRoute("api-root"))
	api.GET("/", echoRoute("api-slash"))
	require.NoError(t, rt.Err())

	resp, body := roundTrip(t, rt, Inline, "GET", "/api/v1/items/3")
	assert.Equal(t, "item id=3", body)
	assert.Equal(t, []string{"router1", "router2", "api", "v1", "route"}, resp.Header.Values("X-Trace"), "outer to inner, as registered")

	resp, _ = roundTrip(t, rt, Inline, "GET", "/health")
	assert.Equal(t, []string{"router1", "router2"}, resp.Header.Values("X-Trace"))
	_, body = roundTrip(t, rt, Inline, "GET", "/api")
	assert.Equal(t, "api-root", body)
	_, body = roundTrip(t, rt, Inline, "GET", "/api/")
	assert.Equal(t, "api-slash", body)

	resp, _ = roundTrip(t, rt, Inline, "GET", "/nowhere")
	assert.Equal(t, 404, resp.StatusCode)
	assert.Equal(t, []string{"router1", "router2"}, resp.Header.Values("X-Trace"), "router middleware wraps the 404")
	resp, _ = roundTrip(t, rt, Inline, "DELETE", "/health")
	assert.Equal(t, 405, resp.StatusCode)
	assert.Equal(t, []string{"router1", "router2"}, resp.Header.Values("X-Trace"))

	// Use after routes is an error: it could not apply to them.
	v1.Use(trace("late"))
	rt.Use(trace("late"))
	other := rt.Group("/other")
	other.Use(trace("fine")) // no routes in it yet
	err := rt.Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `group "/api/v1" after routes`)
	assert.Contains(t, err.Error(), "router after routes")

	bad := NewRouter()
	bad.Group("api")
	assert.ErrorContains(t, bad.Err(), "must start with '/'")
}

func TestRouterModes(t *testing.T) {
	h := echoRoute("x")
	rt := NewRouter()
	rt.GET("/inline", h, WithMode(Inline))
	rt.GET("/pooled", h, WithMode(Pooled))
	rt.GET("/default", h)
	assert.Error(t, rt.Handle("GET", "/bad", h, WithMode(Mode(9))))

	mode := func(rt *Router, method, target string) Mode {
		r := testRequest(t, method, target)
		defer releaseRequest(r)
		_, m := rt.Resolve(r)
		return m
	}
	assert.Equal(t, Inline, mode(rt, "GET", "/inline"))
	assert.Equal(t, Pooled, mode(rt, "GET", "/pooled"))
	assert.Equal(t, Default, mode(rt, "GET", "/default"))
	assert.Equal(t, Inline, mode(rt, "HEAD", "/inline"))
	assert.Equal(t, Inline, mode(rt, "GET", "/missing"), "built-in answers run on the loop")
	assert.Equal(t, Inline, mode(rt, "POST", "/inline"))
	assert.Equal(t, Inline, mode(rt, "OPTIONS", "/inline"))
	assert.Equal(t, Inline, mode(rt, "GET", "/inline/"))

	withMW := NewRouter()
	withMW.Use(func(next Handler) Handler { return next })
	withMW.GET("/x", h)
	withMW.NotFound = h
	assert.Equal(t, Default, mode(withMW, "GET", "/missing"), "custom or wrapped answers may block")
	assert.Equal(t, Default, mode(withMW, "POST", "/x"))
}

// testRequest parses a request as the server would, without a connection.
func testRequest(t testing.TB, method, target string) *Request {
	r := acquireRequest()
	buf := []byte(method + " " + target + " HTTP/1.1\r\nHost: x\r\n\r\n")
	_, err := wire.Parse(buf, &r.w, &wire.DefaultLimits)
	require.NoError(t, err)
	r.bind(buf)
	return r
}

func TestRouterParamsAreViewsOfThePath(t *testing.T) {
	rt := testRouter(t)
	for _, target := range []string{"/users/7/posts/9", "/users/%37/posts/9"} {
		r := testRequest(t, "GET", target)
		_, _ = rt.Resolve(r)
		require.Len(t, r.Params(), 2)
		path := r.Path()
		for _, p := range r.Params() {
			// Value must lie inside Path: move re-points it by offset.
			assert.NotPanics(t, func() { _ = rebase(p.Value, path, path) })
		}
		r.move(append([]byte(nil), r.buf...)) // as a pooled batch copies it
		clear(r.arena[:0])
		assert.Equal(t, "7", r.Param("id"))
		assert.Equal(t, "9", r.Param("post"))
		releaseRequest(r)
	}
	// A miss leaves no parameters behind from the request before.
	r := testRequest(t, "GET", "/users/1")
	_, _ = rt.Resolve(r)
	require.Equal(t, "1", r.Param("id"))
	r.buf = []byte("GET /nope HTTP/1.1\r\n")
	r.path = "/nope"
	_, _ = rt.Resolve(r)
	assert.Empty(t, r.Params())
}

func TestRouterResolveDoesNotAllocate(t *testing.T) {
	rt := testRouter(t)
	for _, target := range []string{"/users", "/users/7/posts/9", "/static/css/site.css", "/users/new/posts", "/nope", "/users/"} {
		r := testRequest(t, "GET", target)
		allocs := testing.AllocsPerRun(100, func() { _, _ = rt.Resolve(r) })
		assert.Zero(t, allocs, target)
		releaseRequest(r)
	}
}

// TestRouterServer drives a router through a real server and net/http's
// client: params survive the copy of a pooled request, HEAD and 405 work.
func TestRouterServer(t *testing.T) {
	rt := NewRouter()
	rt.GET("/users/:id", echoRoute("user"))
	rt.GET("/inline/:a/:b", echoRoute("inline"), WithMode(Inline))
	rt.GET("/files/*path", echoRoute("file"), WithMode(Pooled))
	rt.POST("/users", HandlerFunc(func(w *Response, r *Request) {
		w.WriteHeader(201)
		_, _ = w.Write(r.Body())
	}))
	srv := NewServer(rt, Config{Logger: discardLogger()})
	require.NoError(t, srv.Start("127.0.0.1:0"))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	base := "http://" + srv.Addr().String()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	get := func(method, path, body string) (*http.Response, string) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		require.NoError(t, err)
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(b)
	}
	resp, body := get("GET", "/users/%C3%A9t%C3%A9", "")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "user id=été", body)
	_, body = get("GET", "/inline/x/y?q=1", "")
	assert.Equal(t, "inline a=x b=y", body)
	_, body = get("GET", "/files/a/b/c.txt", "")
	assert.Equal(t, "file path=a/b/c.txt", body)
	resp, body = get("POST", "/users", `{"name":"x"}`)
	assert.Equal(t, 201, resp.StatusCode)
	assert.Equal(t, `{"name":"x"}`, body)
	resp, body = get("HEAD", "/users/1", "")
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "", body)
	resp, _ = get("DELETE", "/users/1", "")
	assert.Equal(t, 405, resp.StatusCode)
	assert.Equal(t, "GET, HEAD, OPTIONS", resp.Header.Get("Allow"))
	resp, _ = get("GET", "/users/1/", "")
	assert.Equal(t, 301, resp.StatusCode)
	assert.Equal(t, "/users/1", resp.Header.Get("Location"))
	resp, _ = get("GET", "/nothing", "")
	assert.Equal(t, 404, resp.StatusCode)
}
