// This file wires the serving commands (api, worker, all): it builds each package from
// its configuration and hands the long-lived parts to a group that starts and stops
// them in order.

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/spf13/cobra"

	"photogen/api"
	"photogen/generation"
	"photogen/health"
	"photogen/live"
	"photogen/metrics"
	"photogen/migrations"
	"photogen/photos"
	"photogen/provider"
	"photogen/store"
	"photogen/tracing"
	"photogen/usage"
	"photogen/worker"
)

func serveCmd(e env, mode, short string) *cobra.Command {
	return &cobra.Command{
		Use:   mode,
		Short: short,
		Long:  short + ".\n\nConfiguration is by environment variables; see docs/operations.md.",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			u := map[string]uses{"api": usesAPI, "worker": usesWorker, "all": usesAPI | usesWorker}[mode]
			cfg, err := loadConfig(e.getenv, usesDatabase|u)
			if err != nil {
				return err
			}
			return serve(cmd.Context(), mode, cfg, e)
		},
	}
}

// serve runs the api, the worker, or both, until ctx ends. Start order: database,
// (fake Replicate), HTTP, River; stop order the reverse: River hands its jobs back while
// the api still answers, then HTTP drains, then the pool closes.
func serve(ctx context.Context, mode string, cfg config, e env) error {
	logger := newLogger(cfg, e)
	tr, err := newTracing(ctx, mode, cfg, e, logger)
	if err != nil {
		return err
	}
	defer shutdownTracing(tr, logger) // last: after the pool has closed
	pool, err := openPool(ctx, cfg, tr.InstrumentPool)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrations.Check(ctx, pool); err != nil {
		return fmt.Errorf("%w (run `photogen migrate` first)", err)
	}
	st := store.New(pool)
	m := newMetrics(cfg, st)
	cfg.Photos.S3Transport = s3Transport(tr)
	bucket, photosHandler, err := photos.Open(ctx, cfg.Photos)
	if err != nil {
		return err
	}
	g := &group{logger: logger}

	rc, err := replicateConfig(ctx, g, mode, cfg, logger)
	if err != nil {
		return err
	}
	rc.Transport = tr.Transport("replicate", nil)
	var riverClient *river.Client[pgx.Tx]
	var gw *worker.GenerateWorker
	if mode == "api" {
		riverClient, err = generation.NewInserter(pool, tr.RiverMiddleware()...)
	} else {
		riverClient, gw, err = newWorkerClient(cfg, rc, st, bucket, m, tr, logger)
	}
	if err != nil {
		return err
	}

	handler, addr, maxConns := health.Handler(pool, riverClient, m.Handler()), cfg.WorkerAddr, 0
	var hub *live.Hub
	if mode != "worker" {
		hub = live.NewHub()
		h, err := newAPI(ctx, cfg, rc, st, riverClient, m, photosHandler, tr, hub, logger)
		if err != nil {
			return err
		}
		handler, addr, maxConns = h, cfg.HTTPAddr, cfg.MaxConnections
		// The api's port faces the internet; its metrics get a listener of their own.
		g.add(httpComponent("metrics server", cfg.MetricsAddr, metricsHandler(m), 0, logger, func(bound string) {
			logger.InfoContext(ctx, "metrics served", "addr", bound)
		}))
	}
	g.add(httpComponent("http server", addr, handler, maxConns, logger, func(bound string) {
		logger.InfoContext(ctx, "photogen started", "mode", mode, "addr", bound)
		if cfg.Dev && mode != "worker" {
			newBanner(cfg, e.getenv, bound).print(e.stdout, uuid.New())
		}
	}))
	if hub != nil {
		// After the HTTP server, so stopped before it: its Shutdown waits for the streams.
		g.add(liveComponent(live.NewListener(st, hub, logger), hub))
	}
	if mode != "api" {
		g.add(riverComponent(riverClient, cfg.Worker.SoftStop, func(ctx context.Context) {
			gw.Wakes(ctx, riverClient)
		}))
	}
	if mode != "worker" && cfg.API.JWTSecret == "" {
		logger.WarnContext(ctx, "AUTH_JWT_SECRET is not set: the usage endpoints (/api/usage) are off")
	}
	return g.run(ctx, func() (context.Context, context.CancelFunc) {
		// River's soft stop has its own timeout (SHUTDOWN_SOFT_TIMEOUT) and then cancels
		// the jobs still running; this bound is the last resort of each stop.
		return context.WithTimeout(context.Background(), cfg.Worker.SoftStop+20*time.Second)
	})
}

// newAPI builds the api's handler: the server, its metrics, its spans, photos, usage
// counters and, with an operator token, River UI.
func newAPI(ctx context.Context, cfg config, replicate provider.ReplicateConfig, st *store.Store, rc *river.Client[pgx.Tx], m *metrics.Metrics, photosHandler http.Handler, tr *tracing.Tracing, hub *live.Hub, logger *slog.Logger) (http.Handler, error) {
	var counters *usage.Service
	if cfg.API.JWTSecret != "" {
		counters = usage.NewService(st, cfg.Limits, usage.NewMetrics(m.Registry()))
	}
	srv, err := api.New(cfg.API, st, rc, counters, logger)
	if err != nil {
		return nil, err
	}
	srv.Instrument(m)
	srv.ServeEvents(hub)
	m.RegisterEventStreams(srv.EventStreams)
	if tr.On() {
		srv.Trace(tr.Provider(), tr.Propagator())
	}
	if photosHandler != nil {
		srv.ServePhotos(photosHandler)
	}
	if cfg.WebhookSecret != "" || replicate.Token != "" {
		v, err := provider.NewWebhookVerifier(replicate, cfg.WebhookSecret)
		if err != nil {
			return nil, err
		}
		srv.ServeReplicateWebhooks(v, provider.Refusal)
	} else {
		logger.WarnContext(ctx, "neither REPLICATE_WEBHOOK_SECRET nor REPLICATE_API_TOKEN is set: POST /webhooks/replicate is off")
	}
	if cfg.OperatorToken != "" {
		ui, err := riverUI(ctx, rc, logger)
		if err != nil {
			return nil, err
		}
		srv.ServeAdmin(ui, cfg.OperatorToken)
	}
	return srv.Handler(), nil
}

// newMetrics builds the process's metrics, with the queue read from the database at
// each scrape.
func newMetrics(cfg config, st *store.Store) *metrics.Metrics {
	m := metrics.New()
	if cfg.PredictionCost >= 0 {
		m.SetPredictionCost(cfg.PredictionCost)
	}
	m.RegisterInFlight(st.PredictionsInFlight)
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

// openPool connects to the database, the pool's configuration completed by each of
// configure (tracing's instrumentation).
func openPool(ctx context.Context, cfg config, configure ...func(*pgxpool.Config)) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	pc.MaxConns = cfg.MaxConns
	for _, c := range configure {
		c(pc)
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return pool, nil
}

func newLogger(cfg config, e env) *slog.Logger {
	return slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
}
