// This file holds the use-cases: each takes the caller's transaction and decides, in
// one place, what a payment, a refund, a request or a cancellation does.

package generation

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"photogen/tracing"
)

// ErrNothingToCancel is returned by Cancel when the generation is not queued or generating.
var ErrNothingToCancel = errors.New("nothing to cancel")

// Pay records a subscriber's payment: awaiting_payment becomes queued, and while photos
// are owed the generation job is inserted (idempotently: a waiting or running job is
// found, not doubled). It returns the subscriber as it now is.
func Pay(ctx context.Context, db DB, jobs Inserter, id uuid.UUID, paymentIntent string) (*Subscriber, error) {
	sub, err := db.MarkPaid(ctx, id, paymentIntent)
	if err != nil {
		return nil, err
	}
	if sub.Status.Owed() {
		if err := enqueue(ctx, db, jobs, GenerateArgs{SubscriberID: id}, id); err != nil {
			return nil, err
		}
	}
	return sub, nil
}

// Refund stops a subscriber's generation for good: queued, generating and failed become
// refunded (a completed one stays completed), and the predictions still in flight are
// cancelled at the provider by a job inserted in the same transaction.
func Refund(ctx context.Context, db DB, jobs Inserter, id uuid.UUID) (*Subscriber, error) {
	sub, err := db.Refund(ctx, id)
	if err != nil {
		return nil, err
	}
	if sub.Status == StatusRefunded {
		if err := enqueue(ctx, db, jobs, CancelArgs{SubscriberID: id}, id); err != nil {
			return nil, err
		}
	}
	return sub, nil
}

// Request makes sure the subscriber's owed photos are being generated (generate-paid,
// or an operator's retry): it locks the row, queues a failed generation again (it
// continues from the ledger), and inserts the job idempotently while photos are owed.
// For awaiting_payment, completed and refunded nothing changes; the caller says why.
func Request(ctx context.Context, db DB, jobs Inserter, id uuid.UUID) (*Subscriber, error) {
	sub, err := db.LockSubscriber(ctx, id)
	if err != nil {
		return nil, err
	}
	if sub.Status == StatusFailed {
		if sub, err = db.RequeueGeneration(ctx, id); err != nil {
			return nil, err
		}
	}
	if sub.Status.Owed() {
		if err := enqueue(ctx, db, jobs, GenerateArgs{SubscriberID: id}, id); err != nil {
			return nil, err
		}
	}
	return sub, nil
}

// Cancel ends a queued or generating generation as failed with reason, and cancels its
// in-flight predictions at the provider. It returns ErrNothingToCancel otherwise.
func Cancel(ctx context.Context, db DB, jobs Inserter, id uuid.UUID, reason string) error {
	stopped, err := db.FailGeneration(ctx, id, reason)
	if err != nil {
		return err
	}
	if !stopped {
		return ErrNothingToCancel
	}
	return enqueue(ctx, db, jobs, CancelArgs{SubscriberID: id}, id)
}

// enqueue inserts args in the caller's transaction; the span under way (the webhook's,
// the request's) names the subscriber, and its trace goes with the job. A new job is
// announced to the workers in the same transaction: River's own announcement is sent at
// most once per 100 ms per queue by each inserting process, and a payment that follows a
// webhook's wake-up that closely would otherwise wait for the workers' next poll (1 s).
func enqueue(ctx context.Context, db DB, jobs Inserter, args river.JobArgs, id uuid.UUID) error {
	tracing.Annotate(ctx, tracing.Subscriber(id))
	res, err := jobs.InsertTx(ctx, db.Tx(), args, nil)
	if err != nil {
		return fmt.Errorf("enqueue %s for %s: %w", args.Kind(), id, err)
	}
	if res.UniqueSkippedAsDuplicate || res.Job.State != rivertype.JobStateAvailable {
		return nil
	}
	return notifyInsert(ctx, db.Tx(), jobs, res.Job.Queue)
}
