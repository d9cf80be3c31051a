//go:build !linux

package eventloop

// Elsewhere the last bytes go the usual way, and the FIN after them.
func sendLast(int, []byte) (int, error) { return 0, nil }
func shutWrite(int)                     {}

// finWithLast: not here (MSG_MORE is Linux's).
const finWithLast = false
