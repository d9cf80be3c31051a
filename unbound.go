package kahttp

import "errors"

// ErrNoServer is what Write, WriteString and Flush return on a Response no
// server made, such as &kahttp.Response{} in a test: a Response writes into
// a connection's buffers, which only the server has. To call a handler in a
// test, serve it with package kahttptest, which records the response.
var ErrNoServer = errors.New("kahttp: Response not made by a server (a zero Response?): test handlers with package kahttptest")
