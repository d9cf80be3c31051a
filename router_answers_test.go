package kahttp_test

import (
	"net/http/httptest"
	"testing"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/kahttptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mark is middleware that appends name to X-Chain, then goes on.
func mark(name string) kahttp.Middleware {
	return func(next kahttp.Handler) kahttp.Handler {
		return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
			w.Header().Add("X-Chain", name)
			next.Serve(w, r)
		})
	}
}

// auth refuses requests without a token: it hides what is behind it.
func auth(next kahttp.Handler) kahttp.Handler {
	return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		if r.Header("Authorization") != "token" {
			w.Error(kahttp.StatusUnauthorized, "unauthorized")
			return
		}
		next.Serve(w, r)
	})
}

// cors answers preflights itself and marks the rest.
func cors(next kahttp.Handler) kahttp.Handler {
	return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if r.Method() == "OPTIONS" && r.Header("Access-Control-Request-Method") != "" {
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
			w.WriteHeader(kahttp.StatusNoContent)
			return
		}
		next.Serve(w, r)
	})
}

func answersRouter(custom bool) *kahttp.Router {
	rt := kahttp.NewRouter()
	rt.Use(mark("root"))
	if custom {
		rt.NotFound = kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
			w.Error(kahttp.StatusNotFound, "custom not found")
		})
		rt.MethodNotAllowed = kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
			w.Error(kahttp.StatusMethodNotAllowed, "custom 405")
		})
	}
	ok := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) { _, _ = w.WriteString("ok") })
	rt.GET("/public", ok)
	admin := rt.Group("/admin", auth)
	admin.GET("/users", ok)
	api := rt.Group("/api", cors, mark("api"))
	api.GET("/items", ok)
	v1 := api.Group("/v1", mark("v1"))
	v1.POST("/orders", ok)
	rt.Group("/plain").GET("/x", ok) // no middleware of its own
	return rt
}

func TestRouterAnswersRunGroupMiddleware(t *testing.T) {
	cases := []struct {
		name   string
		method string
		target string
		header [2]string
		status int
		chain  []string
		allow  string
		extra  [2]string // a field the response must have
		custom bool
		text   string
	}{
		{"404 outside groups: the router's middleware", "GET", "/nope", [2]string{}, 404, []string{"root"}, "", [2]string{}, false, "404 Not Found\n"},
		{"auth hides a group's 404", "GET", "/admin/nope", [2]string{}, 401, []string{"root"}, "", [2]string{}, false, "unauthorized\n"},
		{"auth hides a group's 405", "POST", "/admin/users", [2]string{}, 401, []string{"root"}, "", [2]string{}, false, "unauthorized\n"},
		{"auth hides a group's redirect", "GET", "/admin/users/", [2]string{}, 401, []string{"root"}, "", [2]string{}, false, "unauthorized\n"},
		{"authorized: the 404 behind", "GET", "/admin/nope", [2]string{"Authorization", "token"}, 404, []string{"root"}, "", [2]string{}, false, "404 Not Found\n"},
		{"authorized: the 405 behind", "POST", "/admin/users", [2]string{"Authorization", "token"}, 405, []string{"root"}, "GET, HEAD, OPTIONS", [2]string{}, false, "405 Method Not Allowed\n"},
		{"authorized: the redirect behind", "GET", "/admin/users/", [2]string{"Authorization", "token"}, 301, []string{"root"}, "", [2]string{"Location", "/admin/users"}, false, "Moved Permanently\n"},
		{"the prefix itself is the group's", "GET", "/admin", [2]string{}, 401, []string{"root"}, "", [2]string{}, false, "unauthorized\n"},
		{"a longer segment is not", "GET", "/administrator", [2]string{}, 404, []string{"root"}, "", [2]string{}, false, "404 Not Found\n"},
		{"cors answers a preflight", "OPTIONS", "/api/items", [2]string{"Access-Control-Request-Method", "GET"}, 204, []string{"root"}, "", [2]string{"Access-Control-Allow-Methods", "GET, POST"}, false, ""},
		{"plain OPTIONS: the router's, through cors", "OPTIONS", "/api/items", [2]string{}, 204, []string{"root", "api"}, "GET, HEAD, OPTIONS", [2]string{"Access-Control-Allow-Origin", "*"}, false, ""},
		{"cors on a group's 404", "GET", "/api/none", [2]string{}, 404, []string{"root", "api"}, "", [2]string{"Access-Control-Allow-Origin", "*"}, false, "404 Not Found\n"},
		{"nested group: the whole chain, outer first", "GET", "/api/v1/orders", [2]string{}, 405, []string{"root", "api", "v1"}, "POST, OPTIONS", [2]string{}, false, "405 Method Not Allowed\n"},
		{"a group without middleware: the router's", "GET", "/plain/y", [2]string{}, 404, []string{"root"}, "", [2]string{}, false, "404 Not Found\n"},
		{"custom NotFound, in the group's chain", "GET", "/api/none", [2]string{}, 404, []string{"root", "api"}, "", [2]string{}, true, "custom not found\n"},
		{"custom MethodNotAllowed, with Allow", "GET", "/api/v1/orders", [2]string{}, 405, []string{"root", "api", "v1"}, "POST, OPTIONS", [2]string{}, true, "custom 405\n"},
		{"custom NotFound hidden by auth", "GET", "/admin/none", [2]string{}, 401, []string{"root"}, "", [2]string{}, true, "unauthorized\n"},
		{"routes are as before", "GET", "/api/items", [2]string{}, 200, []string{"root", "api"}, "", [2]string{}, false, "ok"},
	}
	for _, tc := range cases {
		for _, mode := range []kahttp.Mode{kahttp.Pooled, kahttp.Inline} {
			t.Run(tc.name+"/"+mode.String(), func(t *testing.T) {
				req := httptest.NewRequest(tc.method, tc.target, nil)
				if tc.header[0] != "" {
					req.Header.Set(tc.header[0], tc.header[1])
				}
				resp, err := kahttptest.Do(answersRouter(tc.custom), req, kahttptest.WithConfig(kahttp.Config{Mode: mode}))
				require.NoError(t, err)
				assert.Equal(t, tc.status, resp.Status)
				assert.Equal(t, tc.chain, resp.Header.Values("X-Chain"))
				assert.Equal(t, tc.allow, resp.Header.Get("Allow"))
				if tc.extra[0] != "" {
					assert.Equal(t, tc.extra[1], resp.Header.Get(tc.extra[0]))
				}
				if tc.status != 204 {
					assert.Contains(t, resp.Text(), tc.text)
				}
			})
		}
	}
}
