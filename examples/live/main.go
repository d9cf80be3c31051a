// Command live is an example a user can copy: a page that shows a counter
// kept live over WebSocket and over server-sent events, served over plain
// HTTP on kahttp's event loops and over HTTPS with a certificate given or
// made at start.
//
//	go run ./examples/live [-addr :8080] [-tls-addr :8443]
//	        [-tls-cert FILE -tls-key FILE | -tls-ca-out FILE]
//
// Without -tls-cert it makes a self-signed certificate for 127.0.0.1 and
// localhost (written to -tls-ca-out, for curl --cacert or a browser). It
// prints "listening on <addr>" and "listening on https://<addr>", and
// shuts down gracefully on SIGINT or SIGTERM: the streams say goodbye.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kahttp/kahttp"
)

func main() {
	addr := flag.String("addr", ":8080", "plain HTTP address")
	tlsAddr := flag.String("tls-addr", ":8443", "HTTPS address")
	certFile := flag.String("tls-cert", "", "certificate (PEM; with -tls-key); without it one is made at start")
	keyFile := flag.String("tls-key", "", "the certificate's private key (PEM)")
	caOut := flag.String("tls-ca-out", "", "write the self-signed certificate here, for clients to trust")
	tick := flag.Duration("tick", time.Second, "how often the counter goes up by itself (0: only POST /inc)")
	flag.Parse()

	app := newApp()
	srv := kahttp.NewServer(app.router(), kahttp.Config{})
	if err := srv.Start(*addr); err != nil {
		fail(err)
	}
	fmt.Printf("listening on %s\n", srv.Addr())

	cert, err := certificate(*certFile, *keyFile, *caOut)
	if err != nil {
		fail(err)
	}
	ln, err := net.Listen("tcp", *tlsAddr)
	if err != nil {
		fail(err)
	}
	fmt.Printf("listening on https://%s\n", ln.Addr())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(tls.NewListener(ln, kahttp.TLSConfig(cert))) }()

	ctx, stopTicking := context.WithCancel(context.Background())
	if *tick > 0 {
		go app.tick(ctx, *tick)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-stop:
	case err := <-served:
		fail(err)
	}
	stopTicking()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		fail(err)
	}
	app.sockets.Wait() // told by a close frame, each ends within a second or two
}

// certificate loads the pair, or makes one for 127.0.0.1 and localhost.
func certificate(certFile, keyFile, caOut string) (tls.Certificate, error) {
	if certFile != "" {
		return tls.LoadX509KeyPair(certFile, keyFile)
	}
	cert, certPEM, err := kahttp.SelfSignedCert("127.0.0.1", "::1", "localhost")
	if err == nil && caOut != "" {
		err = os.WriteFile(caOut, certPEM, 0o644)
	}
	return cert, err
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "live:", err)
	os.Exit(1)
}
