package kahttp_test

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/kahttp/kahttp"
)

// BenchmarkTLSKeepAlive: GET over one kept-alive TLS connection, kahttp's
// Serve against net/http's server, the same Go client for both (its cost is
// in both figures): what native TLS costs next to net/http's.
func BenchmarkTLSKeepAlive(b *testing.B) {
	cert, pool, _, _ := testCert(b)
	hello := []byte("Hello, World!")
	run := func(b *testing.B, serve func(ln net.Listener) func()) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		stop := serve(tls.NewListener(ln, kahttp.TLSConfig(cert)))
		defer stop()
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 1}}
		defer client.CloseIdleConnections()
		url := "https://" + ln.Addr().String() + "/plaintext"
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			resp, err := client.Get(url)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
	}
	b.Run("kahttp", func(b *testing.B) {
		run(b, func(ln net.Listener) func() {
			srv := kahttp.NewServer(kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
				_, _ = w.Write(hello)
			}), kahttp.Config{})
			go func() { _ = srv.Serve(ln) }()
			return func() { _ = srv.Shutdown(b.Context()) }
		})
	})
	b.Run("nethttp", func(b *testing.B) {
		run(b, func(ln net.Listener) func() {
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write(hello)
			})}
			go func() { _ = srv.Serve(ln) }()
			return func() { _ = srv.Close() }
		})
	})
}
