package main

import (
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"sync"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/middleware"
)

// Item is what the service stores.
type Item struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Note string `json:"note,omitempty"`
}

// store is an in-memory set of items guarded by a mutex.
type store struct {
	mu    sync.Mutex
	next  int64
	items map[int64]Item
}

// NewApp returns the service's handler: a router with the /api group,
// wrapped in AccessLog and Recover, logging to logger.
func NewApp(logger *slog.Logger) kahttp.Handler {
	s := &store{items: map[int64]Item{}}
	rt := kahttp.NewRouter()
	api := rt.Group("/api",
		middleware.AccessLog(middleware.WithLogger(logger)),
		middleware.Recover(middleware.WithLogger(logger)))
	api.HandleFunc("GET", "/items", s.list)
	api.HandleFunc("GET", "/items/:id", s.get)
	api.HandleFunc("POST", "/items", s.create)
	api.HandleFunc("PUT", "/items/:id", s.update)
	api.HandleFunc("DELETE", "/items/:id", s.delete)
	if err := rt.Err(); err != nil {
		panic(err) // fixed routes: a bug
	}
	return rt
}

func (s *store) list(w *kahttp.Response, r *kahttp.Request) {
	s.mu.Lock()
	items := make([]Item, 0, len(s.items))
	for _, it := range s.items {
		items = append(items, it)
	}
	s.mu.Unlock()
	slices.SortFunc(items, func(a, b Item) int { return int(a.ID - b.ID) })
	writeJSON(w, 200, items)
}

func (s *store) get(w *kahttp.Response, r *kahttp.Request) {
	id, ok := itemID(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	it, found := s.items[id]
	s.mu.Unlock()
	if !found {
		writeError(w, 404, "no item "+r.Param("id"))
		return
	}
	writeJSON(w, 200, it)
}

func (s *store) create(w *kahttp.Response, r *kahttp.Request) {
	in, ok := readItem(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	s.next++
	in.ID = s.next
	s.items[in.ID] = in
	s.mu.Unlock()
	w.Header().Set("Location", "/api/items/"+strconv.FormatInt(in.ID, 10))
	writeJSON(w, 201, in)
}

func (s *store) update(w *kahttp.Response, r *kahttp.Request) {
	id, ok := itemID(w, r)
	if !ok {
		return
	}
	in, ok := readItem(w, r)
	if !ok {
		return
	}
	in.ID = id
	s.mu.Lock()
	_, found := s.items[id]
	if found {
		s.items[id] = in
	}
	s.mu.Unlock()
	if !found {
		writeError(w, 404, "no item "+r.Param("id"))
		return
	}
	writeJSON(w, 200, in)
}

func (s *store) delete(w *kahttp.Response, r *kahttp.Request) {
	id, ok := itemID(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	_, found := s.items[id]
	delete(s.items, id)
	s.mu.Unlock()
	if !found {
		writeError(w, 404, "no item "+r.Param("id"))
		return
	}
	w.WriteHeader(204)
}

// itemID parses the :id parameter; an id that is not a number names no item.
func itemID(w *kahttp.Response, r *kahttp.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.Param("id"), 10, 64)
	if err != nil {
		writeError(w, 404, "no item "+r.Param("id"))
		return 0, false
	}
	return id, true
}

// readItem decodes the body: one JSON object with a name, no unknown fields.
// readItem decodes the body into an Item (one JSON object, no unknown
// fields; DecodeJSONWith's errors say what is wrong in the client's terms)
// and checks it; on a bad one it answers and returns false.
func readItem(w *kahttp.Response, r *kahttp.Request) (Item, bool) {
	var in Item
	if err := r.DecodeJSONWith(&in, kahttp.JSONOptions{DisallowUnknownFields: true}); err != nil {
		var re *kahttp.RequestError
		if errors.As(err, &re) {
			writeError(w, re.Status, "bad JSON: "+re.Reason)
		} else {
			writeError(w, 400, "bad JSON: "+err.Error())
		}
		return Item{}, false
	}
	if in.Name == "" {
		writeError(w, 400, "name is required")
		return Item{}, false
	}
	return in, true
}

// writeJSON answers v as JSON (Response.JSON); a value that cannot be
// encoded is a bug: Recover answers 500.
func writeJSON(w *kahttp.Response, code int, v any) {
	if err := w.JSON(code, v); err != nil {
		panic(err)
	}
}

func writeError(w *kahttp.Response, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
