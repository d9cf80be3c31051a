package main

import (
	"net/http"
	"testing"

	"github.com/julienschmidt/httprouter"
	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/internal/benchroutes"
)

// The router side by side with julienschmidt/httprouter, on the same
// GitHub-API-shaped table of ~100 routes (the library module keeps only
// its own benchmark: httprouter never enters its go.mod).
//
//	go test -run '^$' -bench Router -benchmem

// githubRoutes is the table the library's router benchmark uses too.
var githubRoutes = benchroutes.GitHub

var lookups = []struct {
	name, target string
	params       int
}{
	{"static", "/user/repos", 0},
	{"param2", "/repos/julienschmidt/httprouter/stargazers", 2},
	{"catchall", "/static/css/bootstrap/site.min.css", 1},
}

func BenchmarkRouter(b *testing.B) {
	kr := kahttp.NewRouter()
	hr := httprouter.New()
	nop := kahttp.HandlerFunc(func(*kahttp.Response, *kahttp.Request) {})
	for _, r := range githubRoutes {
		kr.Handle(r[0], r[1], nop)
		hr.Handle(r[0], r[1], func(http.ResponseWriter, *http.Request, httprouter.Params) {})
	}
	if err := kr.Err(); err != nil {
		b.Fatal(err)
	}
	for _, l := range lookups {
		b.Run("kahttp/"+l.name, func(b *testing.B) {
			req, err := kahttp.ParseRequest([]byte("GET " + l.target + " HTTP/1.1\r\nHost: x\r\n\r\n"))
			if err != nil {
				b.Fatal(err)
			}
			kr.Resolve(req)
			if len(req.Params()) != l.params {
				b.Fatalf("params %v", req.Params())
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				kr.Resolve(req)
			}
		})
		b.Run("httprouter/"+l.name, func(b *testing.B) {
			if h, ps, _ := hr.Lookup("GET", l.target); h == nil || len(ps) != l.params {
				b.Fatalf("lookup %s: %v", l.target, ps)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				hr.Lookup("GET", l.target)
			}
		})
	}
}
