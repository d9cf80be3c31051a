package main

import (
	"context"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

func init() {
	register(serverDef{
		Name:  "fasthttp",
		Desc:  "fasthttp v1.74.0: default fasthttp.Server",
		Order: 40,
		Run:   runFastHTTP,
	})
}

// fastHTTPHandler uses fasthttp the way its README shows: one RequestHandler
// with a switch on the path, default server settings (fasthttp adds
// "Server: fasthttp" and Date itself).
func fastHTTPHandler(ctx *fasthttp.RequestCtx) {
	switch string(ctx.Path()) {
	case "/plaintext":
		if !ctx.IsGet() {
			ctx.Error("method not allowed", fasthttp.StatusMethodNotAllowed)
			return
		}
		ctx.SetContentType(ctPlain)
		ctx.WriteString(helloBody)
	case "/json":
		if !ctx.IsGet() {
			ctx.Error("method not allowed", fasthttp.StatusMethodNotAllowed)
			return
		}
		ctx.SetContentType(ctJSON)
		ctx.WriteString(jsonBody)
	case "/echo":
		if !ctx.IsPost() {
			ctx.Error("method not allowed", fasthttp.StatusMethodNotAllowed)
			return
		}
		ctx.SetContentTypeBytes(ctx.Request.Header.ContentType())
		ctx.Write(ctx.PostBody())
	case "/stream":
		n := clamp(atoiDefault(string(ctx.QueryArgs().Peek("size")), 0), 0, maxStream)
		ctx.SetContentType(ctPlain)
		for n > 0 {
			p := chunk1K
			if n < len(p) {
				p = p[:n]
			}
			ctx.Write(p)
			n -= len(p)
		}
	case "/sleep":
		ms := clamp(atoiDefault(string(ctx.QueryArgs().Peek("ms")), 0), 0, maxSleepMS)
		time.Sleep(time.Duration(ms) * time.Millisecond)
		ctx.SetContentType(ctPlain)
		ctx.WriteString("slept " + strconv.Itoa(ms) + " ms")
	case "/query":
		a := ctx.QueryArgs()
		sum := atoiDefault(string(a.Peek("a")), 0) + atoiDefault(string(a.Peek("b")), 0)
		ctx.SetContentType(ctPlain)
		ctx.WriteString(strconv.Itoa(sum))
	default:
		ctx.Error("not found", fasthttp.StatusNotFound)
	}
}

// runFastHTTP serves with a default fasthttp.Server; on stop it drains with
// ShutdownWithContext.
func runFastHTTP(addr string, stop <-chan struct{}) error {
	srv := &fasthttp.Server{Handler: fastHTTPHandler}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe(addr) }()
	select {
	case err := <-errc:
		return err
	case <-stop:
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	return srv.ShutdownWithContext(ctx)
}
