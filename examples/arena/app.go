package main

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/examples/internal/wsclose"
	"github.com/kahttp/kahttp/middleware"
	"github.com/kahttp/kahttp/nethttp"
)

const routes = `kahttp arena (HttpArena's HTTP/1.1 endpoints): routes
GET, POST /baseline11?a=X&b=Y  X + Y (+ the body's integer)
GET  /pipeline                 ok
GET  /json/{count}?m=M         the dataset's first count items, total = price*quantity*M (br/gzip if asked)
POST /upload                   the number of body bytes read (up to 20 MiB)
GET  /static/{file}            a file, or its .br/.gz sibling as Accept-Encoding allows
GET  /ws                       WebSocket echo
`

// maxUpload is /upload's body limit: HttpArena's largest upload is 20 MiB.
const maxUpload = 20 << 20

// app holds what the handlers share.
type app struct {
	items []Item
	// sockets counts the WebSockets open: the server's stop waits for
	// them after Shutdown, which does not wait for hijacked connections.
	sockets sync.WaitGroup
}

// newApp returns the arena's router over data. The handlers that never
// block (baseline, pipeline, json: parsing, arithmetic, encoding) run
// inline on the event loops; file reads, streamed uploads and
// WebSockets run pooled.
func newApp(data *Data, staticCache int64) (*app, *kahttp.Router) {
	a := &app{items: data.Items}
	rt := kahttp.NewRouter()
	inline := kahttp.WithMode(kahttp.Inline)
	rt.HandleFunc("GET", "/", func(w *kahttp.Response, r *kahttp.Request) { text(w, 200, routes) }, inline)
	rt.HandleFunc("GET", "/baseline11", baseline, inline)
	rt.HandleFunc("POST", "/baseline11", baseline, inline)
	rt.HandleFunc("GET", "/pipeline", func(w *kahttp.Response, r *kahttp.Request) { text(w, 200, "ok") }, inline)
	// Compressed (br, zstd or gzip) when the client's Accept-Encoding asks.
	rt.HandleFunc("GET", "/json/:count", a.json, inline, kahttp.WithMiddleware(middleware.Compress()))
	// Large bodies stream to a pooled handler: read as they arrive, never held whole.
	rt.HandleFunc("POST", "/upload", upload, kahttp.WithMode(kahttp.Pooled), kahttp.WithBodyLimit(maxUpload))
	// app.js.br / app.js.gz go out instead of app.js when the client
	// accepts them. Read from disk on every request, as HttpArena's rules
	// for production entries ask; with staticCache, held in memory (that
	// many bytes at most, each file read again once a second), as its
	// tuned entries may.
	var cache []kahttp.FileServerOption
	if staticCache > 0 {
		cache = append(cache, kahttp.WithFileCache(staticCache, time.Second))
	}
	rt.GET("/static/*file", kahttp.FileServer(data.Static, cache...), kahttp.WithMode(kahttp.Pooled))
	// gorilla/websocket's Upgrader, unchanged, through the net/http adapter.
	rt.GET("/ws", nethttp.Wrap(http.HandlerFunc(a.ws)), kahttp.WithMode(kahttp.Pooled))
	return a, rt
}

// baseline answers a + b from the query, plus the body's integer when
// there is a body (Content-Length or chunked). A missing value counts 0;
// one that is not an integer is a 400.
func baseline(w *kahttp.Response, r *kahttp.Request) {
	sum := 0
	for _, name := range [...]string{"a", "b"} {
		if v, ok := r.LookupQuery(name); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				badRequest(w, name+" must be an integer")
				return
			}
			sum += n
		}
	}
	if body := bytes.TrimSpace(r.Body()); len(body) > 0 {
		n, err := strconv.Atoi(string(body))
		if err != nil {
			badRequest(w, "the body must be an integer")
			return
		}
		sum += n
	}
	text(w, 200, strconv.Itoa(sum))
}

// processedItem is an item with its total: the fields in the dataset's
// order, then total.
type processedItem struct {
	Item
	Total int `json:"total"`
}

type jsonResponse struct {
	Items []processedItem `json:"items"`
	Count int             `json:"count"`
}

// json answers the dataset's first count items (at most all of them),
// each with total = price * quantity * m (m: 1 when absent), encoded per
// request.
func (a *app) json(w *kahttp.Response, r *kahttp.Request) {
	count, err := strconv.Atoi(r.Param("count"))
	if err != nil || count < 0 {
		badRequest(w, "count must be a non-negative integer")
		return
	}
	count = min(count, len(a.items))
	m := 1
	if v, ok := r.LookupQuery("m"); ok {
		if m, err = strconv.Atoi(v); err != nil {
			badRequest(w, "m must be an integer")
			return
		}
	}
	out := jsonResponse{Items: make([]processedItem, count), Count: count}
	for i, it := range a.items[:count] {
		out.Items[i] = processedItem{Item: it, Total: it.Price * it.Quantity * m}
	}
	_ = w.JSON(200, out)
}

// upload answers how many body bytes it read, as they arrived.
func upload(w *kahttp.Response, r *kahttp.Request) {
	n, err := io.Copy(io.Discard, r.BodyReader())
	if err != nil {
		w.WriteError(err) // 400 malformed, 413 past 20 MiB, 408 too slow
		return
	}
	text(w, 200, strconv.FormatInt(n, 10))
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// ws sends every message back as it came (text as text, binary as
// binary) until the client closes, or the server shuts down (a close
// frame with 1001 first). A GET that is no upgrade gets gorilla's 400.
func (a *app) ws(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade answered the client
	}
	a.sockets.Add(1)
	defer a.sockets.Done()
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

func text(w *kahttp.Response, code int, s string) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(code)
	_, _ = w.WriteString(s)
}

func badRequest(w *kahttp.Response, reason string) {
	w.WriteError(&kahttp.RequestError{Status: kahttp.StatusBadRequest, Reason: reason})
}
