package main

import (
	"crypto/sha256"
	"io"
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

// fastHTTPUpload answers POST /upload: with StreamRequestBody the body is
// read from RequestBodyStream as it arrives, up to uploadLimit.
func fastHTTPUpload(ctx *fasthttp.RequestCtx) {
	if !ctx.IsPost() {
		ctx.Error("method not allowed", fasthttp.StatusMethodNotAllowed)
		return
	}
	sum := sha256.New()
	var n int64
	var err error
	if s := ctx.RequestBodyStream(); s != nil {
		n, err = io.Copy(sum, io.LimitReader(s, uploadLimit+1))
	} else {
		b := ctx.PostBody() // a server without StreamRequestBody
		n = int64(len(b))
		sum.Write(b)
	}
	switch {
	case err != nil:
		ctx.Error(err.Error(), fasthttp.StatusBadRequest)
		return
	case n > uploadLimit:
		ctx.Error("body too large", fasthttp.StatusRequestEntityTooLarge)
		return
	}
	ctx.SetContentType(ctPlain)
	ctx.WriteString(uploadAnswer(n, sum.Sum(nil)))
}

// newFastHTTPServer is the default server, or with uploads the one that
// streams request bodies and has POST /upload.
func newFastHTTPServer(uploads bool) *fasthttp.Server {
	srv := &fasthttp.Server{Handler: fastHTTPHandler}
	if uploads {
		srv.StreamRequestBody = true
		srv.MaxRequestBodySize = uploadLimit
		srv.Handler = func(ctx *fasthttp.RequestCtx) {
			if string(ctx.Path()) == "/upload" {
				fastHTTPUpload(ctx)
				return
			}
			fastHTTPHandler(ctx)
		}
	}
	return srv
}

// runFastHTTP serves with a default fasthttp.Server; on stop it drains with
// ShutdownWithContext. With -uploads it streams request bodies
// (StreamRequestBody, MaxRequestBodySize 1 GiB) and has POST /upload.
func runFastHTTP(addr string, stop <-chan struct{}) error {
	srv := newFastHTTPServer(serveUploads)
	return serveUntilStop(stop, func() error { return srv.ListenAndServe(addr) }, srv.ShutdownWithContext)
}
