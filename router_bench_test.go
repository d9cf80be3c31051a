package kahttp

import (
	"strings"
	"testing"
)

// githubRoutes is a GitHub-API-shaped table of ~100 routes (after
// httprouter's and julienschmidt/go-http-routing-benchmark's), plus a
// catch-all for static assets.
var githubRoutes = [][2]string{
	{"GET", "/authorizations"},
	{"GET", "/authorizations/:id"},
	{"POST", "/authorizations"},
	{"DELETE", "/authorizations/:id"},
	{"GET", "/applications/:client_id/tokens/:access_token"},
	{"DELETE", "/applications/:client_id/tokens"},
	{"DELETE", "/applications/:client_id/tokens/:access_token"},
	{"GET", "/events"},
	{"GET", "/repos/:owner/:repo/events"},
	{"GET", "/networks/:owner/:repo/events"},
	{"GET", "/orgs/:org/events"},
	{"GET", "/users/:user/received_events"},
	{"GET", "/users/:user/received_events/public"},
	{"GET", "/users/:user/events"},
	{"GET", "/users/:user/events/public"},
	{"GET", "/users/:user/events/orgs/:org"},
	{"GET", "/feeds"},
	{"GET", "/notifications"},
	{"GET", "/repos/:owner/:repo/notifications"},
	{"PUT", "/notifications"},
	{"PUT", "/repos/:owner/:repo/notifications"},
	{"GET", "/notifications/threads/:id"},
	{"GET", "/notifications/threads/:id/subscription"},
	{"PUT", "/notifications/threads/:id/subscription"},
	{"DELETE", "/notifications/threads/:id/subscription"},
	{"GET", "/repos/:owner/:repo/stargazers"},
	{"GET", "/users/:user/starred"},
	{"GET", "/user/starred"},
	{"GET", "/user/starred/:owner/:repo"},
	{"PUT", "/user/starred/:owner/:repo"},
	{"DELETE", "/user/starred/:owner/:repo"},
	{"GET", "/repos/:owner/:repo/subscribers"},
	{"GET", "/users/:user/subscriptions"},
	{"GET", "/user/subscriptions"},
	{"GET", "/repos/:owner/:repo/subscription"},
	{"PUT", "/repos/:owner/:repo/subscription"},
	{"DELETE", "/repos/:owner/:repo/subscription"},
	{"GET", "/users/:user/gists"},
	{"GET", "/gists"},
	{"GET", "/gists/:id"},
	{"POST", "/gists"},
	{"PUT", "/gists/:id/star"},
	{"DELETE", "/gists/:id/star"},
	{"GET", "/gists/:id/star"},
	{"POST", "/gists/:id/forks"},
	{"DELETE", "/gists/:id"},
	{"GET", "/repos/:owner/:repo/git/blobs/:sha"},
	{"POST", "/repos/:owner/:repo/git/blobs"},
	{"GET", "/repos/:owner/:repo/git/commits/:sha"},
	{"POST", "/repos/:owner/:repo/git/commits"},
	{"GET", "/repos/:owner/:repo/git/refs"},
	{"POST", "/repos/:owner/:repo/git/refs"},
	{"GET", "/repos/:owner/:repo/git/tags/:sha"},
	{"POST", "/repos/:owner/:repo/git/tags"},
	{"GET", "/repos/:owner/:repo/git/trees/:sha"},
	{"POST", "/repos/:owner/:repo/git/trees"},
	{"GET", "/issues"},
	{"GET", "/user/issues"},
	{"GET", "/orgs/:org/issues"},
	{"GET", "/repos/:owner/:repo/issues"},
	{"GET", "/repos/:owner/:repo/issues/:number"},
	{"POST", "/repos/:owner/:repo/issues"},
	{"GET", "/repos/:owner/:repo/assignees"},
	{"GET", "/repos/:owner/:repo/assignees/:assignee"},
	{"GET", "/repos/:owner/:repo/issues/:number/comments"},
	{"POST", "/repos/:owner/:repo/issues/:number/comments"},
	{"GET", "/repos/:owner/:repo/issues/:number/events"},
	{"GET", "/repos/:owner/:repo/labels"},
	{"GET", "/repos/:owner/:repo/labels/:name"},
	{"POST", "/repos/:owner/:repo/labels"},
	{"DELETE", "/repos/:owner/:repo/labels/:name"},
	{"GET", "/repos/:owner/:repo/milestones"},
	{"GET", "/repos/:owner/:repo/milestones/:number"},
	{"POST", "/repos/:owner/:repo/milestones"},
	{"DELETE", "/repos/:owner/:repo/milestones/:number"},
	{"GET", "/emojis"},
	{"GET", "/gitignore/templates"},
	{"GET", "/gitignore/templates/:name"},
	{"POST", "/markdown"},
	{"POST", "/markdown/raw"},
	{"GET", "/meta"},
	{"GET", "/rate_limit"},
	{"GET", "/users/:user/orgs"},
	{"GET", "/user/orgs"},
	{"GET", "/orgs/:org"},
	{"GET", "/orgs/:org/members"},
	{"GET", "/orgs/:org/members/:user"},
	{"DELETE", "/orgs/:org/members/:user"},
	{"GET", "/orgs/:org/teams"},
	{"GET", "/teams/:id"},
	{"POST", "/orgs/:org/teams"},
	{"GET", "/user/repos"},
	{"GET", "/users/:user/repos"},
	{"GET", "/orgs/:org/repos"},
	{"GET", "/repositories"},
	{"POST", "/user/repos"},
	{"GET", "/repos/:owner/:repo"},
	{"DELETE", "/repos/:owner/:repo"},
	{"GET", "/repos/:owner/:repo/contributors"},
	{"GET", "/repos/:owner/:repo/languages"},
	{"GET", "/repos/:owner/:repo/tags"},
	{"GET", "/repos/:owner/:repo/branches"},
	{"GET", "/user"},
	{"GET", "/users"},
	{"GET", "/users/:user"},
	{"GET", "/static/*filepath"},
}

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
