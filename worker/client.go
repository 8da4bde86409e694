// This file builds the River client that works photogen's jobs.

package worker

import (
	"fmt"
	"log/slog"
	"photogen/usage"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// NewClient returns a River client that works generation jobs with gw, up to
// cfg.Concurrency at once, and the hourly cleanup of expired Idempotency-Key answers.
// It also inserts jobs, so one process can do both. middleware is River's
// (tracing.RiverMiddleware: each attempt continues the trace that inserted its job).
func NewClient(pool *pgxpool.Pool, gw *GenerateWorker, logger *slog.Logger, middleware ...rivertype.Middleware) (*river.Client[pgx.Tx], error) {
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, gw); err != nil {
		return nil, fmt.Errorf("register worker: %w", err)
	}
	if err := river.AddWorkerSafely(workers, &CancelWorker{gen: gw}); err != nil {
		return nil, fmt.Errorf("register cancel worker: %w", err)
	}
	if err := river.AddWorkerSafely(workers, usage.NewCleanupWorker(gw.store)); err != nil {
		return nil, fmt.Errorf("register cleanup worker: %w", err)
	}
	cfg := gw.cfg
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Concurrency}},
		Workers:              workers,
		PeriodicJobs:         []*river.PeriodicJob{usage.CleanupJob()},
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		// After SoftStop, running jobs are cancelled; River puts them back in the queue
		// with their attempt restored (their in-flight predictions stay in the ledger).
		SoftStopTimeout:   cfg.SoftStop,
		FetchPollInterval: cfg.FetchPollInterval,
		// A webhook's wake-up inserts a job and notifies; a short cooldown lets the
		// worker fetch it at once rather than up to 100 ms later.
		FetchCooldown: min(cfg.FetchCooldown, cfg.FetchPollInterval),
		Logger:        logger,
		Middleware:    middleware,
	})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	return client, nil
}
