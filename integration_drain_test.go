package kahttp_test

import (
	"bufio"
	"context"
	"io"
	"math/rand/v2"
	"strings"
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
