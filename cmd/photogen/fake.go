// This file is `photogen fake-replicate`: the fake provider as a server of its own.

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"photogen/internal/fakereplicate"

	"github.com/spf13/cobra"
)

func fakeCmd(e env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "fake-replicate",
		Short: "Serve a fake of Replicate's prediction API (for development and tests)",
		Args:  exactArgs(0),
	}
	fs := cmd.Flags()
	addr := fs.String("addr", "127.0.0.1:8090", "listen address")
	var cfg fakereplicate.Config
	fs.DurationVar(&cfg.Latency, "latency", fakereplicate.DefaultLatency, "fixed time from create to a final status")
	fs.DurationVar(&cfg.Jitter, "jitter", fakereplicate.DefaultJitter, "extra random latency, uniform in [0, jitter)")
	fs.Int64Var(&cfg.Seed, "seed", 1, "seed for latency and fault draws")
	fs.StringVar(&cfg.Token, "token", "", "require this API token (any token when empty)")
	fs.IntVar(&cfg.CreateLimitPerMinute, "create-limit", 0, "creates a minute per token before 429 (Replicate: 600; 0: unlimited)")
	fs.IntVar(&cfg.OtherLimitPerMinute, "other-limit", 0, "other API calls a minute per token before 429 (Replicate: 3000; 0: unlimited)")
	fs.Float64Var(&cfg.WebhookDropRate, "webhook-drop-rate", 0, "share of completed webhooks never sent")
	fs.Float64Var(&cfg.WebhookDuplicateRate, "webhook-duplicate-rate", 0, "share of completed webhooks sent twice")
	fs.Float64Var(&cfg.RateLimitRate, "rate-limit-rate", 0, "share of creates answered 429")
	fs.DurationVar(&cfg.RetryAfter, "retry-after", time.Second, "Retry-After of a 429")
	fs.Float64Var(&cfg.ServerErrorRate, "server-error-rate", 0, "share of calls answered 5xx")
	fs.Float64Var(&cfg.FailRate, "fail-rate", 0, "share of predictions that end failed")
	fs.Float64Var(&cfg.HangRate, "hang-rate", 0, "share of predictions that never finish")
	fs.DurationVar(&cfg.OutputTTL, "output-ttl", 0, "remove outputs this long after a prediction ends (0: keep)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return runFake(cmd.Context(), *addr, cfg, slog.New(slog.NewJSONHandler(e.stderr, nil)))
	}
	return cmd
}

// runFake serves the fake Replicate on addr until ctx ends.
func runFake(ctx context.Context, addr string, cfg fakereplicate.Config, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	fake := fakereplicate.New(cfg)
	defer fake.Close()
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.InfoContext(ctx, "fake replicate listening", "base_url", "http://"+ln.Addr().String()+"/v1")
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	}
}
