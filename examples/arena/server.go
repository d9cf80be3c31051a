package main

import (
	"context"
	"crypto/tls"
	"errors"
	"net"

	"github.com/kahttp/kahttp"
)

// options says what to serve where.
type options struct {
	Addr    string           // plain HTTP/1.1, on the event loops
	TLSAddr string           // HTTPS (HTTP/1.1), a goroutine per connection; "" for none
	Cert    *tls.Certificate // TLSAddr's certificate
	Data    *Data
	// StaticCache > 0 keeps the static files in memory, up to that many
	// bytes (kahttp.WithFileCache); 0 reads them on every request.
	StaticCache int64
	Config      kahttp.Config
}

// arena is a running server.
type arena struct {
	Addr    net.Addr // the plain listener's address
	TLSAddr net.Addr // the TLS listener's, nil without one
	// Failed delivers the error that ended the TLS listener, if one does
	// before Stop.
	Failed <-chan error

	srv  *kahttp.Server
	app  *app
	done chan error // Serve's return on the TLS listener
}

// start serves the arena: one kahttp.Server, its router on the event
// loops at o.Addr and the same router over TLS at o.TLSAddr. It returns
// once both accept connections.
func start(o options) (*arena, error) {
	a, rt := newApp(o.Data, o.StaticCache)
	if err := rt.Err(); err != nil {
		return nil, err // fixed routes: a bug
	}
	srv := kahttp.NewServer(rt, o.Config)
	if err := srv.Start(o.Addr); err != nil {
		return nil, err
	}
	ar := &arena{Addr: srv.Addr(), srv: srv, app: a}
	if o.TLSAddr == "" {
		return ar, nil
	}
	if o.Cert == nil {
		_ = ar.Stop(context.Background())
		return nil, errors.New("a TLS address needs a certificate")
	}
	// TCP keep-alive off, as Start's own listener (Server.Serve's doc).
	ln, err := (&net.ListenConfig{KeepAlive: -1}).Listen(context.Background(), "tcp", o.TLSAddr)
	if err != nil {
		_ = ar.Stop(context.Background())
		return nil, err
	}
	ar.TLSAddr = ln.Addr()
	// TLS 1.2 and up, ALPN http/1.1 (and http/1.0): never h2.
	tln := tls.NewListener(ln, kahttp.TLSConfig(*o.Cert))
	ar.done = make(chan error, 1)
	failed := make(chan error, 1)
	ar.Failed = failed
	go func() {
		err := srv.Serve(tln)
		if !errors.Is(err, kahttp.ErrServerClosed) {
			failed <- err
		}
		ar.done <- err
	}()
	return ar, nil
}

// Stop drains both listeners (kahttp.Server.Shutdown), then waits for
// the WebSockets, told to close by then, to end; ctx bounds it all.
func (ar *arena) Stop(ctx context.Context) error {
	err := ar.srv.Shutdown(ctx)
	if ar.done != nil {
		select {
		case <-ar.done:
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		}
	}
	closed := make(chan struct{})
	go func() { ar.app.sockets.Wait(); close(closed) }()
	select {
	case <-closed:
	case <-ctx.Done():
		return errors.Join(err, errors.New("WebSockets still open"))
	}
	return err
}
