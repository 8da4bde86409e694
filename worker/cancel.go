// This file is the job that cancels a stopped generation's predictions in flight.

package worker

import (
	"context"
	"photogen/generation"

	"github.com/riverqueue/river"
)

// CancelWorker works generation.CancelArgs with the generation worker's provider and store.
type CancelWorker struct {
	river.WorkerDefaults[generation.CancelArgs]
	gen *GenerateWorker
}

// Work cancels every in-flight prediction of the subscriber and records it canceled.
func (w *CancelWorker) Work(ctx context.Context, job *river.Job[generation.CancelArgs]) error {
	return w.gen.cancelInFlight(ctx, job.Args.SubscriberID)
}
