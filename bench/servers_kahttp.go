package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/nethttp"
)

func init() {
	register(serverDef{
		Name:  "kahttp-inline",
		Desc:  "kahttp, handlers run on the event loop (kahttp.Inline)",
		Order: 10,
		Run: func(addr string, stop <-chan struct{}) error {
			return runKahttp(addr, kahttp.Config{Mode: kahttp.Inline}, stop)
		},
	})
	register(serverDef{
		Name:  "kahttp-pool",
		Desc:  "kahttp, handlers run on the worker pool (kahttp.Pooled, the default)",
		Order: 20,
		Run: func(addr string, stop <-chan struct{}) error {
			return runKahttp(addr, kahttp.Config{Mode: kahttp.Pooled}, stop)
		},
	})
}

func kahttpHandler(w *kahttp.Response, r *kahttp.Request) {
	h := w.Header()
	switch r.Path() {
	case "/plaintext":
		if r.Method() != "GET" {
			w.WriteHeader(405)
			return
		}
		h.Set("Server", "kahttp")
		h.Set("Content-Type", ctPlain)
		w.WriteString(helloBody)
	case "/json":
		if r.Method() != "GET" {
			w.WriteHeader(405)
			return
		}
		h.Set("Server", "kahttp")
		h.Set("Content-Type", ctJSON)
		w.WriteString(jsonBody)
	case "/echo":
		if r.Method() != "POST" {
			w.WriteHeader(405)
			return
		}
		h.Set("Server", "kahttp")
		h.Set("Content-Type", r.Header("Content-Type"))
		w.Write(r.Body())
	case "/stream":
		n := clamp(atoiDefault(r.Query("size"), 0), 0, maxStream)
		h.Set("Server", "kahttp")
		h.Set("Content-Type", ctPlain)
		for n > 0 {
			p := chunk1K
			if n < len(p) {
				p = p[:n]
			}
			if _, err := w.Write(p); err != nil {
				return
			}
			n -= len(p)
		}
	case "/sleep":
		ms := clamp(atoiDefault(r.Query("ms"), 0), 0, maxSleepMS)
		time.Sleep(time.Duration(ms) * time.Millisecond)
		h.Set("Server", "kahttp")
		h.Set("Content-Type", ctPlain)
		w.WriteString("slept " + strconv.Itoa(ms) + " ms")
	case "/query":
		sum := atoiDefault(r.Query("a"), 0) + atoiDefault(r.Query("b"), 0)
		h.Set("Server", "kahttp")
		h.Set("Content-Type", ctPlain)
		w.WriteString(strconv.Itoa(sum))
	default:
		w.WriteHeader(404)
	}
}

// kahttpUpload answers POST /upload, reading the body as it arrives
// (BodyReader on a pooled handler), as examples/hello does.
func kahttpUpload(w *kahttp.Response, r *kahttp.Request) {
	sum := sha256.New()
	n, err := io.Copy(sum, r.BodyReader())
	if err != nil {
		w.WriteError(err) // 400 malformed, 413 past the route's limit
		return
	}
	h := w.Header()
	h.Set("Server", "kahttp")
	h.Set("Content-Type", ctPlain)
	w.WriteString(uploadAnswer(n, sum.Sum(nil)))
}

// kahttpUploads puts a Router in front of the usual handler: POST /upload
// with its own body limit (WithBodyLimit), pooled in either server mode;
// every other request goes to kahttpHandler as before (NotFound).
func kahttpUploads() (kahttp.Handler, error) { return kahttpRouter(true, false) }

// kahttpRouter is the usual handler behind a Router with the routes the
// -serve flags ask for: POST /upload (-uploads) and GET /ws, gorilla's
// echo through nethttp.Wrap (-ws-idle).
func kahttpRouter(uploads, ws bool) (kahttp.Handler, error) {
	rt := kahttp.NewRouter()
	rt.RedirectTrailingSlash = false
	rt.NotFound = kahttp.HandlerFunc(kahttpHandler)
	if uploads {
		rt.HandleFunc("POST", "/upload", kahttpUpload, kahttp.WithBodyLimit(uploadLimit), kahttp.WithMode(kahttp.Pooled))
	}
	if ws {
		rt.GET("/ws", nethttp.Wrap(wsEchoHandler()))
	}
	return rt, rt.Err()
}

// runKahttpTLS serves srv over TLS on addr (-serve NAME -tls): Serve on
// tls.NewListener with kahttp.TLSConfig, each connection on a goroutine
// of its own; on stop it drains with Shutdown, as runKahttp does.
func runKahttpTLS(srv *kahttp.Server, addr string, stop <-chan struct{}) error {
	cfg, err := serveTLSConfig()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return serveUntilStop(stop, func() error { return srv.Serve(tls.NewListener(ln, cfg)) }, srv.Shutdown)
}

// runKahttp takes the whole Config so this file names no more of the API
// than the contract does. On stop it drains the way examples/hello does on
// SIGTERM: Shutdown with a deadline.
func runKahttp(addr string, cfg kahttp.Config, stop <-chan struct{}) error {
	var h kahttp.Handler = kahttp.HandlerFunc(kahttpHandler)
	if serveUploads || serveWS {
		var err error
		if h, err = kahttpRouter(serveUploads, serveWS); err != nil {
			return err
		}
	}
	srv := kahttp.NewServer(h, cfg)
	if serveTLS {
		return runKahttpTLS(srv, addr, stop)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe(addr) }()
	select {
	case err := <-errc:
		return err // the engine stopped by itself (or never started)
	case <-stop:
	}
	// A stop that came before the listener was up still shuts it down.
	for srv.Addr() == nil {
		select {
		case err := <-errc:
			return err
		case <-time.After(10 * time.Millisecond):
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	return srv.Shutdown(ctx)
}
