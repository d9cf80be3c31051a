package middleware_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/kahttptest"
	"github.com/kahttp/kahttp/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func corsAPI(o middleware.CORSOptions) *kahttp.Router {
	rt := kahttp.NewRouter()
	api := rt.Group("/api", middleware.CORS(o), middleware.BearerAuth("api", middleware.Tokens("t0k")))
	api.GET("/items", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		w.Header().Set("X-Total", "3")
		_, _ = w.WriteString("[]")
	}))
	api.POST("/items", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) { w.WriteHeader(201) }))
	return rt
}

func do(t *testing.T, h kahttp.Handler, method, target string, fields map[string]string) *kahttptest.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range fields {
		req.Header.Set(k, v)
	}
	resp, err := kahttptest.Do(h, req)
	require.NoError(t, err)
	return resp
}

// The CORS protocol as the Fetch standard has it: preflights answered
// (with the allowed method and fields, Max-Age), credentials with a named
// origin never "*", Vary: Origin, a disallowed origin or method getting no
// Access-Control-Allow-Origin; the 401 of the auth behind it, and the
// router's 404, carry the fields too.
func TestCORS(t *testing.T) {
	h := corsAPI(middleware.CORSOptions{
		AllowOrigins:     []string{"https://ui.example"},
		AllowMethods:     []string{"GET", "POST", "DELETE"},
		AllowHeaders:     []string{"Authorization", "Content-Type"},
		ExposeHeaders:    []string{"X-Total"},
		AllowCredentials: true,
		MaxAge:           10 * time.Minute,
	})
	ui := "https://ui.example"

	r := do(t, h, "OPTIONS", "/api/items", map[string]string{"Origin": ui,
		"Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "authorization, content-type"})
	assert.Equal(t, 204, r.Status, "a preflight carries no credentials: CORS answers it before the auth")
	assert.Equal(t, ui, r.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "true", r.Header.Get("Access-Control-Allow-Credentials"))
	assert.Equal(t, "GET, POST, DELETE", r.Header.Get("Access-Control-Allow-Methods"))
	assert.Equal(t, "authorization, content-type", r.Header.Get("Access-Control-Allow-Headers"))
	assert.Equal(t, "600", r.Header.Get("Access-Control-Max-Age"))
	assert.ElementsMatch(t, []string{"Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"}, r.Header.Values("Vary"))

	for name, fields := range map[string]map[string]string{
		"a method not allowed": {"Origin": ui, "Access-Control-Request-Method": "PUT"},
		"a field not allowed":  {"Origin": ui, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "X-Secret"},
	} {
		r = do(t, h, "OPTIONS", "/api/items", fields)
		assert.Empty(t, r.Header.Get("Access-Control-Allow-Origin"), name)
	}

	r = do(t, h, "GET", "/api/items", map[string]string{"Origin": ui, "Authorization": "Bearer t0k"})
	assert.Equal(t, 200, r.Status)
	assert.Equal(t, ui, r.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "X-Total", r.Header.Get("Access-Control-Expose-Headers"))
	assert.Equal(t, []string{"Origin"}, r.Header.Values("Vary"))

	r = do(t, h, "GET", "/api/items", map[string]string{"Origin": ui})
	assert.Equal(t, 401, r.Status, "no token")
	assert.Equal(t, ui, r.Header.Get("Access-Control-Allow-Origin"), "the page can read why")
	assert.Equal(t, `Bearer realm="api"`, r.Header.Get("WWW-Authenticate"))

	r = do(t, h, "GET", "/api/items", map[string]string{"Origin": "https://evil.example", "Authorization": "Bearer t0k"})
	assert.Empty(t, r.Header.Get("Access-Control-Allow-Origin"), "an origin not allowed")
	assert.Equal(t, []string{"Origin"}, r.Header.Values("Vary"), "its answer still varies by Origin")

	r = do(t, h, "GET", "/api/items", map[string]string{"Authorization": "Bearer t0k"})
	assert.Equal(t, 200, r.Status, "not cross-origin: untouched")
	assert.Empty(t, r.Header.Get("Access-Control-Allow-Origin"))
}

// Any origin without credentials: "*", and no Vary.
func TestCORSAnyOrigin(t *testing.T) {
	h := corsAPI(middleware.CORSOptions{AllowOrigins: []string{"*"}})
	r := do(t, h, "GET", "/api/items", map[string]string{"Origin": "https://a.example", "Authorization": "Bearer t0k"})
	assert.Equal(t, "*", r.Header.Get("Access-Control-Allow-Origin"))
	assert.Empty(t, r.Header.Values("Vary"))
	r = do(t, h, "OPTIONS", "/api/items", map[string]string{"Origin": "https://a.example",
		"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "X-Anything"})
	assert.Equal(t, "X-Anything", r.Header.Get("Access-Control-Allow-Headers"), "nil AllowHeaders: what is asked")
}

// A request that is not cross-origin and has its token passes CORS and
// BearerAuth without an allocation.
// Counted without the race detector (.ci/run runs it so); under it the
// server's pools drop items at random and the counts wobble.
func TestMiddlewarePassThroughAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are exact only without -race")
	}
	h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {})
	chain := middleware.CORS(middleware.CORSOptions{AllowOrigins: []string{"https://ui.example"}})(
		middleware.BearerAuth("api", middleware.Tokens("t0k"))(h))
	req := []byte("GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0k\r\n\r\n")
	served := func(h kahttp.Handler) float64 {
		mc := kahttp.NewServer(h, kahttp.Config{Mode: kahttp.Inline}).ServeInMemory(nil)
		defer mc.Close()
		return testing.AllocsPerRun(200, func() {
			_, _ = mc.Write(req)
			_ = mc.TakeOutput()
		})
	}
	base, allocs := served(h), served(chain)
	t.Logf("%.1f allocations per request, %.1f without the middleware", allocs, base)
	assert.Equal(t, base, allocs, "CORS and BearerAuth add none")
}

func ExampleCORS() {
	rt := kahttp.NewRouter()
	api := rt.Group("/api", middleware.CORS(middleware.CORSOptions{
		AllowOrigins:     []string{"https://ui.example"},
		AllowMethods:     []string{"GET", "POST", "PUT", "DELETE"},
		AllowHeaders:     []string{"Authorization", "Content-Type"},
		AllowCredentials: true,
		MaxAge:           time.Hour,
	}))
	api.GET("/items", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) { _, _ = w.WriteString("[]") }))

	req := httptest.NewRequest("OPTIONS", "/api/items", nil)
	req.Header.Set("Origin", "https://ui.example")
	req.Header.Set("Access-Control-Request-Method", "PUT")
	resp, _ := kahttptest.Do(rt, req)
	fmt.Println(resp.Status, resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Allow-Methods"))
	// Output: 204 https://ui.example GET, POST, PUT, DELETE
}

// Go's client over a socket: a preflight as a browser sends it.
func TestCORSOverSocket(t *testing.T) {
	srv := kahttp.NewServer(corsAPI(middleware.CORSOptions{AllowOrigins: []string{"https://ui.example"}}), kahttp.Config{})
	require.NoError(t, srv.Start("127.0.0.1:0"))
	defer func() { _ = srv.Shutdown(t.Context()) }()
	req, _ := http.NewRequest("OPTIONS", "http://"+srv.Addr().String()+"/api/items", nil)
	req.Header.Set("Origin", "https://ui.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, 204, resp.StatusCode)
	assert.Equal(t, "https://ui.example", resp.Header.Get("Access-Control-Allow-Origin"))
}
