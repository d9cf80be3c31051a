package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// gnet-floor is not an HTTP server: it is the floor of the transport that
// kahttp runs on. It counts the complete request heads in what it read and
// writes that many copies of a pre-built answer in one write, with no
// parsing, routing or header writing per request. kahttp's CPU per request
// less the floor's is what kahttp's HTTP costs over gnet itself.
func init() {
	register(serverDef{
		Name:   "gnet-floor",
		Desc:   "gnet floor (fixed answer, no HTTP): raw gnet/v2 v2.10.0 loops, one per CPU, that count request heads and write as many pre-built GET /plaintext answers; the transport's floor, not an HTTP server",
		Label:  "gnet floor (fixed answer, no HTTP)",
		Order:  50,
		Routes: []string{"GET /plaintext"},
		Run:    runGnetFloor,
	})
}

// The three answers, each the bytes kahttp sends for GET /plaintext, so that
// the floor writes as much as kahttp does.
const (
	floorPlain     = iota // HTTP/1.1 keep-alive
	floorKeepAlive        // HTTP/1.0 with Connection: Keep-Alive
	floorClose            // Connection: close, or HTTP/1.0 without keep-alive
)

// floorBatch copies of each answer are pre-built back to back, so that a
// pipelined batch of up to that many requests is answered by one slice.
const floorBatch = 64

// floorMaxHead closes a connection whose unfinished head grows past it.
const floorMaxHead = 64 << 10

var (
	crlf2       = []byte("\r\n\r\n")
	http10Line  = []byte("HTTP/1.0\r\n")
	connClose   = []byte("Connection: close")
	keepAliveTC = []byte("Keep-Alive")
	keepAliveLC = []byte("keep-alive")
)

type floorAnswers struct {
	size   [3]int    // one answer's length
	copies [3][]byte // floorBatch answers back to back
}

func buildFloorAnswers(now time.Time) *floorAnswers {
	a := &floorAnswers{}
	extra := [3]string{"", "Connection: keep-alive\r\nKeep-Alive: timeout=75\r\n", "Connection: close\r\n"}
	for k, x := range extra {
		one := "HTTP/1.1 200 OK\r\nServer: kahttp\r\nContent-Type: " + ctPlain + "\r\nDate: " +
			now.UTC().Format(http.TimeFormat) + "\r\nContent-Length: 13\r\n" + x + "\r\n" + helloBody
		a.size[k] = len(one)
		a.copies[k] = bytes.Repeat([]byte(one), floorBatch)
	}
	return a
}

// write sends n answers of kind k, floorBatch at a time.
func (a *floorAnswers) write(c gnet.Conn, k, n int) {
	for n > 0 {
		m := min(n, floorBatch)
		c.Write(a.copies[k][:m*a.size[k]])
		n -= m
	}
}

// floorKind picks the answer for one request head: a look at the end of the
// request line, and a search of the head for Connection: close or, in
// HTTP/1.0, keep-alive.
func floorKind(head []byte) int {
	line := head[:bytes.IndexByte(head, '\n')+1]
	if bytes.HasSuffix(line, http10Line) {
		if bytes.Contains(head, keepAliveTC) || bytes.Contains(head, keepAliveLC) {
			return floorKeepAlive
		}
		return floorClose
	}
	if bytes.Contains(head, connClose) {
		return floorClose
	}
	return floorPlain
}

type gnetFloor struct {
	gnet.BuiltinEventEngine
	answers atomic.Pointer[floorAnswers]
	eng     gnet.Engine
	booted  chan struct{}
}

func (f *gnetFloor) OnBoot(eng gnet.Engine) gnet.Action {
	f.eng = eng
	close(f.booted)
	return gnet.None
}

func (f *gnetFloor) OnTraffic(c gnet.Conn) gnet.Action {
	buf, _ := c.Peek(-1)
	a := f.answers.Load()
	kind, n, used := floorPlain, 0, 0
	for {
		i := bytes.Index(buf[used:], crlf2)
		if i < 0 {
			break
		}
		k := floorKind(buf[used : used+i+4])
		used += i + 4
		if k != kind && n > 0 {
			a.write(c, kind, n)
			n = 0
		}
		kind = k
		n++
		if k == floorClose {
			break
		}
	}
	if n > 0 {
		a.write(c, kind, n)
	}
	if kind == floorClose {
		return gnet.Close // gnet flushes what is pending before it closes
	}
	if used > 0 {
		c.Discard(used) // the unfinished tail stays for the next read
	}
	if c.InboundBuffered() > floorMaxHead {
		return gnet.Close
	}
	return gnet.None
}

// refresh rebuilds the answers with a new Date once a second, off the
// loops, until done is closed.
func (f *gnetFloor) refresh(done <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			f.answers.Store(buildFloorAnswers(now))
		case <-done:
			return
		}
	}
}

// runGnetFloor serves with as many gnet loops as kahttp runs (one per
// usable CPU, eventloop.Options.Loops' default); on stop it drains with
// Engine.Stop.
func runGnetFloor(addr string, stop <-chan struct{}) error {
	f := &gnetFloor{booted: make(chan struct{})}
	f.answers.Store(buildFloorAnswers(time.Now()))
	done := make(chan struct{})
	defer close(done)
	go f.refresh(done)
	errc := make(chan error, 1)
	go func() {
		errc <- gnet.Run(f, "tcp://"+addr,
			gnet.WithMulticore(true),
			gnet.WithNumEventLoop(runtime.NumCPU()),
			gnet.WithLogger(floorLog{}))
	}()
	select {
	case err := <-errc:
		if err == nil {
			err = errors.New("gnet stopped before it booted")
		}
		return err
	case <-f.booted:
	}
	select {
	case err := <-errc:
		return err // the engine stopped by itself
	case <-stop:
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := f.eng.Stop(ctx); err != nil {
		return err
	}
	return <-errc
}

// floorLog keeps gnet's start-up chatter off stdout, where the orchestrator
// reads the server's lines; warnings and errors go to stderr.
type floorLog struct{}

func (floorLog) Debugf(string, ...any) {}
func (floorLog) Infof(string, ...any)  {}
func (floorLog) Warnf(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "gnet-floor: "+f+"\n", a...)
}
func (floorLog) Errorf(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "gnet-floor: "+f+"\n", a...)
}
func (floorLog) Fatalf(f string, a ...any) {
	fmt.Fprintf(os.Stderr, "gnet-floor: "+f+"\n", a...)
}
