package kahttp

// Handler answers one request. The Request and everything it returns are
// views into the connection's buffer, valid only until Serve returns: copy
// what you keep (strings.Clone, bytes.Clone). The same goes for the Response.
type Handler interface {
	Serve(w *Response, r *Request)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(w *Response, r *Request)

// Serve calls f(w, r).
func (f HandlerFunc) Serve(w *Response, r *Request) { f(w, r) }

// Middleware wraps a Handler: func(next Handler) Handler.
type Middleware func(Handler) Handler

// Mode says where a handler runs.
type Mode uint8

const (
	// Default is the server's Config.Mode for a route, and Pooled for a server.
	Default Mode = iota
	// Pooled runs the handler on a bounded pool of goroutines, so a handler
	// that blocks (a database call) never stalls the event loop. The default.
	Pooled
	// Inline runs the handler on the event loop: the lowest latency, for
	// handlers that never block. A blocking inline handler stalls every
	// connection of its loop.
	Inline
)

func (m Mode) String() string {
	switch m {
	case Inline:
		return "inline"
	case Pooled:
		return "pooled"
	}
	return "default"
}

// Resolver is implemented by handlers that pick the handler and its Mode per
// request, such as Router (Default means the server's Config.Mode). The server calls Resolve on the event loop, so it
// must not block.
type Resolver interface {
	Resolve(r *Request) (Handler, Mode)
}
