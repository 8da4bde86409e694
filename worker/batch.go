package worker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

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

func (w *GenerateWorker) createAndAwait(ctx context.Context, sub *store.Subscriber) error {
	p, err := w.provider.Create(ctx, sub.Prompt)
	if err != nil {
		return err
	}
	// From here the prediction is paid for: its id must reach the ledger.
	if err := w.record(ctx, sub, p); err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if cerr := w.provider.Cancel(cctx, p.ID); cerr != nil {
			w.logger.ErrorContext(ctx, "prediction created but not recorded nor cancelled",
				"subscriber_id", sub.ID, "prediction_id", p.ID, "err", cerr)
		}
		return err
	}
	if p.Status.Terminal() {
		return w.finish(ctx, p)
	}
	return w.await(ctx, p.ID)
}

// record writes a new prediction to the ledger, retrying briefly through a database
// blip: losing the id would mean paying for a photo we never see.
func (w *GenerateWorker) record(ctx context.Context, sub *store.Subscriber, p Prediction) error {
	var err error
	for i := range 5 {
		if err = w.store.RecordPrediction(ctx, sub.ID, p.ID, store.PredictionStarting); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(i+1) * 200 * time.Millisecond):
		}
	}
	return err
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
		switch _, rl := rateLimited(err); {
		case err == nil:
		case permanent(err):
			return err
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
