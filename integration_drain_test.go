package kahttp_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A kept-alive connection busy with back-to-back requests when Shutdown
// begins never meets the idle-close race: the server does not close it
// between two of its requests (a request on its way would cross the close
// and its client would see a reset); it answers the next one with
// Connection: close (Config.DrainGrace). On the event loops and over TLS,
// many times, the drain at a random moment between two requests.
func TestIntegrationDrainNoIdleCloseRace(t *testing.T) {
	t.Parallel()
	for _, overTLS := range []bool{false, true} {
		name := map[bool]string{false: "loops", true: "tls"}[overTLS]
		t.Run(name, func(t *testing.T) {
			for trial := range 15 {
				drainOnce(t, overTLS, trial)
			}
		})
	}
}

func drainOnce(t *testing.T, overTLS bool, trial int) {
	t.Helper()
	srv := kahttp.NewServer(kahttp.HandlerFunc(echoPath), kahttp.Config{})
	conn, served := serveAndDial(t, srv, overTLS)
	defer func() { <-served }()
	defer conn.Close()

	type outcome struct {
		answered  int
		closeSeen bool
		err       error
	}
	done := make(chan outcome, 1)
	go func() {
		br := bufio.NewReader(conn)
		var o outcome
		for o.answered < 10_000 {
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(conn, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
				o.err = err // a request sent into a closed connection
				break
			}
			r, err := parseResponse(br, false)
			if err != nil {
				o.err = err // sent, and no answer: the race
				break
			}
			o.answered++
			if strings.EqualFold(r.header(t, "Connection"), "close") {
				o.closeSeen = true
				break
			}
			time.Sleep(time.Duration(rand.IntN(1500)) * time.Microsecond)
		}
		done <- o
	}()
	time.Sleep(time.Duration(20+rand.IntN(30)) * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, srv.Shutdown(ctx))
	o := <-done
	assert.NoError(t, o.err, "trial %d: after %d answers", trial, o.answered)
	assert.True(t, o.closeSeen, "trial %d: the last answer says Connection: close", trial)
}

// A connection whose connect returned before Shutdown began is answered,
// even if it was still in the listener's accept queue then (a close
// would reset it: its client has sent a request on a connection that
// succeeded). A burst of connections meets Shutdown, with requests on
// kept-alive connections loading the loops beside them; every connection
// that was up before Shutdown gets its whole answer, byte for byte. Those
// that connected later may be refused or reset: their clients know.
func TestIntegrationShutdownAnswersQueuedConnections(t *testing.T) {
	t.Parallel()
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		for trial := range 4 {
			shutdownBurst(t, mode, trial)
		}
	})
}

func shutdownBurst(t *testing.T, mode kahttp.Mode, trial int) {
	srv := kahttp.NewServer(kahttp.HandlerFunc(echoPath), kahttp.Config{Mode: mode, Loops: 1})
	require.NoError(t, srv.Start("127.0.0.1:0"))
	addr := srv.Addr().String()

	// Load: kept-alive clients with back-to-back requests until the drain ends them.
	var load sync.WaitGroup
	for i := range 4 {
		load.Add(1)
		go func() {
			defer load.Done()
			c, err := net.DialTimeout("tcp", addr, ioTimeout)
			if err != nil {
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(ioTimeout))
			br := bufio.NewReader(c)
			for j := 0; j < 10000; j++ {
				if _, err := fmt.Fprintf(c, "GET /load%d-%d HTTP/1.1\r\nHost: x\r\n\r\n", i, j); err != nil {
					return
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					return
				}
				body, err := io.ReadAll(resp.Body)
				if err != nil {
					return
				}
				assert.Equal(t, fmt.Sprintf("GET /load%d-%d", i, j), string(body))
				if resp.Close {
					return
				}
			}
		}()
	}

	const burst = 64
	type result struct {
		connected time.Time // zero: the connect failed
		got       string
		err       error
	}
	results := make([]result, burst)
	var up atomic.Int32
	var clients sync.WaitGroup
	started := make(chan struct{})
	for i := range burst {
		clients.Add(1)
		go func() {
			defer clients.Done()
			<-started
			c, err := net.DialTimeout("tcp", addr, ioTimeout)
			if err != nil {
				return
			}
			defer c.Close()
			results[i].connected = time.Now()
			up.Add(1)
			_ = c.SetDeadline(time.Now().Add(ioTimeout))
			if _, err := fmt.Fprintf(c, "GET /q%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", i); err != nil {
				results[i].err = err
				return
			}
			b, err := io.ReadAll(c)
			results[i].got, results[i].err = string(b), err
		}()
	}
	close(started)
	// Shutdown at a different point of the burst each trial.
	for deadline := time.Now().Add(ioTimeout); up.Load() < int32(8+trial*12) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Microsecond)
	}
	begun := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, srv.Shutdown(ctx))
	clients.Wait()
	load.Wait()

	before := 0
	for i, r := range results {
		if r.connected.IsZero() || !r.connected.Before(begun) {
			continue // connected once Shutdown had begun, or refused
		}
		before++
		if assert.NoError(t, r.err, "trial %d, connection %d: up before Shutdown, then cut", trial, i) {
			want := fmt.Sprintf("GET /q%d", i)
			assert.True(t, strings.HasPrefix(r.got, "HTTP/1.1 200 OK\r\n") && strings.HasSuffix(r.got, "\r\n\r\n"+want) &&
				strings.Contains(r.got, "Content-Length: "+strconv.Itoa(len(want))+"\r\n"),
				"trial %d, connection %d: %q", trial, i, r.got)
		}
	}
	t.Logf("trial %d: %d of %d connections were up before Shutdown", trial, before, burst)
}
