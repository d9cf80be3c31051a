package middleware_test

import (
	"fmt"
	"net"
	"net/http/httptest"
	"testing"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/kahttptest"
	"github.com/kahttp/kahttp/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// RealIP believes the forwarding fields only from trusted proxies, and
// skips their own entries from the right.
func TestRealIP(t *testing.T) {
	h := middleware.RealIP("127.0.0.1", "10.0.0.0/8")(kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr().String())
		_, _ = w.WriteString(host)
	}))
	proxy := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}
	stranger := &net.TCPAddr{IP: net.IPv4(198, 51, 100, 9), Port: 9}
	for _, tc := range []struct {
		name   string
		peer   net.Addr
		fields map[string]string
		want   string
	}{
		{"no fields", proxy, nil, "127.0.0.1"},
		{"X-Forwarded-For through two proxies", proxy, map[string]string{"X-Forwarded-For": "203.0.113.7, 10.0.0.5"}, "203.0.113.7"},
		{"a client's own claim left of the real one", proxy, map[string]string{"X-Forwarded-For": "1.2.3.4, 203.0.113.7"}, "203.0.113.7"},
		{"Forwarded wins", proxy, map[string]string{"Forwarded": `for=192.0.2.60;proto=https, for="[2001:db8::17]:4711"`,
			"X-Forwarded-For": "203.0.113.7"}, "2001:db8::17"},
		{"from a stranger, ignored", stranger, map[string]string{"X-Forwarded-For": "203.0.113.7"}, "198.51.100.9"},
		{"junk", proxy, map[string]string{"X-Forwarded-For": "not-an-ip"}, "127.0.0.1"},
	} {
		req := httptest.NewRequest("GET", "/", nil)
		for k, v := range tc.fields {
			req.Header.Set(k, v)
		}
		resp, err := kahttptest.Do(h, req, kahttptest.WithRemoteAddr(tc.peer))
		require.NoError(t, err)
		assert.Equal(t, tc.want, resp.Text(), tc.name)
	}
}

func ExampleRealIP() {
	rt := kahttp.NewRouter()
	rt.Use(middleware.RealIP("127.0.0.1")) // the reverse proxy on this host
	rt.GET("/", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		_, _ = w.WriteString(r.RemoteAddr().String())
	}))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	resp, _ := kahttptest.Do(rt, req) // from 127.0.0.1:1234
	fmt.Println(resp.Text())
	// Output: 203.0.113.7:0
}
