package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// Small clients shared by the fault scenarios.

// getOnce makes one GET on a new connection (Connection: close) and returns
// the status and the time from connect to the end of the response.
func getOnce(addr, path string, timeout time.Duration) (int, time.Duration, error) {
	t0 := time.Now()
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	c.SetDeadline(t0.Add(timeout))
	if _, err := c.Write([]byte("GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nConnection: close\r\n\r\n")); err != nil {
		return 0, 0, err
	}
	rr := respReader{buf: make([]byte, 4096)}
	rr.reset(c)
	status, _, _, err := rr.readResponse(false)
	return status, time.Since(t0), err
}

// getPlainOK is getOnce on /plaintext that wants a 200.
func getPlainOK(addr string, timeout time.Duration) (time.Duration, error) {
	status, d, err := getOnce(addr, "/plaintext", timeout)
	if err == nil && status != 200 {
		err = fmt.Errorf("status %d", status)
	}
	return d, err
}

// keepConn is one keep-alive client connection making GET requests.
type keepConn struct {
	c  net.Conn
	rr respReader
}

func dialKeep(addr string, timeout time.Duration) (*keepConn, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	k := &keepConn{c: c, rr: respReader{buf: make([]byte, 8192)}}
	k.rr.reset(c)
	return k, nil
}

// get makes one request on the connection and returns its status, and
// whether the connection stays open.
func (k *keepConn) get(path string, timeout time.Duration) (status int, keep bool, err error) {
	k.c.SetDeadline(time.Now().Add(timeout))
	if _, err := k.c.Write([]byte("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")); err != nil {
		return 0, false, err
	}
	status, _, keep, err = k.rr.readResponse(false)
	return status, keep, err
}

// resetClose closes c with SO_LINGER 0, so the peer gets a RST.
func resetClose(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// ioKind names how an I/O error ended a connection.
func ioKind(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "closed"
	}
	return "error"
}
