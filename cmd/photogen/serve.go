package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"riverqueue.com/riverui"

	"photogen/api"
	"photogen/internal/fakereplicate"
	"photogen/metrics"
	"photogen/migrations"
	"photogen/store"
	"photogen/worker"
)

// serve runs the api, the worker, or both, until ctx ends; then it shuts down in order:
// HTTP first, then River (soft, then cancel), then the pool.
func serve(ctx context.Context, mode string, cfg config, stdout io.Writer, logger *slog.Logger) error {
	if mode != "worker" {
		if err := cfg.API.Validate(); err != nil {
			return err
		}
	}
	pool, err := openPool(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	if err := migrations.Check(ctx, pool); err != nil {
		return fmt.Errorf("%w (run `photogen migrate` first)", err)
	}
	st := store.New(pool)
	m := metrics.New()
	m.SetPredictionCost(cfg.PredictionCost)
	m.RegisterQueue(func(ctx context.Context) (map[string]int, time.Duration, error) {
		q, err := st.Queue(ctx)
		if err != nil || q.OldestAvailable == nil {
			return q.ByState, 0, err
		}
		return q.ByState, *q.OldestAvailable, nil
	})
	photos, photosHandler, err := openPhotos(ctx, cfg.Photos)
	if err != nil {
		return err
	}

	var riverClient *river.Client[pgx.Tx]
	if mode == "api" {
		riverClient, err = worker.InsertOnlyClient(pool)
	} else {
		keeper := &worker.Keeper{Store: photos, MaxBytes: cfg.Photos.MaxBytes}
		riverClient, err = workerClient(ctx, mode, cfg, st, keeper, m, logger)
	}
	if err != nil {
		return err
	}
	if mode != "api" {
		// River stops when its Start context ends; it gets its own so that shutdown
		// can be soft first (see stopRiver).
		if err := riverClient.Start(context.WithoutCancel(ctx)); err != nil {
			return fmt.Errorf("start river: %w", err)
		}
		defer stopRiver(riverClient, cfg.Worker.SoftStop, logger)
	}

	handler, addr := worker.HealthHandler(pool, riverClient, m.Handler()), cfg.WorkerAddr
	if mode != "worker" {
		apiServer := api.New(cfg.API, st, riverClient, logger)
		apiServer.Instrument(m)
		if photosHandler != nil {
			apiServer.ServePhotos(photosHandler)
		}
		if cfg.OperatorTok != "" {
			ui, err := riverUI(ctx, riverClient, logger)
			if err != nil {
				return err
			}
			apiServer.ServeAdmin(ui, cfg.OperatorTok)
		}
		handler, addr = apiServer.Handler(), cfg.HTTPAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	logger.InfoContext(ctx, "photogen started", "mode", mode, "addr", ln.Addr().String())
	if mode != "worker" && cfg.API.JWTSecret == "" {
		logger.WarnContext(ctx, "AUTH_JWT_SECRET is not set: the usage endpoints (/api/usage) are off")
	}
	if cfg.Dev && mode != "worker" {
		printBanner(stdout, ln.Addr().String(), cfg.API.WebhookSecret)
	}

	select {
	case <-ctx.Done():
		logger.Info("shutting down", "mode", mode)
	case err := <-serveErr:
		return fmt.Errorf("http server: %w", err)
	}
	// In order: stop accepting and drain requests; then River (deferred above: soft
	// stop, then cancel); then the pool (deferred first, closed last).
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("http shutdown", "err", err)
	}
	return nil
}

// riverUI returns River UI's handler for the admin routes, started.
func riverUI(ctx context.Context, client *river.Client[pgx.Tx], logger *slog.Logger) (http.Handler, error) {
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(client, nil),
		Logger:    logger,
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

// workerClient builds the provider (a fake one in-process for `all` without a token)
// and the River client that works jobs.
func workerClient(ctx context.Context, mode string, cfg config, st *store.Store, keeper *worker.Keeper, m *metrics.Metrics, logger *slog.Logger) (*river.Client[pgx.Tx], error) {
	if cfg.Replicate.Token == "" {
		if mode != "all" {
			return nil, errors.New("REPLICATE_API_TOKEN is required (only `photogen all` starts a fake Replicate without it)")
		}
		base, err := startFake(ctx, logger)
		if err != nil {
			return nil, err
		}
		cfg.Replicate.Token, cfg.Replicate.BaseURL = "fake", base
		logger.WarnContext(ctx, "REPLICATE_API_TOKEN is not set: using an in-process fake Replicate", "base_url", base)
	}
	provider, err := worker.NewReplicate(cfg.Replicate)
	if err != nil {
		return nil, err
	}
	gw := worker.NewGenerateWorker(st, provider, keeper, cfg.Worker, logger)
	gw.Observe(m)
	return worker.NewClient(st.Pool(), gw, logger)
}

// startFake serves a fake Replicate on a free loopback port for the life of the process
// (it must outlive the worker's soft stop, whose polls it answers).
func startFake(_ context.Context, logger *slog.Logger) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listen for fake replicate: %w", err)
	}
	fake := fakereplicate.New(fakereplicate.Config{Latency: fakereplicate.DefaultLatency, Jitter: fakereplicate.DefaultJitter, Seed: time.Now().UnixNano()})
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("fake replicate stopped", "err", err)
		}
	}()
	return "http://" + ln.Addr().String() + "/v1", nil
}

// stopRiver stops fetching and waits for running jobs; River cancels those still
// running after SHUTDOWN_SOFT_TIMEOUT (SoftStopTimeout), and they go back to the queue
// with their attempt restored.
func stopRiver(c *river.Client[pgx.Tx], soft time.Duration, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), soft+15*time.Second)
	defer cancel()
	if err := c.Stop(ctx); err != nil {
		logger.Error("river did not stop", "err", err)
	}
}

func openPool(ctx context.Context, cfg config) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	pc.MaxConns = cfg.MaxConns
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

func printBanner(w io.Writer, addr, secret string) {
	url := defaultDemoURL(addr)
	fmt.Fprintf(w, `
photogen is running at %s
  development webhook secret: %s
  in another terminal, run the whole flow:
    bin/photogen demo --url %s --webhook-secret %s

`, url, secret, url, secret)
}
