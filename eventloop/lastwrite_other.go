//go:build !linux

package eventloop

// writeLast writes a closing connection's last bytes. Elsewhere they go the
// usual way (MSG_MORE is Linux's), and the FIN after them. Loop only.
func (c *Conn) writeLast(b []byte) error {
	_, err := c.gc.Write(b)
	return err
}
