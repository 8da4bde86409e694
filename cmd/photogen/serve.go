// This file wires the serving commands (api, worker, all): it builds each package from
// its configuration and hands the long-lived parts to a group that starts and stops
// them in order.

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/spf13/cobra"

	"photogen/generation"
	"photogen/health"
	"photogen/live"
	"photogen/metrics"
	"photogen/migrations"
	"photogen/photos"
	"photogen/store"
	"photogen/worker"
)

func serveCmd(e env, u uses, short string) *cobra.Command {
	return &cobra.Command{
		Use:   u.mode(),
		Short: short,
		Long:  short + ".\n\nConfiguration is by environment variables; see docs/operations.md.",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(e.getenv, usesDatabase|u)
			if err != nil {
				return err
			}
			return serve(cmd.Context(), u, cfg, e)
		},
	}
}

// serve runs what u says (the api, the worker, or both) until ctx ends. Start order:
// database, (fake Replicate), HTTP, live updates, River; stop order the reverse: River
// hands its jobs back while the api still answers, then HTTP drains, then the pool closes.
func serve(ctx context.Context, u uses, cfg config, e env) error {
	logger := newLogger(cfg, e)
	tr, err := newTracing(ctx, u.mode(), cfg, e, logger)
	if err != nil {
		return err
	}
	defer shutdownTracing(tr, logger) // last: after the pool has closed
	reached := new(metrics.DatabaseClock)
	pool, err := openPool(ctx, cfg, false, tr.InstrumentPool, reachedBy(reached))
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrations.Check(ctx, pool); err != nil {
		return fmt.Errorf("%w (run `photogen migrate` first)", err)
	}
	st := store.New(pool)
	m := newMetrics(cfg, st, reached)
	cfg.Photos.S3Transport = s3Transport(tr)
	bucket, photosHandler, err := photos.Open(ctx, cfg.Photos)
	if err != nil {
		return err
	}
	g := &group{logger: logger}
	if u.has(usesWorker) && u.has(usesAPI) && cfg.Replicate.Token == "" {
		// Only `all` may run without a token (loadConfig checks): a fake Replicate then.
		fake, base, err := newFakeReplicate()
		if err != nil {
			return err
		}
		g.add(fake)
		cfg.Replicate.Token, cfg.Replicate.BaseURL = "fake", base
		logger.WarnContext(ctx, "REPLICATE_API_TOKEN is not set: using an in-process fake Replicate", "base_url", base)
	}
	cfg.Replicate.Transport = tr.Transport("replicate", nil)

	var jobs *river.Client[pgx.Tx]
	var gw *worker.GenerateWorker
	if u.has(usesWorker) {
		jobs, gw, err = newWorkerClient(cfg, st, bucket, m, tr, logger)
	} else {
		jobs, err = generation.NewInserter(pool, tr.RiverMiddleware()...)
	}
	if err != nil {
		return err
	}
	if u.has(usesAPI) {
		err = addAPI(ctx, g, apiParts{u: u, cfg: cfg, st: st, jobs: jobs, m: m, photos: photosHandler, tr: tr, e: e, logger: logger})
	} else {
		g.add(httpComponent("http server", cfg.WorkerAddr, health.Handler(pool, jobs, m.Handler()), 0, logger, func(bound string) {
			logger.InfoContext(ctx, "photogen started", "mode", u.mode(), "addr", bound)
		}))
	}
	if err != nil {
		return err
	}
	if u.has(usesWorker) {
		g.add(riverComponent(jobs, cfg.Worker.SoftStop, func(ctx context.Context) {
			gw.Wakes(ctx, jobs)
		}))
	}
	return g.run(ctx, func() (context.Context, context.CancelFunc) {
		// River's soft stop has its own timeout (SHUTDOWN_SOFT_TIMEOUT) and then cancels
		// the jobs still running; this bound is the last resort of each stop.
		return context.WithTimeout(context.Background(), cfg.Worker.SoftStop+20*time.Second)
	})
}

// newMetrics builds the process's metrics, with the queue read from the database at
// each scrape and the time the pool last reached it (reached, moved by reachedBy).
func newMetrics(cfg config, st *store.Store, reached *metrics.DatabaseClock) *metrics.Metrics {
	m := metrics.New()
	if cfg.PredictionCost >= 0 {
		m.SetPredictionCost(cfg.PredictionCost)
	}
	m.RegisterInFlight(st.PredictionsInFlight)
	m.RegisterDelayed(st.DelayedGenerations)
	m.RegisterDatabaseClock(reached)
	m.RegisterQueue(func(ctx context.Context) (map[string]int, time.Duration, error) {
		q, err := st.Queue(ctx)
		if err != nil || q.OldestAvailable == nil {
			return q.ByState, 0, err
		}
		return q.ByState, *q.OldestAvailable, nil
	})
	return m
}

// riverComponent runs the River client that works jobs, and beside it companion (until
// shutdown). Stop is soft first: no new jobs, running ones may finish; after soft River
// cancels them and they go back to the queue with their attempt restored.
func riverComponent(c *river.Client[pgx.Tx], soft time.Duration, companion func(context.Context)) component {
	return component{
		name: "river",
		start: func(ctx context.Context, failed chan<- error) error {
			// River stops when its Start context ends; it gets its own so that shutdown
			// can be soft first.
			if err := c.Start(context.WithoutCancel(ctx)); err != nil {
				return err
			}
			go companion(ctx)
			go func() {
				<-c.Stopped()
				if ctx.Err() == nil {
					failed <- errors.New("river client stopped")
				}
			}()
			return nil
		},
		stop: c.Stop,
	}
}

// liveComponent runs the live updates' listener. Its stop ends every event stream at once
// (each ends cleanly; the page reconnects to another replica), then the listener.
func liveComponent(l *live.Listener, hub *live.Hub) component {
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	return component{
		name: "live updates",
		start: func(context.Context, chan<- error) error {
			go func() {
				defer close(stopped)
				_ = l.Run(ctx) // returns only when ctx ends
			}()
			return nil
		},
		stop: func(sctx context.Context) error {
			hub.Close()
			cancel()
			select {
			case <-stopped:
				return nil
			case <-sctx.Done():
				return sctx.Err()
			}
		},
	}
}

func newLogger(cfg config, e env) *slog.Logger {
	return slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
}
