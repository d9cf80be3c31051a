package main

import (
	"strconv"
	"time"

	"github.com/kahttp/kahttp"
)

func init() {
	register(serverDef{
		Name:  "kahttp-inline",
		Desc:  "kahttp, handlers run on the event loop (kahttp.Inline)",
		Order: 10,
		Run:   func(addr string) error { return runKahttp(addr, kahttp.Config{Mode: kahttp.Inline}) },
	})
	register(serverDef{
		Name:  "kahttp-pool",
		Desc:  "kahttp, handlers run on the worker pool (kahttp.Pooled, the default)",
		Order: 20,
		Run:   func(addr string) error { return runKahttp(addr, kahttp.Config{Mode: kahttp.Pooled}) },
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
// than the contract does.
func runKahttp(addr string, cfg kahttp.Config) error {
	srv := kahttp.NewServer(kahttp.HandlerFunc(kahttpHandler), cfg)
	return srv.ListenAndServe(addr)
}
