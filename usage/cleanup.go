// This file is the hourly River job that deletes expired Idempotency-Key answers.

package usage

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"photogen/store"
)

// idempotencyKeyTTL is how long Idempotency-Key answers are kept: the API promises at
// least 24 hours; the margin covers clock skew and a late cleanup.
const idempotencyKeyTTL = 48 * time.Hour

// CleanupArgs is the hourly periodic job that deletes expired Idempotency-Key answers.
type CleanupArgs struct{}

// Kind is the job's stable name.
func (CleanupArgs) Kind() string { return "usage_key_cleanup" }

// InsertOpts keeps one cleanup waiting at a time.
func (CleanupArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}
}

// CleanupWorker deletes Idempotency-Key answers older than 48 hours.
type CleanupWorker struct {
	river.WorkerDefaults[CleanupArgs]
	store *store.Store
}

// NewCleanupWorker returns the cleanup worker.
func NewCleanupWorker(s *store.Store) *CleanupWorker { return &CleanupWorker{store: s} }

// Work deletes the expired keys; a database error is retried by River.
func (w *CleanupWorker) Work(ctx context.Context, _ *river.Job[CleanupArgs]) error {
	_, err := w.store.DeleteIdempotencyKeysBefore(ctx, time.Now().Add(-idempotencyKeyTTL))
	return err
}

// CleanupJob is the periodic job the workers run: hourly, and once at start.
func CleanupJob() *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return CleanupArgs{}, nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}
