// This file wires the worker side: the provider (a fake one in-process for `all`
// without a token), the generation worker and the River client that runs it, and
// River UI for the api.

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"riverqueue.com/riverui"

	"photogen/internal/fakereplicate"
	"photogen/metrics"
	"photogen/photos"
	"photogen/provider"
	"photogen/store"
	"photogen/tracing"
	"photogen/worker"
)

// replicateConfig is the provider's configuration: cfg's, or, for `all` without a
// token, an in-process fake Replicate's (a component of g).
func replicateConfig(ctx context.Context, g *group, mode string, cfg config, logger *slog.Logger) (provider.ReplicateConfig, error) {
	rc := cfg.Replicate
	if rc.Token != "" || mode != "all" {
		return rc, nil
	}
	base, err := startFake(ctx, g, logger)
	if err != nil {
		return rc, err
	}
	rc.Token, rc.BaseURL = "fake", base
	logger.WarnContext(ctx, "REPLICATE_API_TOKEN is not set: using an in-process fake Replicate", "base_url", base)
	return rc, nil
}

// newWorkerClient builds the River client that works jobs, traced with tr, and the
// generation worker it runs (whose Wakes runs beside it).
func newWorkerClient(cfg config, rc provider.ReplicateConfig, st *store.Store, bucket photos.Bucket, m *metrics.Metrics, tr *tracing.Tracing, logger *slog.Logger) (*river.Client[pgx.Tx], *worker.GenerateWorker, error) {
	if rc.Token == "" {
		return nil, nil, errors.New("REPLICATE_API_TOKEN is required (only `photogen all` starts a fake Replicate without it)")
	}
	replicate, err := provider.NewReplicate(rc)
	if err != nil {
		return nil, nil, err
	}
	keeper := &photos.Keeper{Bucket: bucket, MaxBytes: cfg.Photos.MaxBytes, Transport: tr.Transport("download", nil)}
	gw, err := worker.NewGenerateWorker(st, provider.Observe(replicate, m), keeper, cfg.Worker, logger)
	if err != nil {
		return nil, nil, err
	}
	gw.Observe(m)
	gw.Trace(tr.Provider())
	client, err := worker.NewClient(st.Pool(), gw, riverLogger(logger), tr.RiverMiddleware()...)
	return client, gw, err
}

// startFake serves a fake Replicate on a free loopback port. It is a component of its
// own, started before River and stopped after it: the worker's soft stop still polls it.
func startFake(_ context.Context, g *group, logger *slog.Logger) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listen for fake replicate: %w", err)
	}
	fake := fakereplicate.New(fakereplicate.Config{Latency: fakereplicate.DefaultLatency, Jitter: fakereplicate.DefaultJitter, Seed: time.Now().UnixNano()})
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 5 * time.Second}
	g.add(component{
		name: "fake replicate",
		start: func(_ context.Context, failed chan<- error) error {
			go func() {
				if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
					failed <- fmt.Errorf("fake replicate: %w", err)
				}
			}()
			return nil
		},
		stop: func(ctx context.Context) error {
			defer fake.Close()
			return srv.Shutdown(ctx)
		},
	})
	return "http://" + ln.Addr().String() + "/v1", nil
}

// riverUI returns River UI's handler for the admin routes, started.
func riverUI(ctx context.Context, client *river.Client[pgx.Tx], logger *slog.Logger) (http.Handler, error) {
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(client, nil),
		Logger:    riverLogger(logger),
		Prefix:    "/admin/river",
	})
	if err != nil {
		return nil, fmt.Errorf("river ui: %w", err)
	}
	if err := h.Start(ctx); err != nil {
		return nil, fmt.Errorf("start river ui: %w", err)
	}
	return h, nil
}
