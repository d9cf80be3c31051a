package kahttp_test

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A body that trickles is cut (Config.BodyTimeout, MinBodyRate) on every
// transport: held on a loop (an inline route), streamed from a loop (a
// pooled route), streamed and held on a TLS listener's goroutine.

// trickleTargets serves the four ways a body can be read, each route
// answering the length it read.
type trickleTarget struct {
	name, path string
	tls        bool
}

var trickleTargets = []trickleTarget{
	{"loop held", "/held", false},
	{"loop streamed", "/streamed", false},
	{"tls streamed", "/streamed", true},
	{"tls held", "/held", true},
}

// startTrickle serves /held (inline: the body held whole) and /streamed
// (pooled, read with BodyReader) on the loops and over TLS.
func startTrickle(t *testing.T, cfg kahttp.Config) (loopAddr, tlsAddr string, tlsCfg *tls.Config) {
	rt := kahttp.NewRouter()
	count := kahttp.HandlerFunc(func(w *kahttp.Response, r *kahttp.Request) {
		n, err := io.Copy(io.Discard, r.BodyReader())
		if err != nil {
			w.WriteError(err)
			return
		}
		_, _ = w.WriteString(strconv.FormatInt(n, 10))
	})
	rt.POST("/held", count, kahttp.WithMode(kahttp.Inline))
	rt.POST("/streamed", count, kahttp.WithMode(kahttp.Pooled))
	srv := kahttp.NewServer(rt, cfg)
	require.NoError(t, srv.Start("127.0.0.1:0"))
	cert, pool, _, _ := testCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(tls.NewListener(ln, kahttp.TLSConfig(cert))) }()
	t.Cleanup(func() {
		shutdown(t, srv)
		<-served
	})
	return srv.Addr().String(), ln.Addr().String(), &tls.Config{RootCAs: pool}
}

// trickle sends a Content-Length body of size bytes, step bytes every
// interval, and returns the response and when it came; the body stops
// being sent once a response arrived. Any goroutine: it fails the test
// with assert and returns a nil response.
func trickle(t *testing.T, target trickleTarget, loopAddr, tlsAddr string, tlsCfg *tls.Config,
	size, step int, interval time.Duration) (*response, time.Duration) {
	var conn net.Conn
	var err error
	if target.tls {
		conn, err = tls.Dial("tcp", tlsAddr, tlsCfg)
	} else {
		conn, err = net.Dial("tcp", loopAddr)
	}
	if !assert.NoError(t, err, target.name) {
		return nil, 0
	}
	defer conn.Close()
	start := time.Now()
	_, err = io.WriteString(conn, "POST "+target.path+" HTTP/1.1\r\nHost: x\r\nContent-Length: "+strconv.Itoa(size)+"\r\n\r\n")
	if !assert.NoError(t, err, target.name) {
		return nil, 0
	}
	answered := make(chan struct{})
	go func() {
		piece := []byte(strings.Repeat("t", step))
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for sent := 0; sent < size; sent += step {
			select {
			case <-answered:
				return
			case <-tick.C:
			}
			if _, err := conn.Write(piece[:min(step, size-sent)]); err != nil {
				return
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
	r, err := parseResponse(bufio.NewReader(conn), false)
	close(answered)
	if !assert.NoError(t, err, target.name) {
		return nil, 0
	}
	return r, time.Since(start)
}

// With the defaults, a byte a second is cut after about 20 s (408, close)
// however the body is read, while a client at 10 KiB/s, past the same 20 s,
// is not.
func TestIntegrationTrickleDefaults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 25 s")
	}
	t.Parallel()
	loopAddr, tlsAddr, tlsCfg := startTrickle(t, kahttp.Config{})
	// All at once, on goroutines rather than parallel subtests: -parallel
	// would run two at a time on a 2-core machine.
	var wg sync.WaitGroup
	for _, target := range trickleTargets {
		wg.Add(2)
		go func() {
			defer wg.Done()
			r, took := trickle(t, target, loopAddr, tlsAddr, tlsCfg, 1000, 1, time.Second)
			if r == nil {
				return
			}
			assert.Equal(t, 408, r.Status, target.name)
			assert.Equal(t, []string{"close"}, r.get("Connection"), target.name)
			assert.Greater(t, took, 19*time.Second, target.name)
			assert.Less(t, took, 30*time.Second, "%s: cut within 30 s", target.name)
			t.Logf("%s, 1 B/s: 408 after %v", target.name, took.Round(100*time.Millisecond))
		}()
		go func() {
			defer wg.Done()
			const size = 25 * 10 << 10 // 25 s of it
			r, took := trickle(t, target, loopAddr, tlsAddr, tlsCfg, size, 1<<10, 100*time.Millisecond)
			if r == nil {
				return
			}
			assert.Equal(t, 200, r.Status, "%s: a slow but real client is never cut", target.name)
			assert.Equal(t, strconv.Itoa(size), string(r.Body), target.name)
			t.Logf("%s, 10 KiB/s: 200 after %v", target.name, took.Round(100*time.Millisecond))
		}()
	}
	wg.Wait()
}

// The rate is the config's: a second of BodyTimeout, then 1000 B/s. A
// client at 200 B/s is cut after a little over a second; one at 5000 B/s
// goes through.
func TestIntegrationTrickleConfigured(t *testing.T) {
	t.Parallel()
	loopAddr, tlsAddr, tlsCfg := startTrickle(t, kahttp.Config{BodyTimeout: time.Second, MinBodyRate: 1000})
	var wg sync.WaitGroup
	for _, target := range trickleTargets {
		wg.Add(2)
		go func() {
			defer wg.Done()
			r, took := trickle(t, target, loopAddr, tlsAddr, tlsCfg, 2000, 20, 100*time.Millisecond)
			if r == nil {
				return
			}
			assert.Equal(t, 408, r.Status, "%s: 200 B/s", target.name)
			assert.Less(t, took, 3*time.Second, target.name)
		}()
		go func() {
			defer wg.Done()
			r, _ := trickle(t, target, loopAddr, tlsAddr, tlsCfg, 10000, 500, 100*time.Millisecond)
			if r == nil {
				return
			}
			assert.Equal(t, 200, r.Status, "%s: 5000 B/s", target.name)
			assert.Equal(t, "10000", string(r.Body), target.name)
		}()
	}
	wg.Wait()
}
