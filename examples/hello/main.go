// Command hello is kahttp's reference app, used by the README, the
// benchmarks, kaprobe's tests and the acceptance checks, which rely on this
// contract (keep it stable):
//
//	go run ./examples/hello [-addr :8080] [-idle 75s] [-read-timeout 0] [-max-requests 0] [-inline]
//	        [-tls-cert FILE -tls-key FILE | -tls-self-signed [-tls-ca-out FILE]] [-restart [-pid-file FILE]]
//
// With -restart, SIGHUP restarts it without dropping a connection: a new
// process inherits the listening socket (cloudflare/tableflip), prints
// "listening on <addr>" as the first did, and serves; then the old one
// drains (its kept-alive connections get Connection: close on their next
// response) and exits. -pid-file names a file that holds the serving
// process's pid.
//
// With -tls-cert and -tls-key it serves HTTPS with that pair; with
// -tls-self-signed, with a certificate for 127.0.0.1 and localhost made at
// start, written to -tls-ca-out for clients to trust. It still prints
// "listening on <addr>". Over TLS each connection runs on a goroutine of
// its own (kahttp.Server.Serve).
//
// It prints one line, "listening on <addr>", to stdout once it accepts
// connections, and exits cleanly on SIGINT or SIGTERM (graceful shutdown).
//
//   - GET / → 200 text/plain: the list of the routes below
//   - GET /plaintext → 200 "Hello, World!" (text/plain; charset=utf-8)
//   - GET /json → 200 {"message":"Hello, World!"} (application/json)
//   - POST /echo → 200, the request body echoed byte for byte, with the
//     request's Content-Type when it has one
//   - GET /stream?size=N → 200, N bytes of 'x' written in 1 KiB pieces
//     without a Content-Length (the buffered writer's three framings); 400
//     when N is not a non-negative integer
//   - GET /users/:id → 200 "user <id>" (router parameters)
//   - GET /sleep?ms=N → 200 "slept N ms" after waiting N ms on the worker
//     pool, even with -inline (0 ≤ N ≤ 10000, else 400): a handler that waits
//     on a database; it never stalls other connections
//   - POST /upload → 200 "<bytes> <sha256 hex>" of the body, read as a
//     stream (route body limit 1 GiB; memory bounded whatever the size)
//   - GET /ws → WebSocket echo: every text or binary message sent back as
//     is (gorilla/websocket's Upgrader through nethttp.Wrap); on shutdown a
//     close frame with 1001 (going away)
//   - GET /metrics → the server's Stats in the Prometheus text format
//     (package metrics)
//   - GET /healthz → 200 "ok" while serving, 503 from the moment a drain
//     (shutdown or restart) begins: a load balancer stops sending here
//     before the connections close
//   - everything else → 404, "/plaintext/" included (no trailing-slash
//     redirects); a known path with another method → 405 with Allow;
//     CONNECT → 501 (the router does not tunnel)
//   - HEAD works for every GET route (same headers, no body)
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/examples/internal/restart"
	"github.com/kahttp/kahttp/metrics"
)

// tlsConfig is the certificate pair from files, or one made at start
// (its certificate written to caOut when given).
func tlsConfig(certFile, keyFile string, selfSigned bool, caOut string) (*tls.Config, error) {
	var cert tls.Certificate
	var err error
	if selfSigned {
		var certPEM []byte
		if cert, certPEM, err = kahttp.SelfSignedCert("127.0.0.1", "::1", "localhost"); err != nil {
			return nil, err
		}
		if caOut != "" {
			if err := os.WriteFile(caOut, certPEM, 0o644); err != nil {
				return nil, err
			}
		}
	} else if cert, err = tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		return nil, err
	}
	return kahttp.TLSConfig(cert), nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "hello:", err)
	os.Exit(1)
}

func main() {
	addr := flag.String("addr", ":8080", "address to listen on")
	idle := flag.Duration("idle", 0, "idle timeout of keep-alive connections (0: the default, 75s)")
	readTimeout := flag.Duration("read-timeout", 0, "bound on a whole request, body included, from its first byte (0: none; a body must still keep 500 B/s after 20 s)")
	maxReq := flag.Int("max-requests", 0, "requests per connection before it closes (0: no limit)")
	inline := flag.Bool("inline", false, "run every handler on the event loop (no worker pool)")
	certFile := flag.String("tls-cert", "", "serve HTTPS with this certificate (PEM; with -tls-key)")
	keyFile := flag.String("tls-key", "", "the certificate's private key (PEM)")
	selfSigned := flag.Bool("tls-self-signed", false, "serve HTTPS with a certificate for 127.0.0.1 and localhost made at start")
	caOut := flag.String("tls-ca-out", "", "with -tls-self-signed: write its certificate here, for clients to trust")
	restarts := flag.Bool("restart", false, "on SIGHUP, restart without dropping anything: a new process inherits the listening socket and serves, then this one drains and exits")
	pidFile := flag.String("pid-file", "", "with -restart: the pid of the process serving is written here")
	flag.Parse()

	cfg := kahttp.Config{IdleTimeout: *idle, ReadTimeout: *readTimeout, MaxRequestsPerConn: *maxReq}
	if *inline {
		cfg.Mode = kahttp.Inline
	}
	app := NewApp()
	srv := kahttp.NewServer(app, cfg)
	app.GET("/metrics", metrics.Handler(srv)) // the server's Stats, for Prometheus

	// The listening socket: this process's own, or with -restart one that
	// a restart hands over to the next process.
	sock, err := restart.New(*restarts, *pidFile)
	if err != nil {
		fail(err)
	}
	defer sock.Stop()
	ln, err := sock.Listen("tcp", *addr)
	if err != nil {
		fail(err)
	}
	served := make(chan error, 1)
	if *certFile != "" || *selfSigned {
		tc, err := tlsConfig(*certFile, *keyFile, *selfSigned, *caOut)
		if err != nil {
			fail(err)
		}
		ln = tls.NewListener(ln, tc)
		go func() { served <- srv.Serve(ln) }() // a goroutine per connection
	} else if err := srv.StartListener(ln); err != nil { // the event loops
		fail(err)
	}
	fmt.Printf("listening on %s\n", ln.Addr())

	replaced, err := sock.Ready() // the process before this one, if any, drains now
	if err != nil {
		fail(err)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-stop:
	case <-replaced:
	case err := <-served:
		fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "hello: shutdown:", err)
		os.Exit(1)
	}
	// The WebSockets were told (a close frame): give them ctx's time to end.
	closed := make(chan struct{})
	go func() { sockets.Wait(); close(closed) }()
	select {
	case <-closed:
	case <-ctx.Done():
		fmt.Fprintln(os.Stderr, "hello: shutdown: WebSockets still open")
		os.Exit(1)
	}
}
