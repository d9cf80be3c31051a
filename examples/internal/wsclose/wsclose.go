// Package wsclose ends the examples' WebSockets when their server shuts
// down: a close frame with 1001 (going away), so a client learns the
// server is going (and may reconnect to the next one) instead of seeing
// its connection drop.
package wsclose

import (
	"time"

	"github.com/gorilla/websocket"
)

// OnShutdown sends c a close frame with 1001 when shutdown is closed
// (kahttp.ShuttingDown of the request's context), then gives the client a
// second to answer it: the handler's read loop gets the client's close
// frame, or a timeout, and ends. Call stop when the handler returns.
func OnShutdown(c *websocket.Conn, shutdown <-chan struct{}) (stop func()) {
	done := make(chan struct{})
	go func() {
		select {
		case <-shutdown:
			msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down")
			_ = c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
			_ = c.SetReadDeadline(time.Now().Add(time.Second))
		case <-done:
		}
	}()
	return func() { close(done) }
}
