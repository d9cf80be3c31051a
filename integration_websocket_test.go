package kahttp_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/nethttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wsEcho is a gorilla/websocket echo server, as a net/http handler.
func wsEcho() http.Handler {
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade answered the error
		}
		defer c.Close()
		for {
			kind, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			if err := c.WriteMessage(kind, msg); err != nil {
				return
			}
		}
	})
}

// nativeEcho upgrades to a toy protocol ("Upgrade: echo") with the native
// API: 101 through the Response, then Hijack, then every byte echoed.
func nativeEcho(w *kahttp.Response, r *kahttp.Request) {
	if !strings.EqualFold(r.Header("Upgrade"), "echo") {
		w.Error(kahttp.StatusBadRequest, "Upgrade: echo expected")
		return
	}
	w.Header().Set("Connection", "Upgrade")
	w.Header().Set("Upgrade", "echo")
	w.WriteHeader(kahttp.StatusSwitchingProtocols) // sent by Hijack
	nc, rest, err := w.Hijack()
	if err != nil {
		return
	}
	go func() {
		defer nc.Close()
		_, _ = nc.Write(rest)
		_, _ = io.Copy(nc, nc)
	}()
}

func startWS(t *testing.T) string {
	rt := kahttp.NewRouter()
	rt.GET("/ws", nethttp.Wrap(wsEcho()))
	rt.GET("/native", kahttp.HandlerFunc(nativeEcho))
	rt.GET("/plain", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		_, _ = w.WriteString("plain")
	}))
	srv := kahttp.NewServer(rt, kahttp.Config{})
	require.NoError(t, srv.Start("127.0.0.1:0"))
	t.Cleanup(func() { shutdown(t, srv) })
	return srv.Addr().String()
}

// gorilla's Upgrader through nethttp.Wrap, with gorilla's client: echo of
// 10,000 messages from 1 B to 64 KiB, ping/pong, the close handshake.
func TestIntegrationWebSocketEcho(t *testing.T) {
	addr := startWS(t)
	// Pipelined load on the same loops the whole time: the hijacked
	// connection's goroutine and the loops serve side by side.
	ctx, cancel := context.WithCancel(context.Background())
	var load sync.WaitGroup
	for range 2 {
		load.Add(1)
		go func() { defer load.Done(); pipelineLoad(ctx, addr, 16) }()
	}
	defer load.Wait()
	defer cancel()
	c, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, 101, resp.StatusCode)
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))

	pong := make(chan string, 1)
	c.SetPongHandler(func(data string) error { pong <- data; return nil })
	for i := range 10_000 {
		size := 1 + i%512
		if i%100 == 0 {
			size = 64 << 10
		}
		msg := bytes.Repeat([]byte{byte('a' + i%26)}, size)
		kind := websocket.BinaryMessage
		if i%2 == 0 {
			kind = websocket.TextMessage
		}
		require.NoError(t, c.WriteMessage(kind, msg))
		gotKind, got, err := c.ReadMessage()
		require.NoError(t, err, "message %d", i)
		require.Equal(t, kind, gotKind)
		require.True(t, bytes.Equal(msg, got), "message %d of %d bytes echoed wrong", i, size)
	}
	require.NoError(t, c.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(ioTimeout)))
	go func() { _, _, _ = c.ReadMessage() }() // pongs are handled while reading
	select {
	case p := <-pong:
		assert.Equal(t, "are you there", p)
	case <-time.After(ioTimeout):
		t.Fatal("no pong")
	}
	require.NoError(t, c.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"), time.Now().Add(ioTimeout)))
}

// A client that vanishes mid-message: the server's handler ends and
// leaves no goroutine behind; the server keeps serving.
func TestIntegrationWebSocketClientVanishes(t *testing.T) {
	addr := startWS(t)
	goroutines := runtime.NumGoroutine()
	for range 20 {
		c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
		require.NoError(t, err)
		w, err := c.NextWriter(websocket.BinaryMessage)
		require.NoError(t, err)
		_, _ = w.Write(bytes.Repeat([]byte("x"), 100_000)) // a frame started, never finished
		_ = c.UnderlyingConn().Close()
	}
	assert.Eventually(t, func() bool { return runtime.NumGoroutine() <= goroutines+2 }, 5*time.Second, 20*time.Millisecond,
		"goroutines %d, before %d", runtime.NumGoroutine(), goroutines)
	c := dial(t, addr)
	assert.Equal(t, "plain", string(c.roundTrip(getReq("/plain")).Body))
}

// The native upgrade: the 101 keeps the handler's Connection and Upgrade
// fields, and bytes pipelined after the upgrade request belong to the new
// protocol, not to HTTP.
func TestIntegrationUpgradeHijack(t *testing.T) {
	addr := startWS(t)
	c := dial(t, addr)
	c.send("GET /native HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n" +
		"GET /plain HTTP/1.1\r\nHost: x\r\n\r\n") // not HTTP any more: echoed
	r := &response{}
	require.NoError(t, c.conn.SetReadDeadline(time.Now().Add(ioTimeout)))
	require.NoError(t, readHead(c.br, r))
	assert.Equal(t, 101, r.Status)
	assert.Equal(t, "Upgrade", r.header(t, "Connection"))
	assert.Equal(t, "echo", r.header(t, "Upgrade"))
	want := "GET /plain HTTP/1.1\r\nHost: x\r\n\r\n"
	got := make([]byte, len(want))
	_, err := io.ReadFull(c.br, got)
	require.NoError(t, err)
	assert.Equal(t, want, string(got))
	c.send("more")
	got = make([]byte, 4)
	_, err = io.ReadFull(c.br, got)
	require.NoError(t, err)
	assert.Equal(t, "more", string(got))

	// Hijack refuses a request that did not ask to upgrade, clearly.
	errc := make(chan error, 1)
	rt := kahttp.NewRouter()
	rt.GET("/h", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		_, _, err := w.Hijack()
		errc <- err
		_, _ = w.WriteString("no")
	}))
	srv := kahttp.NewServer(rt, kahttp.Config{})
	require.NoError(t, srv.Start("127.0.0.1:0"))
	t.Cleanup(func() { shutdown(t, srv) })
	resp, err := http.Get("http://" + srv.Addr().String() + "/h")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.ErrorIs(t, <-errc, kahttp.ErrNotHijackable)
}

// Shutdown does not wait for a hijacked connection, even one whose
// handler keeps running: the handler hears of it (Request.ShuttingDown,
// ShuttingDown of its context, RegisterOnShutdown) and ends the connection
// itself. On the event loops and over TLS.
func TestIntegrationShutdownLeavesHijacked(t *testing.T) {
	for _, overTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "loops", true: "tls"}[overTLS], func(t *testing.T) {
			told := make(chan string, 3)
			rt := kahttp.NewRouter()
			rt.GET("/hold", kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
				w.Header().Set("Connection", "Upgrade")
				w.Header().Set("Upgrade", "hold")
				w.WriteHeader(kahttp.StatusSwitchingProtocols)
				nc, _, err := w.Hijack()
				if err != nil {
					return
				}
				defer nc.Close()
				ctxDown := kahttp.ShuttingDown(r.Context())
				<-r.ShuttingDown() // the handler itself holds the connection until told
				<-ctxDown
				told <- "handler"
				_, _ = io.WriteString(nc, "bye")
				_, _ = io.Copy(io.Discard, nc) // until the client closes: after Shutdown returned
			}), kahttp.WithMode(kahttp.Pooled))
			srv := kahttp.NewServer(rt, kahttp.Config{})
			srv.RegisterOnShutdown(func() { told <- "hook" })
			conn, served := serveAndDial(t, srv, overTLS)
			defer func() { assert.ErrorIs(t, <-served, kahttp.ErrServerClosed) }()
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(ioTimeout))
			_, err := io.WriteString(conn, "GET /hold HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: hold\r\n\r\n")
			require.NoError(t, err)
			br := bufio.NewReader(conn)
			r := &response{}
			require.NoError(t, readHead(br, r))
			require.Equal(t, 101, r.Status)

			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			start := time.Now()
			require.NoError(t, srv.Shutdown(ctx), "Shutdown waits for no hijacked connection")
			assert.Less(t, time.Since(start), time.Second)
			got := []string{<-told, <-told}
			assert.ElementsMatch(t, []string{"handler", "hook"}, got)
			bye := make([]byte, 3)
			_, err = io.ReadFull(br, bye)
			require.NoError(t, err)
			assert.Equal(t, "bye", string(bye), "the handler still has its connection")
		})
	}
}
