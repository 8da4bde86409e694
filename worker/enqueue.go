package worker

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"photogen/store"
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

// RequestTx makes sure the subscriber's owed photos are being generated, inside tx: it
// locks the subscriber's row, queues a failed generation again (it continues from the
// ledger), and enqueues the job idempotently while photos are owed. It returns the
// subscriber as it now is; for awaiting_payment, completed and refunded nothing changes,
// and the caller says why.
func RequestTx(ctx context.Context, tx *store.Store, raw pgx.Tx, client *river.Client[pgx.Tx], id uuid.UUID) (*store.Subscriber, error) {
	sub, err := tx.LockSubscriber(ctx, id)
	if err != nil {
		return nil, err
	}
	switch sub.Status {
	case store.StatusAwaitingPayment, store.StatusCompleted, store.StatusRefunded:
		return sub, nil
	case store.StatusFailed:
		if sub, err = tx.RequeueGeneration(ctx, id); err != nil {
			return nil, err
		}
	}
	if _, err := EnqueueTx(ctx, client, raw, id); err != nil {
		return nil, err
	}
	return sub, nil
}
