// Command appliance is a small device-admin service a user would copy: a
// JSON API for devices behind a password (a Bearer token, or the session
// cookie of the login form), CORS for one origin, request ids in the
// access log, firmware uploads streamed to disk with their SHA-256, a
// static admin UI with caching headers and compression, live status over
// server-sent events and WebSocket, HTTPS with a certificate made at start,
// and a graceful shutdown.
//
//	go run ./examples/appliance [-addr :8443] [-password admin] [-firmware DIR]
//	        [-cors-origin URL] [-tls-cert FILE -tls-key FILE | -tls-ca-out FILE] [-plain]
//	        [-restart [-pid-file FILE]]
//
// It prints "listening on https://<addr>" (or http:// with -plain). With
// -restart, SIGHUP (after a firmware update, say) starts the new binary on
// the same socket and this process drains: the admin's page is never
// refused.
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
	"github.com/kahttp/kahttp/middleware"
)

func main() {
	addr := flag.String("addr", ":8443", "address to listen on")
	password := flag.String("password", "admin", "the admin password (login form, or Authorization: Bearer)")
	firmware := flag.String("firmware", os.TempDir(), "where firmware uploads are stored")
	corsOrigin := flag.String("cors-origin", "", "an origin allowed to call /api from a browser")
	certFile := flag.String("tls-cert", "", "certificate (PEM; with -tls-key); without it one is made at start")
	keyFile := flag.String("tls-key", "", "the certificate's private key (PEM)")
	caOut := flag.String("tls-ca-out", "", "write the self-signed certificate here, for clients to trust")
	plain := flag.Bool("plain", false, "serve plain HTTP on the event loops instead of HTTPS")
	restarts := flag.Bool("restart", false, "on SIGHUP, restart without dropping anything (a firmware update): a new process inherits the listening socket and serves, then this one drains and exits")
	pidFile := flag.String("pid-file", "", "with -restart: the pid of the process serving is written here")
	flag.Parse()

	a := newApp(*password, *firmware, *corsOrigin)
	a.secure = !*plain // the session cookie goes over HTTPS only
	srv := kahttp.NewServer(a.router(), kahttp.Config{
		ReadTimeout: 10 * time.Minute,         // a whole upload, however slow the link
		OnRefusal:   middleware.LogRefusals(), // the server's own 400/408/413/431… in the log too
	})
	sock, err := restart.New(*restarts, *pidFile) // a socket a restart hands over, with -restart
	if err != nil {
		fail(err)
	}
	defer sock.Stop()
	ln, err := sock.Listen("tcp", *addr)
	if err != nil {
		fail(err)
	}
	served := make(chan error, 1)
	if *plain {
		if err := srv.StartListener(ln); err != nil { // the event loops
			fail(err)
		}
		fmt.Printf("listening on http://%s\n", ln.Addr())
	} else {
		cert, err := certificate(*certFile, *keyFile, *caOut)
		if err != nil {
			fail(err)
		}
		fmt.Printf("listening on https://%s\n", ln.Addr())
		go func() { served <- srv.Serve(tls.NewListener(ln, kahttp.TLSConfig(cert))) }()
	}
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
		fail(err)
	}
}

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
	fmt.Fprintln(os.Stderr, "appliance:", err)
	os.Exit(1)
}
