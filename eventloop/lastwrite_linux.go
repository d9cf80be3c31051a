package eventloop

import "golang.org/x/sys/unix"

// writeLast writes b, a closing connection's last bytes, so that the FIN
// leaves in their last segment, not in a packet of its own after them: a
// packet less per closing response, and on loopback the server also
// handles its receiving (a new connection per request: 10–16% less server
// CPU, bench/compare.sh shortlived/c32). They are sent held back (MSG_MORE),
// then the write side is shut, which sends them with the FIN before the
// close: a close with input left unread sends an RST, and would drop
// bytes still held. What the socket does not take now goes the usual way,
// and the FIN after it. Loop only, with nothing queued in gnet.
func (c *Conn) writeLast(b []byte) error {
	n, err := unix.SendmsgN(int(c.fd), b, nil, nil, unix.MSG_MORE|unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT)
	if err == nil && n == len(b) {
		_ = unix.Shutdown(int(c.fd), unix.SHUT_WR)
		return nil
	}
	_, err = c.gc.Write(b[max(n, 0):]) // gnet queues the rest, or closes c on an error
	return err
}
