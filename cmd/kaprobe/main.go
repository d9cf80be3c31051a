// Command kaprobe finds out how an HTTP/1.x server really handles
// keep-alive: HTTP/1.1 persistence, HTTP/1.0 keep-alive, the idle timeout
// and request limit it enforces (against what it advertises), pipelining,
// a stray CRLF after a POST body, and response framing. It talks raw TCP to
// see the exact bytes.
//
//	kaprobe [flags] http://host[:port]/path
//
// Exit status: 0 when the probes ran (whatever the verdicts), 1 when the
// target cannot be reached, 2 for bad arguments.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kahttp/kahttp/internal/probe"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// seconds is a flag that takes seconds ("20", "0.5") or a Go duration ("1m", "500ms").
type seconds struct{ d *time.Duration }

func (s seconds) String() string {
	if s.d == nil {
		return ""
	}
	return strconv.FormatFloat(s.d.Seconds(), 'f', -1, 64)
}

func (s seconds) Set(v string) error {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f < 0 {
			return errors.New("must not be negative")
		}
		*s.d = time.Duration(f * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return errors.New("want seconds (20, 0.5) or a duration (1m, 500ms)")
	}
	if d < 0 {
		return errors.New("must not be negative")
	}
	*s.d = d
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kaprobe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := probe.Options{
		MaxIdle:     probe.DefaultMaxIdle,
		MaxRequests: probe.DefaultMaxRequests,
		Timeout:     probe.DefaultTimeout,
		DialTimeout: probe.DefaultDialTimeout,
		CloseWait:   probe.DefaultCloseWait,
	}
	jsonOut := fs.Bool("json", false, "print the report as JSON instead of a table")
	fs.Var(seconds{&o.MaxIdle}, "max-idle", "how long to wait for the server to close an idle connection, in seconds")
	fs.IntVar(&o.MaxRequests, "max-requests", o.MaxRequests, "most requests to send on one connection when measuring the server's limit")
	fs.StringVar(&o.PathLarge, "path-large", "", "path[?query] of a large response of unknown length, to see the framing fallback (e.g. /stream?size=100000)")
	fs.StringVar(&o.PathPost, "path-post", "", "path the POST + CRLF probe posts to (default: the URL's path)")
	fs.Var(seconds{&o.Timeout}, "timeout", "time limit of each probe (and of each request in the long ones), in seconds")
	fs.Var(seconds{&o.DialTimeout}, "dial-timeout", "TCP connect timeout, in seconds")
	fs.Var(seconds{&o.CloseWait}, "close-wait", "how long to wait for a close the server owes (HTTP/1.0 without keep-alive), in seconds")
	only := fs.String("probes", "", "comma-separated probe ids to run (default all): "+strings.Join(probe.ProbeIDs(), ","))
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: kaprobe [flags] http://host[:port]/path\n\n"+
			"Probes how an HTTP/1.x server handles keep-alive and prints one row per probe.\n"+
			"Exit status: 0 when the probes ran, 1 when the target is unreachable, 2 for bad arguments.\n\nflags:\n")
		fs.PrintDefaults()
	}
	// Accept flags after the URL too: kaprobe http://x/ -json.
	var urls []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		urls = append(urls, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(urls) != 1 {
		fmt.Fprintf(stderr, "kaprobe: want exactly one http:// URL, got %d\n", len(urls))
		fs.Usage()
		return 2
	}
	o.URL = urls[0]
	if *only != "" {
		o.Probes = strings.Split(*only, ",")
	}
	rep, err := probe.Run(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "kaprobe: %v\n", err)
		if errors.Is(err, probe.ErrUsage) {
			return 2
		}
		return 1
	}
	if *jsonOut {
		err = probe.WriteJSON(stdout, rep)
	} else {
		err = probe.WriteTable(stdout, rep)
	}
	if err != nil {
		fmt.Fprintf(stderr, "kaprobe: %v\n", err)
		return 1
	}
	return 0
}
