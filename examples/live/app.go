package main

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/examples/internal/wsclose"
	"github.com/kahttp/kahttp/nethttp"
)

// app is a counter and the clients that follow it.
type app struct {
	mu    sync.Mutex
	count int64
	subs  map[chan int64]struct{} // each follower's latest value (buffer 1)
	// sockets counts the WebSockets open: main waits for them after
	// Shutdown, which does not wait for hijacked connections.
	sockets sync.WaitGroup
}

func newApp() *app { return &app{subs: map[chan int64]struct{}{}} }

func (a *app) router() *kahttp.Router {
	rt := kahttp.NewRouter()
	rt.GET("/", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.WriteString(page)
	}))
	rt.GET("/count", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		_, _ = w.WriteString(strconv.FormatInt(a.value(), 10))
	}))
	rt.POST("/inc", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		_, _ = w.WriteString(strconv.FormatInt(a.add(), 10))
	}))
	// Long-lived: each holds a pooled worker (or its connection's goroutine
	// over TLS) while the client follows.
	rt.GET("/events", kahttp.HandlerFunc(a.events), kahttp.WithMode(kahttp.Pooled))
	rt.GET("/ws", nethttp.Wrap(http.HandlerFunc(a.ws)), kahttp.WithMode(kahttp.Pooled))
	return rt
}

func (a *app) value() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.count
}

// add counts one more and tells every follower.
func (a *app) add() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.count++
	for ch := range a.subs {
		select {
		case <-ch: // drop the value not yet sent: the latest is what counts
		default:
		}
		ch <- a.count
	}
	return a.count
}

// follow returns a channel with the current value, then each new one.
func (a *app) follow() (chan int64, func()) {
	ch := make(chan int64, 1)
	a.mu.Lock()
	a.subs[ch] = struct{}{}
	ch <- a.count
	a.mu.Unlock()
	return ch, func() {
		a.mu.Lock()
		delete(a.subs, ch)
		a.mu.Unlock()
	}
}

func (a *app) tick(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.add()
		}
	}
}

// events streams the counter as server-sent events until the client
// leaves or the server shuts down.
func (a *app) events(w *kahttp.Response, r *kahttp.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	ch, done := a.follow()
	defer done()
	for {
		select {
		case v := <-ch:
			_, _ = w.WriteString("data: " + strconv.FormatInt(v, 10) + "\n\n")
			if w.Flush() != nil {
				return
			}
		case <-r.ShuttingDown():
			_, _ = w.WriteString("event: bye\ndata: server restarting\n\n")
			return
		case <-r.Context().Done():
			return
		}
	}
}

var upgrader = websocket.Upgrader{}

// ws sends the counter as text messages; any message from the client
// counts one more.
func (a *app) ws(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	a.sockets.Add(1)
	defer a.sockets.Done()
	defer c.Close()
	// On Shutdown, a close frame with 1001: the reads then end the stream.
	defer wsclose.OnShutdown(c, kahttp.ShuttingDown(r.Context()))()
	ch, done := a.follow()
	defer done()
	gone := make(chan struct{})
	go func() { // reads: each message counts one more; an error ends the stream
		defer close(gone)
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
			a.add()
		}
	}()
	for {
		select {
		case v := <-ch:
			_ = c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if c.WriteMessage(websocket.TextMessage, []byte(strconv.FormatInt(v, 10))) != nil {
				return
			}
		case <-gone:
			return
		}
	}
}

const page = `<!doctype html>
<meta charset="utf-8">
<title>kahttp live</title>
<style>body{font:16px system-ui;margin:2em} b{font-size:2em}</style>
<h1>kahttp live counter</h1>
<p>WebSocket: <b id="ws">…</b></p>
<p>Server-sent events: <b id="sse">…</b></p>
<p><button id="inc">+1 (over the WebSocket)</button></p>
<script>
const proto = location.protocol === "https:" ? "wss:" : "ws:";
const ws = new WebSocket(proto + "//" + location.host + "/ws");
ws.onmessage = e => document.getElementById("ws").textContent = e.data;
document.getElementById("inc").onclick = () => ws.send("+1");
const es = new EventSource("/events");
es.onmessage = e => document.getElementById("sse").textContent = e.data;
</script>
`
