package worker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"photogen/store"
)

// runBatch creates n new predictions and waits, in parallel, on them and on the
// in-flight ones a previous attempt left, recording every outcome in the ledger. It
// returns the most telling error of the batch (permanent, then rate limit, then any).
func (w *GenerateWorker) runBatch(ctx context.Context, sub *store.Subscriber, inFlight []string, n int) error {
	errs := make([]error, n+len(inFlight))
	var wg sync.WaitGroup
	for i, id := range inFlight {
		wg.Go(func() { errs[i] = w.await(ctx, id) })
	}
	for i := range n {
		wg.Go(func() { errs[len(inFlight)+i] = w.createAndAwait(ctx, sub) })
	}
	wg.Wait()
	return worst(errs)
}

// errStopped says the generation was stopped (refunded) before a creation.
var errStopped = errors.New("generation stopped")

// createAndAwait creates one prediction and waits for it. Provider throttling with a
// short Retry-After and transient faults are retried in place (a failed create cost
// nothing); a long Retry-After becomes a snooze of the whole job.
func (w *GenerateWorker) createAndAwait(ctx context.Context, sub *store.Subscriber) error {
	for attempt := 0; ; attempt++ {
		p, err := w.createRecorded(ctx, sub)
		if err == nil {
			if p.Status.Terminal() {
				return w.finish(ctx, p)
			}
			return w.await(ctx, p.ID)
		}
		if errors.Is(err, errStopped) {
			return nil
		}
		wait, limited := rateLimited(err)
		switch {
		case limited && wait > maxInProcessWait:
			return &snoozeError{wait: wait}
		case limited && attempt < 8:
		case !limited && !permanent(err) && ctx.Err() == nil && attempt < 4:
			wait = time.Duration(200<<attempt) * time.Millisecond
		default:
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// createRecorded creates a prediction and records it in the ledger, holding a share
// lock on the subscriber's row throughout: a refund waits for it, and once a refund has
// committed no creation starts (errStopped).
func (w *GenerateWorker) createRecorded(ctx context.Context, sub *store.Subscriber) (Prediction, error) {
	var p Prediction
	err := w.store.WithTx(ctx, func(tx *store.Store, _ pgx.Tx) error {
		status, err := tx.ShareLockSubscriber(ctx, sub.ID)
		if err != nil {
			return err
		}
		if status != store.StatusGenerating {
			return errStopped
		}
		if p, err = w.provider.Create(ctx, sub.Prompt); err != nil {
			return err
		}
		// From here the prediction is paid for: its id must reach the ledger.
		return tx.RecordPrediction(ctx, sub.ID, p.ID, store.PredictionStarting)
	})
	if err != nil && p.ID != "" {
		// Created but not recorded (the database failed under us): stop paying for it.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if cerr := w.provider.Cancel(cctx, p.ID); cerr != nil {
			w.logger.ErrorContext(ctx, "prediction created but neither recorded nor cancelled",
				"subscriber_id", sub.ID, "prediction_id", p.ID, "err", cerr)
		}
	}
	return p, err
}

// cancelInFlight cancels at the provider every prediction of the subscriber still in
// flight, and records them canceled.
func (w *GenerateWorker) cancelInFlight(ctx context.Context, id uuid.UUID) error {
	ledger, err := w.store.LedgerFor(ctx, id)
	if err != nil {
		return err
	}
	var errs []error
	for _, pid := range ledger.InFlight {
		if err := w.provider.Cancel(ctx, pid); err != nil {
			errs = append(errs, err)
			continue
		}
		reason := "cancelled: generation stopped"
		errs = append(errs, w.store.FinishPrediction(ctx, pid, store.PredictionCanceled, nil, &reason))
	}
	return errors.Join(errs...)
}

// await polls the prediction until it is final, then records it. One that is not final
// within PredictionTimeout is cancelled at the provider and recorded as canceled, so
// that the next batch replaces it.
func (w *GenerateWorker) await(ctx context.Context, id string) error {
	deadline := time.Now().Add(w.cfg.PredictionTimeout)
	ticker := time.NewTicker(w.cfg.PollInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
		p, err := w.provider.Get(ctx, id)
		switch {
		case err != nil && permanent(err):
			return err
		case err == nil && p.Status.Terminal():
			return w.finish(ctx, p)
		}
		if time.Now().After(deadline) {
			if err := w.provider.Cancel(ctx, id); err != nil {
				return err
			}
			reason := fmt.Sprintf("not finished after %s; cancelled", w.cfg.PredictionTimeout)
			return w.store.FinishPrediction(ctx, id, store.PredictionCanceled, nil, &reason)
		}
	}
}

// finish records a final prediction. A success without an image (the provider's safety
// filter can drop it) counts as failed, to be replaced.
func (w *GenerateWorker) finish(ctx context.Context, p Prediction) error {
	if p.Status == store.PredictionSucceeded {
		if len(p.OutputURLs) == 0 {
			reason := "succeeded without an image"
			return w.store.FinishPrediction(ctx, p.ID, store.PredictionFailed, nil, &reason)
		}
		return w.store.FinishPrediction(ctx, p.ID, store.PredictionSucceeded, &p.OutputURLs[0], nil)
	}
	reason := p.Error
	if reason == "" {
		reason = "prediction " + string(p.Status)
	}
	return w.store.FinishPrediction(ctx, p.ID, p.Status, nil, &reason)
}

func worst(errs []error) error {
	var limited, other error
	for _, err := range errs {
		var snooze *snoozeError
		switch _, rl := rateLimited(err); {
		case err == nil:
		case permanent(err):
			return err
		case errors.As(err, &snooze) && limited == nil:
			limited = err
		case rl && limited == nil:
			limited = err
		case other == nil:
			other = err
		}
	}
	if limited != nil {
		return limited
	}
	return other
}
