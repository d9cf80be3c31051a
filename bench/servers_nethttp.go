package main

import (
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

func init() {
	register(serverDef{
		Name:  "nethttp",
		Desc:  "net/http: http.ServeMux + http.Server with ReadHeaderTimeout 10 s",
		Order: 30,
		Run:   runNetHTTP,
	})
}

// netHTTPHandler is written the way a user writes a net/http service:
// http.ServeMux with method patterns, w.Header().Set, w.Write.
func netHTTPHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /plaintext", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Server", "nethttp")
		h.Set("Content-Type", ctPlain)
		io.WriteString(w, helloBody)
	})
	mux.HandleFunc("GET /json", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Server", "nethttp")
		h.Set("Content-Type", ctJSON)
		io.WriteString(w, jsonBody)
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h := w.Header()
		h.Set("Server", "nethttp")
		h.Set("Content-Type", r.Header.Get("Content-Type"))
		w.Write(body)
	})
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		n := clamp(atoiDefault(r.URL.Query().Get("size"), 0), 0, maxStream)
		h := w.Header()
		h.Set("Server", "nethttp")
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
	})
	mux.HandleFunc("GET /sleep", func(w http.ResponseWriter, r *http.Request) {
		ms := clamp(atoiDefault(r.URL.Query().Get("ms"), 0), 0, maxSleepMS)
		time.Sleep(time.Duration(ms) * time.Millisecond)
		h := w.Header()
		h.Set("Server", "nethttp")
		h.Set("Content-Type", ctPlain)
		io.WriteString(w, "slept "+strconv.Itoa(ms)+" ms")
	})
	mux.HandleFunc("GET /query", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		sum := atoiDefault(q.Get("a"), 0) + atoiDefault(q.Get("b"), 0)
		h := w.Header()
		h.Set("Server", "nethttp")
		h.Set("Content-Type", ctPlain)
		io.WriteString(w, strconv.Itoa(sum))
	})
	return mux
}

// netHTTPUploads adds POST /upload in front of h: the body is hashed as it
// is read, up to uploadLimit (MaxBytesReader: 413 beyond).
func netHTTPUploads(h http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		sum := sha256.New()
		n, err := io.Copy(sum, http.MaxBytesReader(w, r.Body, uploadLimit))
		if err != nil {
			code := http.StatusBadRequest
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				code = http.StatusRequestEntityTooLarge
			}
			http.Error(w, err.Error(), code)
			return
		}
		hd := w.Header()
		hd.Set("Server", "nethttp")
		hd.Set("Content-Type", ctPlain)
		io.WriteString(w, uploadAnswer(n, sum.Sum(nil)))
	})
	return mux
}

// runNetHTTP serves with an http.Server as a production service configures
// it: a header timeout (kahttp's HeaderTimeout default, 10 s; without one,
// slowloris holds connections for ever), no other change. On stop it
// drains with Server.Shutdown, as a net/http service does on SIGTERM.
func runNetHTTP(addr string, stop <-chan struct{}) error {
	h := netHTTPHandler()
	if serveUploads {
		h = netHTTPUploads(h)
	}
	if serveWS {
		mux := http.NewServeMux()
		mux.Handle("/", h)
		mux.Handle("GET /ws", wsEchoHandler())
		h = mux
	}
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	serve := srv.ListenAndServe
	if serveTLS {
		// The same certificate and tls.Config as the kahttp server's
		// (no "h2" in NextProtos: HTTP/1.1 like kahttp).
		cfg, err := serveTLSConfig()
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		serve = func() error { return srv.Serve(tls.NewListener(ln, cfg)) }
	}
	return serveUntilStop(stop, serve, srv.Shutdown)
}
