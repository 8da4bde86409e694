// This file is the job that cancels a stopped generation's predictions in flight.

package worker

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"photogen/generation"
	"photogen/tracing"
)

// CancelWorker works generation.CancelArgs with the generation worker's provider and store.
type CancelWorker struct {
	river.WorkerDefaults[generation.CancelArgs]
	gen *GenerateWorker
}

// Work cancels every in-flight prediction of the subscriber and records it canceled.
func (w *CancelWorker) Work(ctx context.Context, job *river.Job[generation.CancelArgs]) error {
	tracing.Annotate(ctx, tracing.Subscriber(job.Args.SubscriberID)) // the attempt's span, River's
	return w.gen.cancelInFlight(ctx, job.Args.SubscriberID)
}

// cancelInFlight cancels at the provider every prediction of the subscriber still in
// flight, and records them canceled.
func (w *GenerateWorker) cancelInFlight(ctx context.Context, id uuid.UUID) error {
	ledger, err := w.store.LedgerFor(ctx, id)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range ledger.InFlight {
		errs = append(errs, w.cancelOne(ctx, p.ProviderID, "cancelled: generation stopped"))
	}
	return errors.Join(errs...)
}
