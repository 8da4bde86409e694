// This file wires the worker side: the provider (a fake one in-process for `all`
// without a token), the generation worker and the River client that runs it.

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

	"photogen/internal/fakereplicate"
	"photogen/metrics"
	"photogen/photos"
	"photogen/provider"
	"photogen/store"
	"photogen/tracing"
	"photogen/worker"
)

// newWorkerClient builds the River client that works jobs, traced with tr.
func newWorkerClient(cfg config, st *store.Store, bucket photos.Bucket, m *metrics.Metrics, tr *tracing.Tracing, logger *slog.Logger) (*river.Client[pgx.Tx], error) {
	rc := cfg.Replicate
	if rc.Token == "" {
		return nil, errors.New("REPLICATE_API_TOKEN is required (only `photogen all` starts a fake Replicate without it)")
	}
	replicate, err := provider.NewReplicate(rc)
	if err != nil {
		return nil, err
	}
	keeper := &photos.Keeper{Bucket: bucket, MaxBytes: cfg.Photos.MaxBytes, Transport: tr.Transport("download", nil)}
	gw, err := worker.NewGenerateWorker(st, provider.Observe(replicate, m), keeper, cfg.Worker, logger)
	if err != nil {
		return nil, err
	}
	gw.Observe(m)
	gw.Trace(tr.Provider())
	return worker.NewClient(st.Pool(), gw, riverLogger(logger), tr.RiverMiddleware()...)
}

// newFakeReplicate returns a fake Replicate listening on a free loopback port, and its
// base URL. It is a component of its own, serving once started, started before River
// and stopped after it: the worker's soft stop still polls it.
func newFakeReplicate() (component, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return component{}, "", fmt.Errorf("listen for fake replicate: %w", err)
	}
	fake := fakereplicate.New(fakereplicate.Config{Latency: fakereplicate.DefaultLatency, Jitter: fakereplicate.DefaultJitter, Seed: time.Now().UnixNano()})
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 5 * time.Second}
	c := component{
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
	}
	return c, "http://" + ln.Addr().String() + "/v1", nil
}
