package worker

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// CancelArgs is the job that cancels a stopped (refunded) generation's predictions still
// in flight at the provider. It is inserted in the refund's transaction.
type CancelArgs struct {
	SubscriberID uuid.UUID `json:"subscriber_id"`
}

// Kind is the job's stable name.
func (CancelArgs) Kind() string { return "cancel_predictions" }

// InsertOpts gives the provider's faults a few retries.
func (CancelArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

// CancelWorker works CancelArgs with the generation worker's provider and store.
type CancelWorker struct {
	river.WorkerDefaults[CancelArgs]
	gen *GenerateWorker
}

// Work cancels every in-flight prediction of the subscriber and records it canceled.
func (w *CancelWorker) Work(ctx context.Context, job *river.Job[CancelArgs]) error {
	return w.gen.cancelInFlight(ctx, job.Args.SubscriberID)
}

// EnqueueCancelTx inserts, in tx, the job that cancels the subscriber's in-flight predictions.
func EnqueueCancelTx(ctx context.Context, client *river.Client[pgx.Tx], tx pgx.Tx, subscriberID uuid.UUID) error {
	if _, err := client.InsertTx(ctx, tx, CancelArgs{SubscriberID: subscriberID}, nil); err != nil {
		return fmt.Errorf("enqueue cancel for %s: %w", subscriberID, err)
	}
	return nil
}
