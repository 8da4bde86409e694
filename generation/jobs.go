// This file holds the River job kinds of a generation. Their kinds and JSON args are
// stable: queued jobs must survive a deploy.

package generation

import (
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
)

// MaxAttempts is how many times a generation job runs before its generation fails.
// Snoozes for rate limits do not count.
const MaxAttempts = 10

// GenerateArgs is the job that makes a subscriber's photos until they have the target.
type GenerateArgs struct {
	SubscriberID uuid.UUID `json:"subscriber_id" river:"unique"`
}

// Kind is the job's stable name in river_job.
func (GenerateArgs) Kind() string { return "generate_photos" }

// InsertOpts makes the job unique per subscriber while it is waiting or running, and
// only then: a completed, cancelled or discarded job does not block a later one, because
// the subscriber's row, not the job, says whether photos are still owed.
func (GenerateArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		MaxAttempts: MaxAttempts,
		UniqueOpts: river.UniqueOpts{
			ByArgs: true,
			ByState: []rivertype.JobState{
				rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
				rivertype.JobStateRetryable, rivertype.JobStateScheduled,
			},
		},
	}
}

// CancelArgs is the job that cancels, at the provider, the predictions still in flight
// of a stopped (refunded or cancelled) generation.
type CancelArgs struct {
	SubscriberID uuid.UUID `json:"subscriber_id"`
}

// Kind is the job's stable name.
func (CancelArgs) Kind() string { return "cancel_predictions" }

// InsertOpts gives the provider's faults a few retries.
func (CancelArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

// NewInserter returns a River client that inserts jobs and never works them, for the
// api and the operator CLI. middleware is River's (tracing.RiverMiddleware: the insert
// writes the trace context into the job).
func NewInserter(pool *pgxpool.Pool, middleware ...rivertype.Middleware) (*river.Client[pgx.Tx], error) {
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Middleware: middleware})
	if err != nil {
		return nil, fmt.Errorf("river insert client: %w", err)
	}
	return client, nil
}
