package kahttp_test

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/kahttp/kahttp"
)

func ExampleRouter() {
	rt := kahttp.NewRouter()
	rt.HandleFunc("GET", "/users/:id", func(w *kahttp.Response, r *kahttp.Request) {
		_, _ = w.WriteString("user " + r.Param("id"))
	})
	rt.HandleFunc("GET", "/static/*path", func(w *kahttp.Response, r *kahttp.Request) {
		_, _ = w.WriteString("file " + r.Param("path"))
	}, kahttp.WithMode(kahttp.Inline)) // never blocks: run it on the event loop

	srv := kahttp.NewServer(rt, kahttp.Config{}) // Start refuses a router with errors (rt.Err)
	if err := srv.Start("127.0.0.1:0"); err != nil {
		panic(err)
	}
	defer srv.Shutdown(context.Background())
	base := "http://" + srv.Addr().String()

	for _, req := range [][2]string{
		{"GET", "/users/42"},
		{"GET", "/static/css/site.css"},
		{"DELETE", "/users/42"},
		{"GET", "/nope"},
	} {
		r, _ := http.NewRequest(req[0], base+req[1], nil)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Printf("%s %s → %d %q", req[0], req[1], resp.StatusCode, body)
		if allow := resp.Header.Get("Allow"); allow != "" {
			fmt.Print(" Allow: ", allow)
		}
		fmt.Println()
	}
	// Output:
	// GET /users/42 → 200 "user 42"
	// GET /static/css/site.css → 200 "file css/site.css"
	// DELETE /users/42 → 405 "405 Method Not Allowed\n" Allow: GET, HEAD, OPTIONS
	// GET /nope → 404 "404 Not Found\n"
}

func ExampleRouter_Group() {
	logger := func(name string) kahttp.Middleware {
		return func(next kahttp.Handler) kahttp.Handler {
			return kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
				fmt.Println("enter", name)
				next.Serve(w, r)
			})
		}
	}
	rt := kahttp.NewRouter()
	rt.Use(logger("router"))
	api := rt.Group("/api", logger("api"))
	api.HandleFunc("GET", "/items/:id", func(w *kahttp.Response, r *kahttp.Request) {
		fmt.Println("item", r.Param("id"))
	})
	api.GET("/items/:name", kahttp.HandlerFunc(func(*kahttp.Response, *kahttp.Request) {}))
	fmt.Println(rt.Err())

	srv := kahttp.NewServer(rt, kahttp.Config{})
	fmt.Println(srv.Start("127.0.0.1:0") != nil)
	// Output:
	// kahttp: route GET /api/items/:name: tree: parameter ":name" in pattern "/api/items/:name" conflicts with parameter ":id" of existing pattern "/api/items/:id" at the same position
	// true
}
