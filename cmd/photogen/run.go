package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

const usage = `usage: photogen <command> [flags]

commands:
  migrate          apply River's and photogen's migrations (idempotent, safe concurrently)
  api              serve the HTTP API; inserts generation jobs, never works them
  worker           work generation jobs
  all              api and worker in one process (starts a fake Replicate when
                   REPLICATE_API_TOKEN is unset)
  fake-replicate   serve a fake of Replicate's API (--addr, --latency, --jitter)
  demo             drive the whole flow against a running server
  generation show|retry|cancel <subscriber-id or email>
                   inspect a generation, re-enqueue a failed one (it continues from
                   the ledger), or stop one (in-flight predictions are cancelled)
  queue stats      jobs by state and the age of the oldest available job

Configuration is by environment; see docs/operations.md.
`

// run is the program: it dispatches the subcommand and returns its error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cmd, rest := args[0], args[1:]
	if cmd == "demo" {
		return runDemo(ctx, rest, getenv, stdout)
	}
	if cmd == "fake-replicate" {
		return runFake(ctx, rest, stdout, newLogger(getenv, stderr))
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	logger := newLogger(getenv, stderr)
	switch cmd {
	case "migrate":
		return runMigrate(ctx, cfg, logger)
	case "api", "worker", "all":
		return serve(ctx, cmd, cfg, stdout, logger)
	case "generation":
		return runGeneration(ctx, rest, cfg, stdout, logger)
	case "queue":
		return runQueue(ctx, rest, cfg, stdout)
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func newLogger(getenv func(string) string, w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	if err := level.UnmarshalText([]byte(strings.ToUpper(getenv("LOG_LEVEL")))); err != nil {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

var errUsage = errors.New("bad usage")
