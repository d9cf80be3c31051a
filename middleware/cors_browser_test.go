package middleware_test

import (
	"context"
	"os/exec"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromium finds a headless Chromium (.ci/run installs Debian's).
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium (apt-get install chromium; .ci/run does)")
	return ""
}

// startAPI serves /api/items behind CORS and BearerAuth.
func startAPI(t *testing.T, o middleware.CORSOptions) string {
	rt := kahttp.NewRouter()
	api := rt.Group("/api", middleware.CORS(o), middleware.BearerAuth("api", middleware.Tokens("t0k")))
	items := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		w.Header().Set("X-Total", "3")
		_, _ = w.WriteString("[]")
	})
	api.GET("/items", items)
	api.PUT("/items", items)
	srv := kahttp.NewServer(rt, kahttp.Config{})
	require.NoError(t, srv.Start("127.0.0.1:0"))
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return "http://" + srv.Addr().String()
}

// A real browser runs the CORS protocol against the middleware: a page on
// one origin calls an API on another (another port) with fetch. A PUT with
// Authorization and credentials passes its preflight and the page reads
// the exposed field; a field the API does not allow, and an API that does
// not allow the page's origin, are blocked by the browser.
func TestCORSInChromium(t *testing.T) {
	browser := chromium(t)
	var html atomic.Pointer[string] // the page, made once the APIs' addresses are known
	page := kahttp.NewRouter()
	page.GET("/", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.WriteString(*html.Load())
	}))
	pageSrv := kahttp.NewServer(page, kahttp.Config{})
	require.NoError(t, pageSrv.Start("127.0.0.1:0"))
	t.Cleanup(func() { _ = pageSrv.Shutdown(context.Background()) })
	origin := "http://" + pageSrv.Addr().String()

	api := startAPI(t, middleware.CORSOptions{
		AllowOrigins:     []string{origin},
		AllowMethods:     []string{"GET", "PUT"},
		AllowHeaders:     []string{"Authorization", "Content-Type"},
		ExposeHeaders:    []string{"X-Total"},
		AllowCredentials: true,
	})
	other := startAPI(t, middleware.CORSOptions{AllowOrigins: []string{"https://elsewhere.example"}})
	script := `
const API = "` + api + `", OTHER = "` + other + `";
(async () => {
  const out = [];
  async function probe(name, url, init) {
    try { const r = await fetch(url, init); out.push(name + ":" + r.status + ":" + r.headers.get("X-Total")); }
    catch (e) { out.push(name + ":blocked"); }
  }
  await probe("put", API + "/api/items", {method: "PUT", credentials: "include",
    headers: {"Authorization": "Bearer t0k", "Content-Type": "application/json"}, body: "{}"});
  await probe("field", API + "/api/items", {headers: {"Authorization": "Bearer t0k", "X-Secret": "1"}});
  await probe("other", OTHER + "/api/items", {headers: {"Authorization": "Bearer t0k"}});
  document.body.textContent = "RESULT " + out.join(" ") + " END";
})();`
	doc := "<!doctype html><title>cors</title><body>waiting<script>" + script + "</script>"
	html.Store(&doc)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=20000", "--dump-dom", origin+"/").Output()
	require.NoError(t, err, "%s", out)
	m := regexp.MustCompile(`RESULT (.*) END`).FindStringSubmatch(string(out))
	require.NotNil(t, m, "the page's script did not finish: %s", out)
	results := strings.Fields(m[1])
	assert.Equal(t, []string{"put:200:3", "field:blocked", "other:blocked"}, results)
}
