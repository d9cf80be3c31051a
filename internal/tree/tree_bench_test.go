package tree

import "testing"

// githubRoutes is a GitHub-API-shaped route table (GET routes of the v3 API
// in the style of the classic Go router benchmarks) plus a static-file
// catch-all.
var githubRoutes = []string{
	// OAuth authorizations
	"/authorizations",
	"/authorizations/:id",
	"/applications/:client_id/tokens/:access_token",
	// Activity
	"/events",
	"/repos/:owner/:repo/events",
	"/networks/:owner/:repo/events",
	"/orgs/:org/events",
	"/users/:user/received_events",
	"/users/:user/received_events/public",
	"/users/:user/events",
	"/users/:user/events/public",
	"/users/:user/events/orgs/:org",
	"/feeds",
	"/notifications",
	"/repos/:owner/:repo/notifications",
	"/notifications/threads/:id",
	"/notifications/threads/:id/subscription",
	"/repos/:owner/:repo/stargazers",
	"/users/:user/starred",
	"/user/starred",
	"/user/starred/:owner/:repo",
	"/repos/:owner/:repo/subscribers",
	"/users/:user/subscriptions",
	"/user/subscriptions",
	"/repos/:owner/:repo/subscription",
	"/user/subscriptions/:owner/:repo",
	// Gists
	"/users/:user/gists",
	"/gists",
	"/gists/public",
	"/gists/starred",
	"/gists/:id",
	"/gists/:id/star",
	// Git data
	"/repos/:owner/:repo/git/blobs/:sha",
	"/repos/:owner/:repo/git/commits/:sha",
	"/repos/:owner/:repo/git/refs",
	"/repos/:owner/:repo/git/tags/:sha",
	"/repos/:owner/:repo/git/trees/:sha",
	// Issues
	"/issues",
	"/user/issues",
	"/orgs/:org/issues",
	"/repos/:owner/:repo/issues",
	"/repos/:owner/:repo/issues/:number",
	"/repos/:owner/:repo/assignees",
	"/repos/:owner/:repo/assignees/:assignee",
	"/repos/:owner/:repo/issues/:number/comments",
	"/repos/:owner/:repo/issues/:number/events",
	"/repos/:owner/:repo/labels",
	"/repos/:owner/:repo/labels/:name",
	"/repos/:owner/:repo/issues/:number/labels",
	"/repos/:owner/:repo/milestones/:number/labels",
	"/repos/:owner/:repo/milestones",
	"/repos/:owner/:repo/milestones/:number",
	// Miscellaneous
	"/emojis",
	"/gitignore/templates",
	"/gitignore/templates/:name",
	"/meta",
	"/rate_limit",
	// Organizations
	"/users/:user/orgs",
	"/user/orgs",
	"/orgs/:org",
	"/orgs/:org/members",
	"/orgs/:org/members/:user",
	"/orgs/:org/public_members",
	"/orgs/:org/public_members/:user",
	"/orgs/:org/teams",
	"/teams/:id",
	"/teams/:id/members",
	"/teams/:id/members/:user",
	"/teams/:id/repos",
	"/teams/:id/repos/:owner/:repo",
	"/user/teams",
	// Pull requests
	"/repos/:owner/:repo/pulls",
	"/repos/:owner/:repo/pulls/:number",
	"/repos/:owner/:repo/pulls/:number/commits",
	"/repos/:owner/:repo/pulls/:number/files",
	"/repos/:owner/:repo/pulls/:number/merge",
	"/repos/:owner/:repo/pulls/:number/comments",
	// Repositories
	"/user/repos",
	"/users/:user/repos",
	"/orgs/:org/repos",
	"/repositories",
	"/repos/:owner/:repo",
	"/repos/:owner/:repo/contributors",
	"/repos/:owner/:repo/languages",
	"/repos/:owner/:repo/teams",
	"/repos/:owner/:repo/tags",
	"/repos/:owner/:repo/branches",
	"/repos/:owner/:repo/branches/:branch",
	"/repos/:owner/:repo/collaborators",
	"/repos/:owner/:repo/collaborators/:user",
	"/repos/:owner/:repo/comments",
	"/repos/:owner/:repo/commits/:sha/comments",
	"/repos/:owner/:repo/comments/:id",
	"/repos/:owner/:repo/commits",
	"/repos/:owner/:repo/commits/:sha",
	"/repos/:owner/:repo/readme",
	"/repos/:owner/:repo/keys",
	"/repos/:owner/:repo/keys/:id",
	"/repos/:owner/:repo/downloads",
	"/repos/:owner/:repo/downloads/:id",
	"/repos/:owner/:repo/forks",
	"/repos/:owner/:repo/hooks",
	"/repos/:owner/:repo/hooks/:id",
	"/repos/:owner/:repo/releases",
	"/repos/:owner/:repo/releases/:id",
	"/repos/:owner/:repo/releases/:id/assets",
	"/repos/:owner/:repo/stats/contributors",
	"/repos/:owner/:repo/stats/commit_activity",
	"/repos/:owner/:repo/stats/code_frequency",
	"/repos/:owner/:repo/stats/participation",
	"/repos/:owner/:repo/stats/punch_card",
	"/repos/:owner/:repo/statuses/:ref",
	// Search
	"/search/repositories",
	"/search/code",
	"/search/issues",
	"/search/users",
	"/legacy/issues/search/:owner/:repository/:state/:keyword",
	"/legacy/repos/search/:keyword",
	"/legacy/user/search/:keyword",
	"/legacy/user/email/:email",
	// Users
	"/users/:user",
	"/user",
	"/users",
	"/user/emails",
	"/users/:user/followers",
	"/user/followers",
	"/users/:user/following",
	"/user/following",
	"/user/following/:user",
	"/users/:user/following/:target_user",
	"/users/:user/keys",
	"/user/keys",
	"/user/keys/:id",
	// Static files
	"/static/*filepath",
}

func benchTree(b *testing.B) *Tree[int] {
	b.Helper()
	t := &Tree[int]{}
	for i, p := range githubRoutes {
		if err := t.Add(p, i); err != nil {
			b.Fatal(err)
		}
	}
	return t
}

func benchLookup(b *testing.B, path, want string, wantParams int) {
	t := benchTree(b)
	ps := make(Params, 0, t.MaxParams())
	v, found, _ := t.Lookup(path, &ps)
	if !found || githubRoutes[v] != want || len(ps) != wantParams {
		b.Fatalf("Lookup(%q) = %v %v %v, want %q", path, v, found, ps, want)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t.Lookup(path, &ps)
	}
}

func BenchmarkLookupStatic(b *testing.B) {
	benchLookup(b, "/user/repos", "/user/repos", 0)
}

func BenchmarkLookupStaticDeep(b *testing.B) {
	benchLookup(b, "/gitignore/templates", "/gitignore/templates", 0)
}

func BenchmarkLookupParam1(b *testing.B) {
	benchLookup(b, "/users/kahttp", "/users/:user", 1)
}

func BenchmarkLookupParam2(b *testing.B) {
	benchLookup(b, "/repos/kahttp/kahttp/stargazers", "/repos/:owner/:repo/stargazers", 2)
}

func BenchmarkLookupParam3(b *testing.B) {
	benchLookup(b, "/repos/kahttp/kahttp/issues/1234/comments", "/repos/:owner/:repo/issues/:number/comments", 3)
}

func BenchmarkLookupCatchAll(b *testing.B) {
	benchLookup(b, "/static/css/site/main.css", "/static/*filepath", 1)
}

func BenchmarkLookupMissTSR(b *testing.B) {
	t := benchTree(b)
	ps := make(Params, 0, t.MaxParams())
	if _, found, tsr := t.Lookup("/user/repos/", &ps); found || !tsr {
		b.Fatal("want a TSR miss")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t.Lookup("/user/repos/", &ps)
	}
}

// BenchmarkLookupAll looks up one instance of every route in turn.
func BenchmarkLookupAll(b *testing.B) {
	t := benchTree(b)
	paths := make([]string, len(githubRoutes))
	for i, p := range githubRoutes {
		paths[i] = instantiate(p)
		if v, found, _ := t.Lookup(paths[i], nil); !found || v != i {
			b.Fatalf("Lookup(%q) = %d %v, want %q", paths[i], v, found, p)
		}
	}
	ps := make(Params, 0, t.MaxParams())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, p := range paths {
			t.Lookup(p, &ps)
		}
	}
}

// instantiate replaces every wildcard segment of pattern by a value.
func instantiate(pattern string) string {
	out := make([]byte, 0, len(pattern))
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c != ':' && c != '*' {
			out = append(out, c)
			continue
		}
		for i+1 < len(pattern) && pattern[i+1] != '/' {
			i++
		}
		if c == ':' {
			out = append(out, "v1"...)
		} else {
			out = append(out, "a/b.css"...)
		}
	}
	return string(out)
}
