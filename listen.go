package kahttp

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/kahttp/kahttp/eventloop"
)

// Connections from a net.Listener (TLS, a unix socket, a socket handed
// over by systemd) cannot go on gnet's loops: each is served by a
// goroutine of its own with blocking reads and writes, as net/http does,
// running the same session code as the loops (blocking.go: keep-alive
// policy, pipelining, limits, Stats, the Shutdown drain). Handlers run on
// that goroutine, whatever their mode; a pooled route's body streams as on
// the loops (BodyReader, 100 Continue on the first read, the route's
// limit); a request with Connection: upgrade may Hijack its connection
// (WebSocket over TLS), which then leaves Serve's tracking.

// goConns are the connections served from listeners: Shutdown closes the
// listeners, wakes each connection's reader, and waits for them.
type goConns struct {
	mu        sync.Mutex
	listeners []net.Listener
	conns     map[net.Conn]struct{}
	wg        sync.WaitGroup
}

func (g *goConns) add(c net.Conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.conns == nil {
		g.conns = map[net.Conn]struct{}{}
	}
	g.conns[c] = struct{}{}
	g.wg.Add(1)
	return true
}

func (g *goConns) remove(c net.Conn) {
	g.mu.Lock()
	delete(g.conns, c)
	g.mu.Unlock()
	g.wg.Done()
}

func (g *goConns) open() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return int64(len(g.conns))
}

// each calls fn for every connection, under the lock.
func (g *goConns) each(fn func(net.Conn)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for c := range g.conns {
		fn(c)
	}
}

// Serve serves the connections ln accepts until Shutdown, which closes ln;
// it then returns ErrServerClosed. A *net.TCPListener or *net.UnixListener
// is served on the event loops, as Start's own listener is: a listener
// inherited from systemd's socket activation or from a restart
// (net.FileListener), or made with options of your own. Any other (TLS,
// a listener wrapper) is served with a goroutine per connection (see
// above). Serve on the loops, like Start, once per Server.
//
// Go turns TCP keep-alive on for what a listener accepts unless its
// net.ListenConfig says KeepAlive: -1, as Start's own listener does: four
// setsockopt calls per connection, a sixth of what a short-lived one
// costs. The idle timeout already closes idle connections; make your
// listener with KeepAlive: -1 unless you want the kernel's probes.
//
// On goroutines: until Shutdown, which closes ln; it then returns
// ErrServerClosed. Accept errors that may pass (out of descriptors) pause
// accepting with a backoff, as the event loops do.
func (s *Server) Serve(ln net.Listener) error {
	if onLoops(ln) {
		if err := s.start("", ln); err != nil {
			return err
		}
		return s.wait()
	}
	s.mu.Lock()
	s.serving = true
	s.mu.Unlock()
	s.gconns.mu.Lock() // Shutdown sets closing, then closes the listeners under this lock
	if s.closing.Load() {
		s.gconns.mu.Unlock()
		_ = ln.Close()
		return ErrServerClosed
	}
	s.gconns.listeners = append(s.gconns.listeners, ln)
	s.gconns.mu.Unlock()
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			if eventloop.Temporary(err) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		shard := nextShard.Add(1) // the connection's counters, as its blockingConn's (Loop)
		st := s.stats.at(int(shard))
		st.accepted.Add(1)
		if s.draining.Load() {
			st.connClosed(reasonShutdown, 0)
			_ = c.Close()
			continue
		}
		s.gconns.add(c)
		go s.serveConn(c, shard)
	}
}

// StartListener is Start on a TCP or unix listener of the caller's (an
// inherited one: a restart's, systemd's): it returns once the event loops
// serve it; Shutdown closes it. Serve is the same, waiting for the end.
func (s *Server) StartListener(ln net.Listener) error {
	if !onLoops(ln) {
		return errors.New("kahttp: StartListener takes a *net.TCPListener or *net.UnixListener; Serve serves others")
	}
	return s.start("", ln)
}

// onLoops reports whether the event loops can serve ln's connections.
func onLoops(ln net.Listener) bool {
	switch ln.(type) {
	case *net.TCPListener, *net.UnixListener:
		return true
	}
	return false
}

// ListenAndServeTLS serves HTTPS on addr with the certificate and key in
// those PEM files (a chain: the server's certificate first). ALPN offers
// http/1.1 and http/1.0 (Go's TLS refuses a client whose list shares
// nothing with the server's, and curl --http1.0 offers only http/1.0). A
// handshake must end within HeaderTimeout; a plain-HTTP request to the
// port gets 400 and a close. Each connection runs on a goroutine of its
// own (Serve): for the most connections at the least CPU, terminate TLS at
// a proxy and serve plain HTTP on the event loops.
func (s *Server) ListenAndServeTLS(addr, certFile, keyFile string) error {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(tls.NewListener(ln, TLSConfig(cert)))
}

// TLSConfig is the TLS configuration ListenAndServeTLS uses, for a
// listener of your own (tls.NewListener, then Serve): TLS 1.2 and up, ALPN
// http/1.1 and http/1.0.
func TLSConfig(certs ...tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: certs,
		NextProtos:   []string{"http/1.1", "http/1.0"},
		MinVersion:   tls.VersionTLS12,
	}
}

// plainHTTPAnswer is what a plain-HTTP request to a TLS port gets (as net/http).
const plainHTTPAnswer = "HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n" +
	"Client sent an HTTP request to an HTTPS server.\n"

// serveConn serves one listener connection until it closes; shard is the
// counters' shard Serve took for it.
func (s *Server) serveConn(nc net.Conn, shard uint32) {
	if tc, ok := nc.(*tls.Conn); ok {
		_ = tc.SetDeadline(time.Now().Add(s.cfg.HeaderTimeout))
		if err := tc.Handshake(); err != nil {
			var rh tls.RecordHeaderError
			if errors.As(err, &rh) && rh.Conn != nil && looksLikeHTTP(rh.RecordHeader[:]) {
				_ = rh.Conn.SetWriteDeadline(time.Now().Add(time.Second))
				_, _ = io.WriteString(rh.Conn, plainHTTPAnswer)
			}
			s.stats.at(int(shard)).connClosed(reasonBadRequest, 0)
			_ = nc.Close()
			s.gconns.remove(nc)
			return
		}
		_ = tc.SetDeadline(time.Time{})
	}
	o := newListenerConn(s, nc, shard)
	o.tracked = func() { s.gconns.remove(nc) }
	defer o.untrack()
	newBlockingSession(s, o, nc.RemoteAddr()).drive(o) // blocking.go
}

// looksLikeHTTP reports whether a TLS record header is the start of an
// HTTP request instead (net/http's test).
func looksLikeHTTP(hdr []byte) bool {
	switch string(hdr) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO", "DELET", "PATCH", "CONNE":
		return true
	}
	return false
}
