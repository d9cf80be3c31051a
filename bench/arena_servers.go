package main

// The peers of examples/arena for `bench -arena`: HttpArena's own
// go-fasthttp entry (frameworks/go-fasthttp/main.go, MIT licensed,
// github.com/MDA2AV/HttpArena at 28606baf), adapted only in its ports and
// paths (the address and the data folder come from the flags; the database
// routes, which the profiles measured here do not use, are left out), and
// the same contract written with net/http as its users would write it.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/reuseport"
)

// arenaData is the data folder (HttpArena's data/ layout: dataset.json and
// static/) of `bench -serve arena-fasthttp|arena-nethttp -arena-data DIR`.
var arenaData string

func init() {
	register(serverDef{
		Name:  "arena-fasthttp",
		Desc:  "HttpArena's go-fasthttp entry (fasthttp v1.74.0, a reuseport listener and fasthttp.Server per CPU); -arena only",
		Order: 60,
		Arena: true,
		Run:   runArenaFastHTTP,
	})
	register(serverDef{
		Name:  "arena-nethttp",
		Desc:  "HttpArena's contract on net/http: http.ServeMux, http.FileServer, default http.Server; -arena only",
		Order: 61,
		Arena: true,
		Run:   runArenaNetHTTP,
	})
}

// The dataset's item and the /json answer, as in the fasthttp entry.
type arenaRating struct {
	Score int `json:"score"`
	Count int `json:"count"`
}

type arenaItem struct {
	ID       int         `json:"id"`
	Name     string      `json:"name"`
	Category string      `json:"category"`
	Price    int         `json:"price"`
	Quantity int         `json:"quantity"`
	Active   bool        `json:"active"`
	Tags     []string    `json:"tags"`
	Rating   arenaRating `json:"rating"`
}

type arenaProcessed struct {
	ID       int         `json:"id"`
	Name     string      `json:"name"`
	Category string      `json:"category"`
	Price    int         `json:"price"`
	Quantity int         `json:"quantity"`
	Active   bool        `json:"active"`
	Tags     []string    `json:"tags"`
	Rating   arenaRating `json:"rating"`
	Total    int         `json:"total"`
}

type arenaProcessResponse struct {
	Items []arenaProcessed `json:"items"`
	Count int              `json:"count"`
}

func loadArenaDataset(dir string) ([]arenaItem, error) {
	data, err := os.ReadFile(filepath.Join(dir, "dataset.json"))
	if err != nil {
		return nil, err
	}
	var ds []arenaItem
	return ds, json.Unmarshal(data, &ds)
}

// arenaJSON is the /json/{count}?m= answer body of both peers.
func arenaJSON(dataset []arenaItem, count, m int) []byte {
	count = max(0, min(count, len(dataset)))
	if m == 0 {
		m = 1
	}
	items := make([]arenaProcessed, count)
	for i := range count {
		d := dataset[i]
		items[i] = arenaProcessed{ID: d.ID, Name: d.Name, Category: d.Category, Price: d.Price,
			Quantity: d.Quantity, Active: d.Active, Tags: d.Tags, Rating: d.Rating, Total: d.Price * d.Quantity * m}
	}
	body, _ := json.Marshal(arenaProcessResponse{Items: items, Count: count})
	return body
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	_, _ = gz.Write(b)
	_ = gz.Close()
	return buf.Bytes()
}

// runArenaFastHTTP is the entry's main: one reuseport listener and server
// per CPU, 25 MB bodies.
func runArenaFastHTTP(addr string, stop <-chan struct{}) error {
	dataset, err := loadArenaDataset(arenaData)
	if err != nil {
		return err
	}
	fs := &fasthttp.FS{
		Root:        filepath.Join(arenaData, "static"),
		PathRewrite: fasthttp.NewPathSlashesStripper(1),
		Compress:    true,
	}
	fsHandler := fs.NewRequestHandler()
	handler := func(ctx *fasthttp.RequestCtx) {
		method := string(ctx.Method())
		if method != "GET" && method != "POST" {
			ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
			return
		}
		path := string(ctx.Path())
		switch {
		case path == "/pipeline":
			ctx.Response.Header.Set("Server", "go-fasthttp")
			ctx.SetContentType("text/plain")
			ctx.SetBodyString("ok")
		case strings.HasPrefix(path, "/json/"):
			count, _ := strconv.Atoi(path[len("/json/"):])
			m, _ := strconv.Atoi(string(ctx.QueryArgs().Peek("m")))
			body := arenaJSON(dataset, count, m)
			ctx.Response.Header.Set("Server", "go-fasthttp")
			ctx.SetContentType("application/json")
			if strings.Contains(string(ctx.Request.Header.Peek("Accept-Encoding")), "gzip") {
				ctx.Response.Header.Set("Content-Encoding", "gzip")
				body = gzipBytes(body)
			}
			ctx.SetBody(body)
		case path == "/upload":
			ctx.Response.Header.Set("Server", "go-fasthttp")
			ctx.SetContentType("text/plain")
			ctx.SetBodyString(strconv.Itoa(len(ctx.PostBody())))
		case strings.HasPrefix(path, "/static/"):
			fsHandler(ctx)
		case strings.HasPrefix(path, "/baseline"):
			args := ctx.QueryArgs()
			sum := args.GetUintOrZero("a") + args.GetUintOrZero("b")
			if body := ctx.PostBody(); len(body) > 0 {
				if n, err := strconv.Atoi(string(body)); err == nil {
					sum += n
				}
			}
			ctx.Response.Header.Set("Server", "go-fasthttp")
			ctx.SetContentType("text/plain")
			ctx.SetBodyString(strconv.Itoa(sum))
		default:
			ctx.SetStatusCode(fasthttp.StatusNotFound)
		}
	}
	n := runtime.NumCPU()
	servers := make([]*fasthttp.Server, n)
	errc := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		ln, err := reuseport.Listen("tcp4", addr)
		if err != nil {
			for _, s := range servers[:i] {
				_ = s.Shutdown()
			}
			return err
		}
		servers[i] = &fasthttp.Server{Handler: handler, MaxRequestBodySize: 25 * 1024 * 1024}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- servers[i].Serve(ln)
		}()
	}
	var first error
	select {
	case first = <-errc:
	case <-stop:
	}
	for _, s := range servers {
		_ = s.Shutdown()
	}
	wg.Wait()
	return first
}

// runArenaNetHTTP serves the same routes with net/http.
func runArenaNetHTTP(addr string, stop <-chan struct{}) error {
	dataset, err := loadArenaDataset(arenaData)
	if err != nil {
		return err
	}
	text := func(w http.ResponseWriter, s string) {
		w.Header().Set("Server", "nethttp")
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /pipeline", func(w http.ResponseWriter, r *http.Request) { text(w, "ok") })
	mux.HandleFunc("/baseline11", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		a, _ := strconv.Atoi(q.Get("a"))
		b, _ := strconv.Atoi(q.Get("b"))
		sum := a + b
		if body, err := io.ReadAll(r.Body); err == nil && len(body) > 0 {
			if n, err := strconv.Atoi(string(body)); err == nil {
				sum += n
			}
		}
		text(w, strconv.Itoa(sum))
	})
	mux.HandleFunc("GET /json/{count}", func(w http.ResponseWriter, r *http.Request) {
		count, _ := strconv.Atoi(r.PathValue("count"))
		m, _ := strconv.Atoi(r.URL.Query().Get("m"))
		body := arenaJSON(dataset, count, m)
		w.Header().Set("Server", "nethttp")
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			body = gzipBytes(body)
		}
		_, _ = w.Write(body)
	})
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, 25<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		text(w, strconv.FormatInt(n, 10))
	})
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServer(http.Dir(filepath.Join(arenaData, "static")))))
	srv := &http.Server{Addr: addr, Handler: mux}
	return serveUntilStop(stop, srv.ListenAndServe, func(ctx context.Context) error { return srv.Shutdown(ctx) })
}
