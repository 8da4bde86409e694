// This file runs one batch of predictions: create, await, record, keep the photo.

package worker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/google/uuid"

	"photogen/photos"
	"photogen/provider"
	"photogen/store"

	"photogen/generation"
)

// runBatch creates n new predictions and waits, in parallel, on them and on the
// in-flight ones a previous attempt left, recording every outcome in the ledger. It
// returns the most telling error of the batch (permanent, then rate limit, then any).
func (w *GenerateWorker) runBatch(ctx context.Context, sub *generation.Subscriber, inFlight []string, n int) error {
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
func (w *GenerateWorker) createAndAwait(ctx context.Context, sub *generation.Subscriber) error {
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
		wait, limited := provider.RateLimited(err)
		switch {
		case limited && wait > maxInProcessWait:
			return &snoozeError{wait: wait}
		case limited && attempt < 8:
		case !limited && !provider.Permanent(err) && ctx.Err() == nil && attempt < 4:
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

// createRecorded creates a prediction and records it in the ledger. An intent with a
// random seed is committed first; the create call then runs under a share lock on the
// subscriber's row (a refund waits for it, and once a refund has committed no creation
// starts: errStopped). A refused create abandons the intent; an answer that may have
// been lost (network, 5xx, the database failing) is reconciled at once through Find, so
// a prediction that exists is adopted rather than paid for again.
func (w *GenerateWorker) createRecorded(ctx context.Context, sub *generation.Subscriber) (provider.Prediction, error) {
	seed := rand.Int64N(1<<31-1) + 1
	intent, err := w.store.AddIntent(ctx, sub.ID, seed)
	if err != nil {
		return provider.Prediction{}, err
	}
	started := time.Now()
	var p provider.Prediction
	err = w.store.WithTx(ctx, func(tx *store.Store) error {
		status, err := tx.ShareLockSubscriber(ctx, sub.ID)
		if err != nil {
			return err
		}
		if status != generation.StatusGenerating {
			return errStopped
		}
		if p, err = w.provider.Create(ctx, sub.Prompt, seed); err != nil {
			return err
		}
		return tx.ResolveIntent(ctx, intent, p.ID, generation.PredictionStarting)
	})
	var pe *provider.Error
	switch {
	case err == nil:
		return p, nil
	case errors.Is(err, errStopped), errors.As(err, &pe) && pe.Status < 500:
		// Nothing was created: a refusal, or the generation stopped before the call.
		if aerr := w.store.AbandonIntent(ctx, intent, err.Error()); aerr != nil {
			return provider.Prediction{}, errors.Join(err, aerr)
		}
		return provider.Prediction{}, err
	}
	found, rerr := w.reconcile(ctx, sub, store.Intent{ID: intent, Seed: seed, CreatedAt: started})
	if rerr != nil {
		return provider.Prediction{}, errors.Join(err, rerr)
	}
	if found != nil {
		return *found, nil
	}
	return provider.Prediction{}, err
}

// reconcile settles an intent whose create answer never reached the ledger: the
// prediction the provider has with its seed is adopted, and when there is none the
// intent is abandoned. It returns the adopted prediction, or nil.
func (w *GenerateWorker) reconcile(ctx context.Context, sub *generation.Subscriber, in store.Intent) (*provider.Prediction, error) {
	// A minute of margin for the clocks of the database and the provider.
	p, found, err := w.provider.Find(ctx, in.Seed, sub.Prompt, in.CreatedAt.Add(-time.Minute))
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, w.store.AbandonIntent(ctx, in.ID, "not created at the provider")
	}
	w.logger.InfoContext(ctx, "adopted a prediction whose create answer was lost",
		"subscriber_id", sub.ID, "prediction_id", p.ID)
	if err := w.store.ResolveIntent(ctx, in.ID, p.ID, generation.PredictionStarting); err != nil {
		return nil, err
	}
	return &p, nil
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
		w.obs.PredictionFinished(string(generation.PredictionCanceled))
		errs = append(errs, w.store.FinishPrediction(ctx, pid, generation.PredictionCanceled, nil, nil, &reason))
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
		case err != nil && provider.Permanent(err):
			return err
		case err == nil && p.Status.Terminal():
			return w.finish(ctx, p)
		}
		if time.Now().After(deadline) {
			if err := w.provider.Cancel(ctx, id); err != nil {
				return err
			}
			reason := fmt.Sprintf("not finished after %s; cancelled", w.cfg.PredictionTimeout)
			w.obs.PredictionFinished(string(generation.PredictionCanceled))
			return w.store.FinishPrediction(ctx, id, generation.PredictionCanceled, nil, nil, &reason)
		}
	}
}

// finish records a final prediction. A success counts only once its image is in our
// storage: an output gone for good, not an image, or too large counts as failed (and is
// replaced), as does a success without an image (the provider's safety filter can drop
// it). A storage fault that retrying may cure is returned, and the prediction stays in
// flight in the ledger for the next attempt.
func (w *GenerateWorker) finish(ctx context.Context, p provider.Prediction) error {
	w.obs.PredictionFinished(string(p.Status))
	if p.Status != generation.PredictionSucceeded {
		reason := p.Error
		if reason == "" {
			reason = "prediction " + string(p.Status)
		}
		return w.store.FinishPrediction(ctx, p.ID, p.Status, nil, nil, &reason)
	}
	if len(p.OutputURLs) == 0 {
		reason := "succeeded without an image"
		return w.store.FinishPrediction(ctx, p.ID, generation.PredictionFailed, nil, nil, &reason)
	}
	providerURL := p.OutputURLs[0]
	ours, err := w.keeper.Keep(ctx, p.ID, providerURL)
	if errors.Is(err, photos.ErrGone) || errors.Is(err, photos.ErrNotImage) || errors.Is(err, photos.ErrTooLarge) {
		reason := "output unusable: " + err.Error()
		return w.store.FinishPrediction(ctx, p.ID, generation.PredictionFailed, nil, &providerURL, &reason)
	}
	if err != nil {
		return err
	}
	return w.store.FinishPrediction(ctx, p.ID, generation.PredictionSucceeded, &ours, &providerURL, nil)
}

func worst(errs []error) error {
	var limited, other error
	for _, err := range errs {
		var snooze *snoozeError
		switch _, rl := provider.RateLimited(err); {
		case err == nil:
		case provider.Permanent(err):
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
