// Command api is a small JSON REST service on kahttp: an in-memory store
// of items under /api, with access logs and panic recovery. See README.md.
//
//	go run ./examples/api [-addr :8080]
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/kahttp/kahttp"
)

func main() {
	addr := flag.String("addr", ":8080", "address to listen on")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	srv := kahttp.NewServer(NewApp(logger), kahttp.Config{Logger: logger})
	if err := srv.Start(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
	fmt.Printf("listening on %s\n", srv.Addr())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "api: shutdown:", err)
		os.Exit(1)
	}
}
