package worker

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// InsertOnlyClient returns a River client that inserts jobs and never works them, for
// the api process.
func InsertOnlyClient(pool *pgxpool.Pool) (*river.Client[pgx.Tx], error) {
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{})
	if err != nil {
		return nil, fmt.Errorf("river insert client: %w", err)
	}
	return client, nil
}

// EnqueueTx inserts the subscriber's generation job in tx. It is idempotent: while a job
// for the subscriber is available, pending, running, retryable or scheduled, it returns
// that job and inserts nothing (duplicate is then true). The insert commits or rolls back
// with the caller's other writes.
func EnqueueTx(ctx context.Context, client *river.Client[pgx.Tx], tx pgx.Tx, subscriberID uuid.UUID) (duplicate bool, err error) {
	res, err := client.InsertTx(ctx, tx, GenerateArgs{SubscriberID: subscriberID}, nil)
	if err != nil {
		return false, fmt.Errorf("enqueue generation for %s: %w", subscriberID, err)
	}
	return res.UniqueSkippedAsDuplicate, nil
}
