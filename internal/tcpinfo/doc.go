// Package tcpinfo reads a socket's TCP_INFO on Linux: the length of a
// listener's accept queue (eventloop's Shutdown path), the segments a
// connection received (the tests of the FIN that rides with a closing
// answer). It has no code elsewhere.
package tcpinfo
