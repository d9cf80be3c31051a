package kahttp_test

import (
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kahttp/kahttp"
	"github.com/kahttp/kahttp/internal/tcpinfo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestIntegrationCloseSendsFINWithAnswer: an answer that ends its
// connection reaches the client in one segment with the FIN, in both modes
// and whichever way the connection ends. The client's segments in: the
// SYN-ACK, the request's ACK (unless it rides on the answer), the answer
// with the FIN; a FIN of its own would be a fourth.
func TestIntegrationCloseSendsFINWithAnswer(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, req string
		status    int
	}{
		{"connection close", "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200},
		{"HTTP/1.0", "GET /a HTTP/1.0\r\n\r\n", 200},
		{"refused", "GET /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
	}
	forModes(t, func(t *testing.T, mode kahttp.Mode) {
		_, addr := startServer(t, kahttp.Config{Mode: mode}, echoPath)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				nc, err := net.DialTimeout("tcp", addr, ioTimeout)
				require.NoError(t, err)
				defer nc.Close()
				c := nc.(*net.TCPConn)
				require.NoError(t, c.SetDeadline(time.Now().Add(ioTimeout)))
				_, err = io.WriteString(c, tc.req)
				require.NoError(t, err)
				got, err := io.ReadAll(c)
				require.NoError(t, err, "the answer ends with a clean close")
				require.True(t, strings.HasPrefix(string(got), "HTTP/1.1 "+strconv.Itoa(tc.status)+" "), "%q", got)
				assert.Contains(t, string(got), "Connection: close\r\n")
				assert.LessOrEqual(t, segmentsIn(t, c), uint32(3))
			})
		}
	})
}

// segmentsIn is how many TCP segments c has received.
func segmentsIn(t *testing.T, c *net.TCPConn) uint32 {
	t.Helper()
	n, err := tcpinfo.SegmentsIn(c)
	require.NoError(t, err)
	return n
}
