// Command arena is kahttp's entry for HttpArena
// (https://github.com/MDA2AV/HttpArena): the HTTP/1.1 endpoints of its
// baseline, pipelined, limited-conn, json, json-comp, json-tls, upload,
// static and echo-ws profiles, written with kahttp's public API only.
//
//	go run ./examples/arena [-addr :8080] [-tls-addr :8081] [-data DIR] [-cert FILE -key FILE] [-static-cache BYTES]
//
// -data names a folder in HttpArena's data/ layout: dataset.json and
// static/ (files read from disk on every request, with their .br/.gz
// siblings). Without it, a dataset of the same shape (50 items) and a
// small static set with siblings are made in memory, so it runs from a
// clean clone. -cert and -key are the TLS pair for -tls-addr (HttpArena
// mounts certs/server.crt and certs/server.key); without them, a
// self-signed certificate for 127.0.0.1, ::1 and localhost is made at
// start. -tls-addr "" serves no TLS.
//
// It prints "listening on <addr>" for the plain listener, then
// "listening on <addr> (TLS)" for the TLS one, once both accept
// connections, and exits cleanly on SIGINT or SIGTERM (graceful shutdown;
// WebSockets get a close frame with 1001).
//
// Routes (the same on both listeners):
//
//   - GET or POST /baseline11?a=X&b=Y → 200 text/plain: X + Y, plus the
//     request body's integer when it has one (Content-Length or chunked);
//     a missing a or b counts 0; a value that is not an integer is a 400
//   - GET /pipeline → 200 text/plain "ok"
//   - GET /json/{count}?m=M → 200 application/json
//     {"items":[…],"count":N}: the dataset's first N = min(count, 50)
//     items, each with "total": price × quantity × M (M is 1 when absent),
//     encoded per request; compressed (br, zstd or gzip, by
//     Accept-Encoding's q-values; middleware.Compress) when the client
//     asks, never otherwise; 400 when count or M is not an integer
//   - POST /upload → 200 text/plain: the number of body bytes read, as
//     they arrive (streamed; bodies up to 20 MiB, 413 beyond)
//   - GET /static/{file} → the file (kahttp.FileServer: Content-Type from
//     the extension, ETag, ranges), or its precompressed .br/.gz sibling
//     with Content-Encoding when Accept-Encoding takes it; 404 for a file
//     that is not there. Read from disk on every request, or with
//     -static-cache BYTES held in memory (kahttp.WithFileCache), each file
//     read again at most once a second
//   - GET /ws → WebSocket echo: every text or binary message sent back as
//     is (gorilla/websocket's Upgrader through nethttp.Wrap); a GET that
//     is no upgrade gets 400
//   - GET / → 200 text/plain: the list of the routes
//   - everything else → 404; a known path with another method → 405
//
// validate/run.sh runs HttpArena's own scripts/validate.sh against it
// (see README.md).
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
)

func fail(err error) {
	fmt.Fprintln(os.Stderr, "arena:", err)
	os.Exit(1)
}

func main() {
	addr := flag.String("addr", ":8080", "address of the plain HTTP/1.1 listener")
	tlsAddr := flag.String("tls-addr", ":8081", `address of the HTTPS (HTTP/1.1) listener; "" for none`)
	dataDir := flag.String("data", "", "folder in HttpArena's data/ layout (dataset.json, static/); default: generated in memory")
	certFile := flag.String("cert", "", "TLS certificate (PEM; with -key); default: self-signed, made at start")
	keyFile := flag.String("key", "", "the certificate's private key (PEM)")
	staticCache := flag.Int64("static-cache", 0, "keep the static files in memory, up to this many bytes, each read again once a second (HttpArena's tuned entries may; its production entries read from disk on every request: 0, the default)")
	flag.Parse()

	var data *Data
	var err error
	if *dataDir != "" {
		data, err = LoadData(*dataDir)
	} else {
		data, err = GenerateData()
	}
	if err != nil {
		fail(err)
	}
	defer data.Close()

	o := options{Addr: *addr, TLSAddr: *tlsAddr, Data: data, StaticCache: *staticCache}
	if *tlsAddr != "" {
		var cert tls.Certificate
		switch {
		case *certFile != "" && *keyFile != "":
			cert, err = tls.LoadX509KeyPair(*certFile, *keyFile)
		case *certFile != "" || *keyFile != "":
			err = fmt.Errorf("-cert and -key go together")
		default:
			cert, _, err = kahttp.SelfSignedCert("127.0.0.1", "::1", "localhost")
		}
		if err != nil {
			fail(err)
		}
		o.Cert = &cert
	}

	ar, err := start(o)
	if err != nil {
		fail(err)
	}
	fmt.Printf("listening on %s\n", ar.Addr)
	if ar.TLSAddr != nil {
		fmt.Printf("listening on %s (TLS)\n", ar.TLSAddr)
	}
	fmt.Fprintf(os.Stderr, "arena: %d items, static files: %s\n", len(data.Items), data.Source)

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	var failed error
	select {
	case <-stop:
	case failed = <-ar.Failed:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err = ar.Stop(ctx)
	if failed != nil {
		fail(failed)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "arena: shutdown:", err)
		os.Exit(1)
	}
}
