// Command photogen is the one binary: migrate, api, worker, all, the operator commands,
// fake-replicate and demo. main only calls run and exits; run builds the command line
// (cli.go), and each command wires the packages that do the work.
package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err))
}

// exitCode is 0 for success, 2 for a usage error (bad flag, unknown command, wrong
// arguments) and 1 for anything else.
func exitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	return 1
}
