// Command hello is kahttp's reference app: the routes DESIGN.md lists, used
// by the README, the benchmarks and the acceptance checks.
//
//	go run ./examples/hello [-addr :8080] [-idle 75s] [-max-requests 0]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kahttp/kahttp"
)

func main() {
	addr := flag.String("addr", ":8080", "address to listen on")
	idle := flag.Duration("idle", 0, "idle timeout of keep-alive connections (0: the default, 75s)")
	maxReq := flag.Int("max-requests", 0, "requests per connection before it closes (0: no limit)")
	inline := flag.Bool("inline", false, "run every handler on the event loop (no worker pool)")
	flag.Parse()

	cfg := kahttp.Config{IdleTimeout: *idle, MaxRequestsPerConn: *maxReq}
	if *inline {
		cfg.Mode = kahttp.Inline
	}
	srv := kahttp.NewServer(NewApp(), cfg)
	if err := srv.Start(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "hello:", err)
		os.Exit(1)
	}
	fmt.Printf("listening on %s\n", srv.Addr())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "hello: shutdown:", err)
		os.Exit(1)
	}
}
