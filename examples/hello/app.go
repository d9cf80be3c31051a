package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/examples/internal/wsclose"
	"github.com/kahttp/kahttp/nethttp"
)

const routes = `kahttp hello: routes
GET  /plaintext       Hello, World!
GET  /json            {"message":"Hello, World!"}
POST /echo            the request body, echoed
GET  /stream?size=N   N bytes of 'x' in 1 KiB writes, no Content-Length
GET  /users/:id       user <id>
GET  /sleep?ms=N      waits N ms (N <= 10000) on the worker pool
POST /upload          <bytes> <sha256> of the body, read as a stream (up to 1 GiB)
GET  /ws              WebSocket echo: every text or binary message sent back as is
GET  /healthz         200 while serving, 503 once a drain begins
GET  /metrics         the server's Stats, Prometheus text format
`

const maxSleep = 10000

var chunk = func() []byte {
	b := make([]byte, 1024)
	for i := range b {
		b[i] = 'x'
	}
	return b
}()

// NewApp returns the reference app's handler: a router with the routes
// above. Everything else is 404; a known path with another method is 405
// with Allow; HEAD works for every GET route.
func NewApp() *kahttp.Router {
	rt := kahttp.NewRouter()
	// The contract (the package doc): every unknown path is 404, "/plaintext/" included.
	rt.RedirectTrailingSlash = false
	rt.HandleFunc("GET", "/", func(w *kahttp.Response, r *kahttp.Request) { text(w, 200, routes) })
	rt.HandleFunc("GET", "/plaintext", func(w *kahttp.Response, r *kahttp.Request) { text(w, 200, "Hello, World!") })
	rt.HandleFunc("GET", "/json", func(w *kahttp.Response, r *kahttp.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.WriteString(`{"message":"Hello, World!"}`)
	})
	rt.HandleFunc("POST", "/echo", echo)
	rt.HandleFunc("GET", "/stream", stream)
	rt.HandleFunc("GET", "/users/:id", func(w *kahttp.Response, r *kahttp.Request) {
		text(w, 200, "user "+r.Param("id"))
	})
	// A blocking handler: always on the worker pool, even with -inline.
	rt.HandleFunc("GET", "/sleep", sleep, kahttp.WithMode(kahttp.Pooled))
	// Large bodies stream to a pooled handler: memory stays small whatever the size.
	rt.HandleFunc("POST", "/upload", upload, kahttp.WithMode(kahttp.Pooled), kahttp.WithBodyLimit(maxUpload))
	// gorilla/websocket's Upgrader, unchanged, through the net/http adapter.
	rt.GET("/ws", nethttp.Wrap(http.HandlerFunc(wsEcho)), kahttp.WithMode(kahttp.Pooled))
	rt.HandleFunc("GET", "/healthz", healthz)
	return rt // a registration error would make Start refuse to run (Router.Err)
}

func echo(w *kahttp.Response, r *kahttp.Request) {
	if ct := r.Header("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	_, _ = w.Write(r.Body())
}

// stream writes size bytes in 1 KiB pieces without a Content-Length: the
// buffered writer picks Content-Length, chunked or close-delimited framing.
func stream(w *kahttp.Response, r *kahttp.Request) {
	size, err := strconv.Atoi(r.Query("size"))
	if err != nil || size < 0 {
		text(w, 400, "size must be a non-negative integer\n")
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	for size > 0 {
		n := min(size, len(chunk))
		if _, err := w.Write(chunk[:n]); err != nil {
			return
		}
		size -= n
	}
}

// sleep stands in for a handler that waits on a database.
func sleep(w *kahttp.Response, r *kahttp.Request) {
	ms, err := strconv.Atoi(r.Query("ms"))
	if err != nil || ms < 0 || ms > maxSleep {
		text(w, 400, "ms must be an integer from 0 to 10000\n")
		return
	}
	select {
	case <-time.After(time.Duration(ms) * time.Millisecond):
	case <-r.Context().Done():
		return
	}
	text(w, 200, "slept "+strconv.Itoa(ms)+" ms")
}

const maxUpload = 1 << 30

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// sockets counts the WebSockets open: main waits for them to close
// after Shutdown, which does not wait for hijacked connections.
var sockets sync.WaitGroup

// wsEcho sends every message back as it came, until the client closes,
// or the server shuts down (a close frame with 1001 first).
func wsEcho(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade answered the client
	}
	sockets.Add(1)
	defer sockets.Done()
	defer c.Close()
	defer wsclose.OnShutdown(c, kahttp.ShuttingDown(r.Context()))()
	for {
		kind, msg, err := c.ReadMessage()
		if err != nil {
			return
		}
		if err := c.WriteMessage(kind, msg); err != nil {
			return
		}
	}
}

// upload answers the byte count and SHA-256 of the body, read as it
// arrives (the client is slowed down to the hashing's pace).
func upload(w *kahttp.Response, r *kahttp.Request) {
	h := sha256.New()
	n, err := io.Copy(h, r.BodyReader())
	if err != nil {
		w.WriteError(err) // 400 malformed, 413 past 1 GiB, 408 too slow
		return
	}
	text(w, 200, strconv.FormatInt(n, 10)+" "+hex.EncodeToString(h.Sum(nil))+"\n")
}

// healthz is the readiness check: 200 while serving, 503 once Shutdown
// (or a restart) began, so a load balancer stops sending here while the
// connections still drain.
func healthz(w *kahttp.Response, r *kahttp.Request) {
	select {
	case <-r.ShuttingDown():
		text(w, 503, "draining\n")
	default:
		text(w, 200, "ok\n")
	}
}

func text(w *kahttp.Response, code int, s string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.WriteString(s)
}
