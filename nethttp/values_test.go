package nethttp_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/kahttptest"
	"github.com/kahttp/kahttp/nethttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type tenantKey struct{}

// Values kahttp middleware sets reach a wrapped net/http handler through
// its request's context.
func TestValuesReachNetHTTPHandlers(t *testing.T) {
	rt := kahttp.NewRouter()
	rt.Use(func(next kahttp.Handler) kahttp.Handler {
		return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
			r.SetValue(tenantKey{}, "acme")
			next.Serve(w, r)
		})
	})
	rt.GET("/", nethttp.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, _ := r.Context().Value(tenantKey{}).(string)
		_, _ = w.Write([]byte("tenant " + v))
	})))
	resp, err := kahttptest.Do(rt, httptest.NewRequest("GET", "/", nil))
	require.NoError(t, err)
	assert.Equal(t, "tenant acme", resp.Text())
}
