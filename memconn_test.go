package kahttp

import (
	"net"
	"testing"
	"time"
)

// memServer is a session on a memConn, driven as the event loop would drive it.
type memServer struct {
	s *session
	c *memConn
}

func newMemServer(h Handler, cfg Config) *memServer {
	srv := NewServer(h, cfg)
	c := newMemConn()
	return &memServer{s: newLoopSession(srv, c, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1234}), c: c}
}

// feed hands in to the session and returns the unconsumed rest. For pooled
// handlers it waits (bounded) for each to finish, as the loop would be woken.
func (m *memServer) feed(t testing.TB, in []byte) []byte {
	deadline := time.After(5 * time.Second)
	for {
		n, _ := m.s.traffic(in)
		in = in[n:]
		m.c.afterTraffic()
		if m.s.t == nil || m.c.closing {
			return in
		}
		select {
		case <-m.c.woken:
		case <-deadline:
			t.Fatal("pooled handler did not finish")
		}
	}
}

// traffic is the loop's call with in: how many bytes were consumed.
func (m *memServer) traffic(in []byte) int {
	n, _ := m.s.traffic(in)
	return n
}
