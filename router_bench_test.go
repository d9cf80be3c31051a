package kahttp

import (
	"strings"
	"testing"

	"github.com/kahttp/kahttp/internal/benchroutes"
)

// githubRoutes is the shared GitHub-API-shaped table.
var githubRoutes = benchroutes.GitHub

func githubRouter(tb testing.TB, h Handler) *Router {
	rt := NewRouter()
	for _, r := range githubRoutes {
		rt.Handle(r[0], r[1], h, WithMode(Inline))
	}
	if err := rt.Err(); err != nil {
		tb.Fatal(err)
	}
	return rt
}

var nopHandler = HandlerFunc(func(*Response, *Request) {})

func benchResolve(b *testing.B, rt *Router, method, target string, wantParams int) {
	r := testRequest(b, method, target)
	defer releaseRequest(r)
	if _, m := rt.Resolve(r); m != Inline || len(r.Params()) != wantParams {
		b.Fatalf("%s %s: mode %v, params %v", method, target, m, r.Params())
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		rt.Resolve(r)
	}
}

// BenchmarkRouterResolve is the lookup the server does on the event loop
// for each request, in a table of ~100 GitHub-shaped routes.
func BenchmarkRouterResolve(b *testing.B) {
	rt := githubRouter(b, nopHandler)
	b.Logf("%d routes", len(githubRoutes))
	b.Run("static", func(b *testing.B) { benchResolve(b, rt, "GET", "/user/repos", 0) })
	b.Run("param2", func(b *testing.B) { benchResolve(b, rt, "GET", "/repos/julienschmidt/httprouter/stargazers", 2) })
	b.Run("param3", func(b *testing.B) { benchResolve(b, rt, "GET", "/repos/kahttp/kahttp/issues/42/comments", 3) })
	b.Run("catchall", func(b *testing.B) { benchResolve(b, rt, "GET", "/static/css/bootstrap/site.min.css", 1) })
	b.Run("head-via-get", func(b *testing.B) { benchResolve(b, rt, "HEAD", "/repos/julienschmidt/httprouter/stargazers", 2) })
}

// BenchmarkRouterServe is the whole hot path in memory: parse → route →
// inline handler → response, through the router.
func BenchmarkRouterServe(b *testing.B) {
	rt := githubRouter(b, HandlerFunc(func(w *Response, r *Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.WriteString(r.Param("repo"))
	}))
	req := strings.Replace(benchGET, "/plaintext", "/repos/julienschmidt/httprouter/stargazers", 1)
	b.Run("param2-inline", func(b *testing.B) { benchSession(b, rt, Inline, req) })
}
