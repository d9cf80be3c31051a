package middleware_test

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/kahttptest"
	"github.com/kahttp/kahttp/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A handler that honours its context past the deadline gets 503; one that
// answers in time, or answered before returning late, keeps its answer.
func TestTimeout(t *testing.T) {
	rt := kahttp.NewRouter()
	rt.Use(middleware.Timeout(50 * time.Millisecond))
	rt.GET("/slow", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		select {
		case <-r.Context().Done(): // as a database call would
		case <-time.After(5 * time.Second):
			_, _ = w.WriteString("too late")
		}
	}))
	rt.GET("/fast", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) { _, _ = w.WriteString("fast") }))
	rt.GET("/late-but-answered", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		w.WriteHeader(kahttp.StatusAccepted)
		<-r.Context().Done()
	}))
	for _, tc := range []struct {
		path   string
		status int
	}{{"/slow", 503}, {"/fast", 200}, {"/late-but-answered", 202}} {
		start := time.Now()
		resp, err := kahttptest.Do(rt, httptest.NewRequest("GET", tc.path, nil))
		require.NoError(t, err)
		assert.Equal(t, tc.status, resp.Status, tc.path)
		assert.Less(t, time.Since(start), 2*time.Second, tc.path)
	}
}

func ExampleTimeout() {
	rt := kahttp.NewRouter()
	rt.Use(middleware.Timeout(20 * time.Millisecond))
	rt.GET("/report", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		select {
		case <-r.Context().Done(): // a query that honours its context stops here
		case <-time.After(time.Second):
			_, _ = w.WriteString("report")
		}
	}))
	resp, _ := kahttptest.Do(rt, httptest.NewRequest("GET", "/report", nil))
	fmt.Println(resp.Status, resp.Text())
	// Output: 503 the request took longer than 20ms
}
