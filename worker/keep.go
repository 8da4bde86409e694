// This file keeps the photos of finished predictions: downloaded from the provider,
// checked, and stored in our bucket before they count.

package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"

	"photogen/photos"
	"photogen/store"
	"photogen/tracing"
)

// keepFinished keeps the image of every finished prediction of the subscriber, up to
// BatchSize at once. An output gone for good, not an image or too large counts as
// failed (and is replaced). A storage fault that retrying may cure is returned, and the
// prediction stays finished in the ledger for the next turn or attempt.
func (w *GenerateWorker) keepFinished(ctx context.Context, log *slog.Logger, id uuid.UUID) error {
	ledger, err := w.store.LedgerFor(ctx, id)
	if err != nil || len(ledger.ToKeep) == 0 {
		return err
	}
	errs := make([]error, len(ledger.ToKeep))
	sem := make(chan struct{}, w.cfg.BatchSize)
	var wg sync.WaitGroup
	for i, f := range ledger.ToKeep {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = w.keep(ctx, log, id, f)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// keep keeps one finished prediction's photo, in a span of its own (the download and
// the storage calls are its children).
func (w *GenerateWorker) keep(ctx context.Context, log *slog.Logger, sub uuid.UUID, f store.Finished) (err error) {
	ctx, span := w.span(ctx, "prediction.keep", tracing.Subscriber(sub), tracing.Prediction(f.ProviderID))
	defer func() { tracing.End(span, err) }()
	ours, err := w.keeper.Keep(ctx, f.ProviderID, f.OutputURL)
	if errors.Is(err, photos.ErrGone) || errors.Is(err, photos.ErrNotImage) || errors.Is(err, photos.ErrTooLarge) {
		log.WarnContext(ctx, "prediction output unusable", "prediction_id", f.ProviderID, "err", err)
		w.obs.PredictionFinished("failed")
		return w.store.DiscardFinished(ctx, f.ProviderID, "output unusable: "+err.Error())
	}
	if err != nil {
		return err
	}
	if err := w.store.KeepPrediction(ctx, f.ProviderID, ours); err != nil {
		return err
	}
	w.obs.PredictionFinished("succeeded")
	w.obs.PhotoKept(time.Since(f.CompletedAt))
	return nil
}
