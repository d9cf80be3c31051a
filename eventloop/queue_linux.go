package eventloop

import (
	"syscall"

	"github.com/kahttp/kahttp/internal/tcpinfo"
)

// acceptQueue is the number of connections in the accept queue of the
// listener behind rc (tcpinfo.AcceptQueue); 0 for a closed one.
func acceptQueue(rc syscall.RawConn) int { return tcpinfo.AcceptQueue(rc) }
