// Package restart gives the examples a listening socket that survives a
// restart: with it on, SIGHUP starts a new process of the same binary that
// inherits the socket (cloudflare/tableflip), and this one drains once the
// new one serves. Clients are never refused: the socket never closes.
package restart

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/cloudflare/tableflip"
)

// Socket is a process's listening socket, and its place in a restart.
type Socket struct {
	upg *tableflip.Upgrader // nil: restarts off
}

// New prepares the socket: with on, restartable on SIGHUP (pidFile, if
// set, holds the serving process's pid); without, a plain one.
func New(on bool, pidFile string) (*Socket, error) {
	if !on {
		return &Socket{}, nil
	}
	upg, err := tableflip.New(tableflip.Options{PIDFile: pidFile})
	if err != nil {
		return nil, err
	}
	go func() {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		for range hup {
			if err := upg.Upgrade(); err != nil {
				fmt.Fprintln(os.Stderr, "restart:", err)
			}
		}
	}()
	return &Socket{upg: upg}, nil
}

// Listen is net.Listen, or the socket the process before this one handed
// over. TCP keep-alive stays off on what it accepts (as kahttp's own
// listener): the server's idle timeout closes idle connections, and Go's
// default would cost four setsockopt calls per connection. A socket
// inherited from the process before comes back through net.FileListener,
// which always has Go's default.
func (s *Socket) Listen(network, addr string) (net.Listener, error) {
	if s.upg == nil {
		return listen(network, addr)
	}
	return s.upg.ListenWithCallback(network, addr, listen)
}

func listen(network, addr string) (net.Listener, error) {
	lc := net.ListenConfig{KeepAlive: -1}
	return lc.Listen(context.Background(), network, addr)
}

// Ready says this process serves: the one before it, if any, drains now.
// Replaced is closed once a newer process serves (nil without restarts).
func (s *Socket) Ready() (replaced <-chan struct{}, err error) {
	if s.upg == nil {
		return nil, nil
	}
	if err := s.upg.Ready(); err != nil {
		return nil, err
	}
	return s.upg.Exit(), nil
}

// Stop ends restarts (a pending one is cancelled).
func (s *Socket) Stop() {
	if s.upg != nil {
		s.upg.Stop()
	}
}
