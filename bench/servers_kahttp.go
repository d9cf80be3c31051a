package main

import (
	"context"
	"strconv"
	"time"

	"github.com/kahttp/kahttp"
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

// runKahttp takes the whole Config so this file names no more of the API
// than the contract does. On stop it drains the way examples/hello does on
// SIGTERM: Shutdown with a deadline.
func runKahttp(addr string, cfg kahttp.Config, stop <-chan struct{}) error {
	srv := kahttp.NewServer(kahttp.HandlerFunc(kahttpHandler), cfg)
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
