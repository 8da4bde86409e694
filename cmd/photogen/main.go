// Command photogen is the one binary: migrate, api, worker, all, fake-replicate and demo.
// main only calls run and exits; run wires everything from the arguments and environment.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "photogen:", err)
		os.Exit(1)
	}
}
