package kahttp_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/kahttp/kahttp"
)

func ExampleNewServer() {
	h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		w.Header().Set("Content-Type", "text/plain")
		// r.Query returns a view into the request buffer: fine to use here,
		// strings.Clone it to keep it after the handler returns.
		_, _ = w.WriteString("Hello, " + r.Query("name") + "!")
	})
	srv := kahttp.NewServer(h, kahttp.Config{})
	if err := srv.Start("127.0.0.1:0"); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(context.Background())

	resp, err := http.Get("http://" + srv.Addr().String() + "/?name=kahttp")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.Header.Get("Content-Length"), string(body))
	// Output: 14 Hello, kahttp!
}

// A body larger than Config.ResponseBufferSize (4 KiB) cannot get a
// Content-Length: on HTTP/1.1 it goes out chunked and the connection stays open.
func ExampleResponse_Write() {
	h := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		piece := strings.Repeat("x", 1024)
		for range 8 {
			_, _ = w.WriteString(piece)
		}
	})
	srv := kahttp.NewServer(h, kahttp.Config{})
	if err := srv.Start("127.0.0.1:0"); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(context.Background())

	resp, err := http.Get("http://" + srv.Addr().String() + "/")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.TransferEncoding, len(body))
	// Output: [chunked] 8192
}

// Shutdown drains: idle connections close, requests in progress finish
// with Connection: close, and pooled handlers are waited for.
func ExampleServer_Shutdown() {
	srv := kahttp.NewServer(kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		_, _ = w.WriteString("ok")
	}), kahttp.Config{})
	if err := srv.Start("127.0.0.1:0"); err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	fmt.Println(srv.Shutdown(ctx))
	// Output: <nil>
}
